"""`helmkit bootstrap`."""

from __future__ import annotations

import click

from helmkit.actions.bootstrap import BootstrapOptions, bootstrap
from helmkit.context import Context


@click.command("bootstrap")
@click.option("--with-helmfile", is_flag=True, help="Also install helmfile 0.166.0 + helm 3.15.3 (import, benchmarks).")
@click.pass_obj
def command(ctx: Context, with_helmfile: bool) -> int:
    """Install the pinned helm 3 and 4 (and kubectl) binaries, checked by sha256 (Linux x86_64 builds).

    On another platform (macOS, arm64) nothing is installed and the helm on PATH is used.
    """
    return bootstrap(ctx, BootstrapOptions(with_helmfile=with_helmfile))
