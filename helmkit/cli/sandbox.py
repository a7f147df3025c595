"""`helmkit sandbox up|status|down|serve`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions import sandbox as action
from helmkit.cli.options import env_option, kubeconfig_option
from helmkit.context import Context

KUBECONFIG_HELP = "Where to write the kubeconfig (mode 0600). Default: .helmkit/sandbox/kubeconfig."


@click.group("sandbox")
def command() -> None:
    """Run the built-in sandbox Kubernetes API server: one local cluster per cluster of an environment."""


@command.command("up")
@env_option()
@kubeconfig_option(KUBECONFIG_HELP)
@click.pass_obj
def up(ctx: Context, env: str, kubeconfig: Path | None) -> None:
    """Start a background sandbox for every cluster of ENV and write its kubeconfig."""
    action.up(ctx, action.SandboxOptions(env=env, kubeconfig=kubeconfig))


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


@command.command("serve")
@env_option()
@kubeconfig_option(KUBECONFIG_HELP)
@click.pass_obj
def serve(ctx: Context, env: str, kubeconfig: Path | None) -> None:
    """Serve the clusters of ENV in the foreground until Ctrl-C."""
    action.serve(ctx, action.SandboxOptions(env=env, kubeconfig=kubeconfig))
