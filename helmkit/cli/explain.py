"""`helmkit explain`."""

from __future__ import annotations

import click

from helmkit.actions.explain import ExplainOptions, run_explain
from helmkit.cli.completion import complete_release
from helmkit.cli.options import cluster_option, env_option, format_option, set_option
from helmkit.context import Context


@click.command("explain")
@click.argument("release", shell_complete=complete_release)
@env_option()
@cluster_option()
@format_option(("text", "json"))
@set_option()
@click.pass_obj
def command(
    ctx: Context, *, release: str, env: str, cluster: str | None, fmt: str, set_values: tuple[str, ...]
) -> int:
    """Show RELEASE's merged fields and values, each with its layer and file:line."""
    return run_explain(ctx, ExplainOptions(release, env, cluster, fmt, list(set_values)))
