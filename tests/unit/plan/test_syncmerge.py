"""Merging the sync reports of a sharded, wave-by-wave rollout into one closing summary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helmkit.errors import InputError
from helmkit.plan.summary import COLUMNS
from helmkit.plan.syncmerge import is_sync_report, merge_sync_reports, render_sync


def job(wave: int, clusters: dict[str, int], *, failed_gate: bool = False, exit_code: int = 0) -> dict[str, Any]:
    return {
        "summary": {"interrupted": False, "exitCode": exit_code,
                    "clusters": [{"cluster": name, **dict.fromkeys(COLUMNS, 0), "deployed": n}
                                 for name, n in clusters.items()],
                    "total": {}, "failed": [{"env": "prod", "cluster": next(iter(clusters)), "release": "web",
                                             "step": "upgrade", "reason": "timed out"}] if exit_code else [],
                    "skipped": [], "pending": []},
        "gates": {"skipGates": False, "failed": failed_gate,
                  "waves": [{"wave": wave, "clusters": list(clusters), "unchanged": [], "skipped": False,
                             "result": "failed" if failed_gate else "passed", "gates": [], "rollback": [],
                             "notes": []}]},
    }


def test_jobs_merge_in_wave_order() -> None:
    docs = [("w1-s2.json", job(1, {"eu": 2})), ("w0-s1.json", job(0, {"us-east": 3})),
            ("w1-s1.json", job(1, {"us-west": 1}))]
    assert all(is_sync_report(doc) for _, doc in docs)
    merged = merge_sync_reports(docs)
    assert merged.total["deployed"] == 6 and not merged.failed
    assert [w["wave"] for w in merged.waves] == [0, 1, 1]
    text = render_sync(merged, "table")
    assert "us-east" in text and "3 report(s) merged: ok" in text
    markdown = render_sync(merged, "markdown")
    assert "| total | 6 |" in markdown
    assert json.loads(render_sync(merged, "json"))["total"]["deployed"] == 6


def test_a_failed_job_fails_the_merge() -> None:
    merged = merge_sync_reports([("a", job(0, {"c1": 1}, failed_gate=True)), ("b", job(0, {"c2": 1}, exit_code=1))])
    assert merged.failed and merged.failed_releases[0]["release"] == "web"
    assert "FAILED" in render_sync(merged, "table")


def test_a_cluster_in_two_reports_is_refused() -> None:
    with pytest.raises(InputError, match="cluster c1 is in two reports: a and b"):
        merge_sync_reports([("a", job(0, {"c1": 1})), ("b", job(0, {"c1": 1}))])


def test_damaged_report() -> None:
    with pytest.raises(InputError, match="damaged"):
        merge_sync_reports([("a", {"summary": {"clusters": [{}]}, "gates": {}})])
