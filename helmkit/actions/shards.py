"""Shards of a fleet: ``helmkit list --shards N`` and the ``shard`` block of a sharded drift report.

The assignment itself (rendezvous hashing, 1-based shards) is :mod:`helmkit.model.shards`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError, Location, Problem
from helmkit.model.repository import load_repository
from helmkit.model.resolve import environment_of
from helmkit.model.shards import MAX_SHARDS, assign
from helmkit.output.table import render_table
from helmkit.plan.drift import DriftReport
from helmkit.plan.shardreport import shard_info


def fleet_of(ctx: Context, envs: list[str]) -> dict[str, list[str]]:
    """Every cluster of each of ``envs`` (not only a shard's)."""
    repo = load_repository(ctx.repo)
    return {env: sorted(spec.cluster.name for spec in environment_of(repo, env).clusters) for env in envs}


def head_commit(ctx: Context) -> str | None:
    """The commit the release repository is at; None outside git (then shards cannot be told apart by it)."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = ctx.runner.run([git, "-C", str(ctx.repo), "rev-parse", "HEAD"], check=False, timeout=30.0)
    except HelmkitError:
        return None
    text = result.stdout.strip()
    return text if result.ok and text else None


def with_shard_info(ctx: Context, report: DriftReport, *, selector: str | None) -> DriftReport:
    """``report`` with its ``shard`` block when the run has ``--shard I/N`` (else unchanged)."""
    shard = ctx.cluster_filter.shard
    if shard is None:
        return report
    info = shard_info(report, index=shard.index, count=shard.count, fleet=fleet_of(ctx, report.envs),
                      selector=selector, commit=head_commit(ctx))
    return replace(report, shard=info)


def list_shards(ctx: Context, env: str, count: int, *, cluster: str | None = None, fmt: str = "text") -> int:
    """Print shard 1..count of ``env`` with its clusters (a table, or JSON)."""
    if not 1 <= count <= MAX_SHARDS:
        raise InputError(Problem(f"--shards {count}: the number of shards must be 1 to {MAX_SHARDS}",
                                 Location("--shards")))
    clusters = fleet_of(ctx, [env])[env]
    if cluster is not None:
        if cluster not in clusters:
            raise InputError(f"unknown cluster `{cluster}` in environment `{env}`")
        clusters = [cluster]
    shards = assign(((env, name) for name in clusters), count)
    if fmt == "json":
        data = [{"shard": f"{index}/{count}", "index": index, "count": count,
                 "clusters": [name for _, name in members]} for index, members in shards.items()]
        ctx.console.print(json.dumps(data, indent=2))
    else:
        rows = [(f"{index}/{count}", len(members), ", ".join(name for _, name in members) or "(none)")
                for index, members in shards.items()]
        ctx.console.print(render_table(("shard", "count", "clusters"), rows))
    return 0
