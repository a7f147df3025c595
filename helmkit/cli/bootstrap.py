"""`helmkit bootstrap`."""

from __future__ import annotations

import click

from helmkit.adapters import tools
from helmkit.context import Context


@click.command("bootstrap")
@click.option("--with-helmfile", is_flag=True, help="Also install helmfile 0.166.0 + helm 3.15.3 (benchmarks).")
@click.pass_obj
def command(ctx: Context, with_helmfile: bool) -> None:
    """Install the pinned helm 3 and 4 (and kubectl) binaries, checked by sha256."""
    folders = tools.DEFAULT_SET + (tools.COMPARISON_SET if with_helmfile else ())
    for path in tools.install(ctx.repo, ctx.runner, folders):
        ctx.console.print(str(path.relative_to(ctx.repo) if path.is_relative_to(ctx.repo) else path))
