"""`helmkit cache prune`."""

from __future__ import annotations

import click

from helmkit.actions.cache import PruneOptions, prune
from helmkit.context import Context


@click.group("cache")
def command() -> None:
    """Manage helmkit's caches in .helmkit/cache."""


@command.command("prune")
@click.option("--max-age", "max_age_days", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Drop entries not used for this many days.")
@click.option("--max-size", "max_size_mb", type=click.FloatRange(min=0), default=512.0, show_default=True,
              help="Then drop the least recently used entries until each cache holds at most this many MB.")
@click.option("--all", "all_entries", is_flag=True, help="Empty the caches.")
@click.pass_obj
def prune_command(ctx: Context, *, max_age_days: float, max_size_mb: float, all_entries: bool) -> int:
    """Trim the render and helm-version caches by age and size."""
    return prune(ctx, PruneOptions(max_age_days, max_size_mb, all_entries))
