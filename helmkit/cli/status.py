"""`helmkit status`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions.status import StatusOptions, status
from helmkit.cli.options import (
    cluster_option,
    env_option,
    format_option,
    kubeconfig_option,
    selector_option,
    shard_option,
)
from helmkit.context import Context


@click.command("status")
@env_option()
@cluster_option()
@selector_option()
@format_option(("text", "json"))
@kubeconfig_option()
@shard_option()
@click.pass_obj
def command(ctx: Context, *, env: str, cluster: str | None, selector: str | None, fmt: str,
            kubeconfig: Path | None) -> int:
    """Show clusters x releases: chart, revision, Helm status, last deployed, in sync or not."""
    if kubeconfig is not None:
        ctx.kubeconfig = kubeconfig
    return status(ctx, StatusOptions(env=env, cluster=cluster, selector=selector, fmt=fmt))
