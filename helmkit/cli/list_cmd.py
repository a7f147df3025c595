"""`helmkit list`."""

from __future__ import annotations

import click

from helmkit.actions.list_releases import ListOptions, run_list
from helmkit.cli.options import cluster_option, env_option, format_option, selector_option, set_option
from helmkit.context import Context
from helmkit.output.release_table import FORMATS


@click.command("list")
@env_option()
@cluster_option()
@selector_option()
@format_option(FORMATS)
@set_option()
@click.pass_obj
def command(
    ctx: Context, *, env: str, cluster: str | None, selector: str | None, fmt: str, set_values: tuple[str, ...]
) -> int:
    """List the releases x clusters of an environment: chart, version, namespace, enabled."""
    return run_list(ctx, ListOptions(env, cluster, selector, fmt, list(set_values)))
