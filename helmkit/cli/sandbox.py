"""`helmkit sandbox up|status|down|reset|serve`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions import sandbox as action
from helmkit.cli.options import kubeconfig_option
from helmkit.context import Context

KUBECONFIG_HELP = "Where to write the kubeconfig (mode 0600). Default: .helmkit/sandbox/kubeconfig."


@click.group("sandbox")
def command() -> None:
    """Run the built-in sandbox Kubernetes API server: one local cluster per cluster of an environment."""


@command.command("up")
@click.option("--env", "-e", "envs", required=True, multiple=True, metavar="ENV",
              help="Environment (environments/<env>.yaml). Repeat for several.")
@kubeconfig_option(KUBECONFIG_HELP)
@click.pass_obj
def up(ctx: Context, envs: tuple[str, ...], kubeconfig: Path | None) -> None:
    """Start a background sandbox for every cluster of ENV (or add them to the running one) and write
    a kubeconfig with the contexts of every environment it serves."""
    action.up(ctx, action.SandboxOptions(envs=envs, kubeconfig=kubeconfig))


@command.command("status")
@click.pass_obj
def status(ctx: Context) -> None:
    """Show whether the background sandbox runs, and its clusters."""
    action.status(ctx)


@command.command("down")
@click.pass_obj
def down(ctx: Context) -> None:
    """Stop the background sandbox (its objects are kept for the next `up`)."""
    action.down(ctx)


@command.command("reset")
@click.pass_obj
def reset(ctx: Context) -> None:
    """Stop the background sandbox and forget its objects (the next `up` starts empty)."""
    action.reset(ctx)


@command.command("serve")
@click.option("--env", "-e", "envs", required=True, multiple=True, metavar="ENV",
              help="Environment (environments/<env>.yaml). Repeat for several.")
@kubeconfig_option(KUBECONFIG_HELP)
@click.pass_obj
def serve(ctx: Context, envs: tuple[str, ...], kubeconfig: Path | None) -> None:
    """Serve the clusters of ENV in the foreground until Ctrl-C."""
    action.serve(ctx, action.SandboxOptions(envs=envs, kubeconfig=kubeconfig))
