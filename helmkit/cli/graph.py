"""`helmkit graph`."""

from __future__ import annotations

import click

from helmkit.actions.graph import GraphOptions, run_graph
from helmkit.cli.options import cluster_option, env_option, format_option
from helmkit.context import Context
from helmkit.output.graph_view import FORMATS


@click.command("graph")
@env_option()
@cluster_option()
@format_option(FORMATS)
@click.pass_obj
def command(ctx: Context, env: str, cluster: str | None, fmt: str) -> int:
    """Show the `needs` graph of an environment's clusters and their rollout levels."""
    return run_graph(ctx, GraphOptions(env, cluster, fmt))
