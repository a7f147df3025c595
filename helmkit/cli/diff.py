"""`helmkit diff`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions.diff import DiffOptions, diff
from helmkit.cli.options import cluster_option, env_option, format_option, selector_option, set_option
from helmkit.context import Context


@click.command("diff")
@env_option()
@cluster_option()
@selector_option()
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when anything differs (1 stays an error).")
@format_option(("text", "json", "markdown"))
@click.option("--context", "context_lines", type=click.IntRange(min=0), default=3, show_default=True,
              help="Lines of context around each change.")
@click.option("--show-secrets", is_flag=True, help="Show Secret data and secret values unmasked (never in CI).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="kubeconfig file to use.")
@click.option("--concurrency", type=click.IntRange(min=1), help="helm template processes in parallel.")
@set_option()
@click.pass_obj
def command(ctx: Context, *, env: str, cluster: str | None, selector: str | None, detailed_exitcode: bool, fmt: str,
            context_lines: int, show_secrets: bool, kubeconfig: Path | None, concurrency: int | None,
            set_values: tuple[str, ...]) -> int:
    """Show what sync would change in each cluster: objects, hooks, chart and values (secrets masked)."""
    if kubeconfig is not None:
        ctx.kubeconfig = kubeconfig
    return diff(ctx, DiffOptions(env=env, cluster=cluster, selector=selector, detailed_exitcode=detailed_exitcode,
                                 fmt=fmt, context=context_lines, show_secrets=show_secrets, set_values=set_values,
                                 concurrency=concurrency))
