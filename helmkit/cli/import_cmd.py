"""`helmkit import`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions.importer import ImportOptions, import_helmfile
from helmkit.context import Context


@click.command("import")
@click.argument("helmfile", type=click.Path(path_type=Path))
@click.option("-e", "--env", "envs", multiple=True, metavar="ENV",
              help="helmfile environment to import (repeatable; default: every environment the helmfile declares).")
@click.option("--to", "target", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the helmkit repository into (empty or new).")
@click.option("--force", is_flag=True,
              help="Replace helmkit.yaml, releases/, environments/, values/, charts/, schemas/ in --to.")
@click.option("--helmfile", "helmfile_binary", metavar="PATH",
              help="helmfile binary (else $HELMKIT_HELMFILE, the bootstrapped helmfile, helmfile on PATH).")
@click.pass_obj
def command(ctx: Context, *, helmfile: Path, envs: tuple[str, ...], target: Path, force: bool,
            helmfile_binary: str | None) -> int:
    """Write a helmkit repository from a helmfile (evaluated by helmfile itself).

    Releases, environments, a cluster per kubeContext, values files, set values, needs, labels and
    installed (as enabled) are translated. What cannot be (hooks, secrets, patches, ...) is listed
    with the helmfile's file:line and what to do; the repository is written without it and the
    exit code is 2. Exit 0: everything translated; 1: nothing written.
    """
    return import_helmfile(ctx, ImportOptions(helmfile=helmfile, target=target, envs=envs, force=force,
                                              helmfile_binary=helmfile_binary))
