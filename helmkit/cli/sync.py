"""`helmkit sync`."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from helmkit.actions.sync import SyncOptions, sync
from helmkit.cli.options import cluster_option, env_option, kubeconfig_option, selector_option, set_option, shard_option
from helmkit.context import Context


def _set_wave(click_ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    ctx = click_ctx.find_object(Context)
    if value is not None and ctx is not None:
        ctx.cluster_filter = replace(ctx.cluster_filter, wave=value)


def _ask(question: str) -> bool:
    return click.confirm(question, default=False, err=True)


@click.command("sync")
@env_option()
@cluster_option()
@selector_option()
@click.option("--concurrency", type=click.IntRange(min=1), help="Releases in parallel per cluster.")
@click.option("--dry-run", is_flag=True, help="Print the plan with each step's helm command; change nothing.")
@click.option("--prune", is_flag=True, help="Uninstall releases helmkit installed that are gone from the specs.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--break-lock", is_flag=True,
              help="Take over a lock whose lease has not expired yet (never one held by a live process on this host).")
@click.option("--recover", is_flag=True, help="Roll back or uninstall releases stuck in pending-* first.")
@click.option("--adopt", is_flag=True, help="Take over releases of the same name not installed by helmkit.")
@click.option("--skip-gates", is_flag=True,
              help="Emergencies only: run no rollout gate (a broken wave will not stop the rollout).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the summary and the gates' outcomes (with evidence) as JSON to FILE.")
@click.option("--no-repair", is_flag=True,
              help="Leave live drift of releases in sync with their record (hand edits, deleted objects) alone.")
@kubeconfig_option()
@set_option()
@shard_option()
@click.option("--wave", type=click.IntRange(min=0), metavar="N", callback=_set_wave, expose_value=False,
              help="Only the clusters of wave N, and that wave's gates (one CI job per wave: docs/sharding.md).")
@click.pass_obj
def command(ctx: Context, *, env: str, cluster: str | None, selector: str | None, concurrency: int | None,
            dry_run: bool, prune: bool, yes: bool, break_lock: bool, recover: bool, adopt: bool, no_repair: bool,
            skip_gates: bool, report: Path | None, kubeconfig: Path | None, set_values: tuple[str, ...]) -> int:
    """Roll out releases that are missing or out of sync: needs order per cluster, wave by wave.

    Live drift of releases in sync with their record (a hand `kubectl set image`, a deleted
    object) is repaired by a `repair` step: helm upgrade with the same chart and values
    (unless --no-repair). On a terminal sync asks before acting (unless --yes); without one (CI)
    it proceeds.
    """
    if kubeconfig is not None:
        ctx.kubeconfig = kubeconfig
    return sync(ctx, SyncOptions(env=env, cluster=cluster, selector=selector, concurrency=concurrency,
                                 dry_run=dry_run, prune=prune, yes=yes, break_lock=break_lock, recover=recover,
                                 adopt=adopt, repair=not no_repair, set_values=set_values, skip_gates=skip_gates,
                                 report=report,
                                 confirm=_ask if sys.stdin.isatty() else None))
