"""`helmkit version`."""

from __future__ import annotations

import click

from helmkit.actions.version import show_version
from helmkit.context import Context


@click.command("version")
@click.pass_obj
def command(ctx: Context) -> None:
    """Print helmkit's version and the helm binary and version it will use."""
    show_version(ctx)
