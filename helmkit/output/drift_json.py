"""The JSON drift report: what machines read (and what ``--baseline`` takes back).

The shape is versioned by ``format`` (``helmkit.dev/drift-report/v1``) and described by
``schemas/drift-report.schema.json``; a change that removes or renames a field gets a new
version. Keys are sorted and the output ends with a newline, so two reports diff cleanly.
"""

from __future__ import annotations

import json
from typing import Any

from helmkit.plan.baseline import baseline_summary
from helmkit.plan.drift import REPORT_FORMAT, DriftReport


def report_data(report: DriftReport) -> dict[str, Any]:
    data = {
        "format": REPORT_FORMAT,
        "generatedAt": report.generated_at,
        "environments": list(report.envs),
        "drifted": report.drifted,
        "counts": report.counts(),
        "clusters": [
            {"env": c.env, "cluster": c.cluster, "reachable": c.reachable, "releases": c.releases,
             "apiCalls": c.api_calls, "state": report.cluster_state(c.env, c.cluster), "error": c.error or None}
            for c in report.clusters
        ],
        "findings": [f.to_json() for f in report.findings],
        "errors": list(report.errors),
        "baseline": dict(baseline_summary(report)) if report.baseline is not None else None,
        "resolved": [
            {"id": r.id, "kind": r.kind, "env": r.env, "cluster": r.cluster, "release": r.release or None,
             "summary": r.summary}
            for r in report.resolved
        ],
    }
    if report.shard is not None:  # only a sharded run: what `helmkit report merge` needs
        data["shard"] = report.shard.to_json()
    return data


def render_json(report: DriftReport) -> str:
    return json.dumps(report_data(report), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
