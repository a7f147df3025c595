"""`helmkit list`."""

from __future__ import annotations

import click

from helmkit.actions.list_releases import ListOptions, run_list
from helmkit.actions.shards import list_shards
from helmkit.cli.options import cluster_option, env_option, format_option, selector_option, set_option
from helmkit.context import Context
from helmkit.output.release_table import FORMATS


@click.command("list")
@env_option()
@cluster_option()
@selector_option()
@format_option(FORMATS)
@set_option()
@click.option("--shards", type=int, metavar="N",
              help="Instead: the clusters of each shard of N (what --shard I/N runs; docs/sharding.md).")
@click.pass_obj
def command(
    ctx: Context, *, env: str, cluster: str | None, selector: str | None, fmt: str, set_values: tuple[str, ...],
    shards: int | None,
) -> int:
    """List the releases x clusters of an environment: chart, version, namespace, enabled.

    \b
    With --shards N: which clusters each of N shards takes (`--shard 1/N` .. `--shard N/N`).
    """
    if shards is not None:
        return list_shards(ctx, env, shards, cluster=cluster, fmt=fmt)
    return run_list(ctx, ListOptions(env, cluster, selector, fmt, list(set_values)))
