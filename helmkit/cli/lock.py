"""`helmkit lock`."""

from __future__ import annotations

import click

from helmkit.actions.lock import LockOptions, lock
from helmkit.context import Context


@click.command("lock")
@click.option("--check", is_flag=True, help="Do not write; exit 1 when helmkit.lock is stale.")
@click.option("--prerelease", is_flag=True, help="Let constraints match prerelease versions.")
@click.pass_obj
def command(ctx: Context, *, check: bool, prerelease: bool) -> int:
    """Resolve chart version constraints against their repositories and write helmkit.lock."""
    return lock(ctx, LockOptions(check=check, include_prerelease=prerelease))
