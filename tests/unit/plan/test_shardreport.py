"""Merging sharded drift reports: the merge of all shards is the single run's report, in every format;
a missing shard is unchecked, never resolved; shards of different runs are refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from helmkit.errors import InputError
from helmkit.model.shards import shard_of
from helmkit.output.drift_html import render_html
from helmkit.output.drift_json import render_json
from helmkit.output.drift_junit import render_junit
from helmkit.output.drift_markdown import render_markdown
from helmkit.output.drift_table import render_table
from helmkit.plan.baseline import apply_baseline
from helmkit.plan.drift import ClusterScan, DriftReport, Finding, ResolvedFinding
from helmkit.plan.shardreport import merge_reports, read_shard, shard_info

SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "drift-report.schema.json"
RENDERERS = (render_table, render_markdown, render_junit, render_html)
CLUSTERS = [f"c{i:02d}" for i in range(12)]
NOW = "2026-12-01T04:00:00Z"


def fleet_findings() -> list[Finding]:
    found = []
    for i, cluster in enumerate(CLUSTERS):
        if i % 3 == 0:
            found.append(Finding("live-drift", "prod", cluster, "web", "shop", f"Deployment web changed on {cluster}",
                                 subject="apps/v1/Deployment shop/web", diff="~ spec.replicas: 1 -> 3\n",
                                 changes=({"op": "change", "path": "spec.replicas", "expected": 1, "live": 3},)))
        if i % 4 == 1:
            found.append(Finding("missing", "prod", cluster, "api", "shop", "in git, not installed in the cluster",
                                 details=("never installed, or uninstalled by hand",)))
    found.append(Finding("unreachable", "prod", "c05", "", "", "cluster c05 could not be read: refused",
                         ("cluster c05: refused",)))
    return found


def whole(selector: str | None = None) -> DriftReport:
    scans = [ClusterScan("prod", c, c != "c05", 0 if c == "c05" else 2, 7, "refused" if c == "c05" else "",
                         () if c == "c05" else ("api", "web")) for c in CLUSTERS]
    checked = frozenset(("prod", c, r) for c in CLUSTERS for r in ("api", "web")) if selector else None
    return DriftReport(["prod"], scans, fleet_findings(), ["prod/c03/web: cannot render"], NOW, checked=checked)


def shard(report: DriftReport, index: int, count: int, *, selector: str | None = None,
          commit: str | None = "abc123") -> tuple[str, dict[str, Any]]:
    mine = {c for c in CLUSTERS if shard_of("prod", c, count) == index}
    part = replace(report, clusters=[c for c in report.clusters if c.cluster in mine],
                   findings=[f for f in report.findings if f.cluster in mine],
                   errors=[e for e in report.errors if e.split("/")[1] in mine],
                   checked=None if report.checked is None else frozenset(
                       k for k in report.checked if k[1] in mine))
    part = replace(part, shard=shard_info(part, index=index, count=count, fleet={"prod": CLUSTERS},
                                          selector=selector, commit=commit))
    return f"shard-{index}.json", json.loads(render_json(part))


def merged(*docs: tuple[str, dict[str, Any]]) -> Any:
    return merge_reports([read_shard(source, doc) for source, doc in docs])


def strip(text: str) -> Any:
    doc = json.loads(text)
    doc.pop("generatedAt")
    return doc


@pytest.mark.parametrize("count", [1, 2, 4, 5])
def test_merge_of_all_shards_is_the_single_run(count: int) -> None:
    single = whole()
    result = merged(*(shard(single, i, count) for i in range(1, count + 1)))
    assert not result.missing
    assert strip(render_json(result.report)) == strip(render_json(single))
    for render in RENDERERS:
        assert render(result.report) == render(single)


def test_shard_report_has_its_block_and_validates() -> None:
    _, doc = shard(whole(selector="name=web"), 2, 4, selector="name=web")
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    block = doc["shard"]
    assert block["index"] == 2 and block["count"] == 4 and block["environments"] == {"prod": CLUSTERS}
    assert block["covered"] == [f"prod/{c}" for c in CLUSTERS if shard_of("prod", c, 4) == 2]
    assert "shard" not in json.loads(render_json(whole()))  # an unsharded report is as before


def test_baseline_across_shards_is_the_single_runs() -> None:
    single = whole()
    base = [ResolvedFinding("0" * 16, "missing", "prod", c, "api", "gone since") for c in CLUSTERS]
    base += [ResolvedFinding(f.id, f.kind, f.env, f.cluster, f.release, f.summary) for f in single.findings[:3]]
    result = merged(*(shard(single, i, 4) for i in range(1, 5)))
    expected = apply_baseline(single, base, source="last.json")
    got = apply_baseline(result.report, base, source="last.json")
    assert strip(render_json(got)) == strip(render_json(expected))
    assert got.unchecked == 1  # c05 is unreachable in both
    for render in RENDERERS:
        assert render(got) == render(expected)


def test_selector_checked_releases_survive_the_merge() -> None:
    single = whole(selector="name=web")
    result = merged(*(shard(single, i, 3, selector="name=web") for i in range(1, 4)))
    assert result.report.checked == single.checked


def test_missing_shard_is_unchecked_never_resolved() -> None:
    single = whole()
    lost = [c for c in CLUSTERS if shard_of("prod", c, 4) == 3]
    assert lost
    result = merged(*(shard(single, i, 4) for i in (1, 2, 4)))
    assert set(result.missing) == {3}
    assert f"shard 3/4 is missing: {', '.join(f'prod/{c}' for c in lost)} not checked" in result.report.errors
    assert {c.cluster for c in result.report.clusters} == set(CLUSTERS) - set(lost)
    base = [ResolvedFinding(f.id, f.kind, f.env, f.cluster, f.release, f.summary) for f in single.findings]
    marked = apply_baseline(result.report, base, source="last.json")
    assert not any(r.cluster in lost for r in marked.resolved)
    lost_findings = sum(1 for f in single.findings if f.cluster in lost)
    assert lost_findings and marked.unchecked == lost_findings and not marked.resolved
    assert "is missing" in render_table(marked)


def test_missing_empty_shard_is_no_error() -> None:
    single = whole()
    count = 40  # more shards than clusters: most are empty
    empty = next(i for i in range(1, count + 1) if all(shard_of("prod", c, count) != i for c in CLUSTERS))
    result = merged(*(shard(single, i, count) for i in range(1, count + 1) if i != empty))
    assert not result.missing and not any("missing" in e for e in result.report.errors)


def test_duplicate_shard_is_refused() -> None:
    single = whole()
    with pytest.raises(InputError, match=r"shard 2/4 is given twice: shard-2.json and shard-2.json"):
        merged(*(shard(single, i, 4) for i in (1, 2, 2, 3, 4)))


@pytest.mark.parametrize(("change", "what"), [
    ({"count": 3}, "the number of shards differ"),
    ({"commit": "def456"}, "the commit differ"),
    ({"selector": "name=web"}, "the selector"),
])
def test_shards_of_different_runs_are_refused(change: dict[str, Any], what: str) -> None:
    single = whole()
    count = change.get("count", 4)
    other = shard(single, 1, count, commit=change.get("commit", "abc123"), selector=change.get("selector"))
    with pytest.raises(InputError, match=what):
        merged(shard(single, 2, 4), other)


def test_a_shard_that_dropped_a_cluster_is_refused() -> None:
    single = whole()
    source, doc = shard(single, 1, 4)
    dropped = doc["shard"]["covered"].pop()
    doc["clusters"] = [c for c in doc["clusters"] if f"prod/{c['cluster']}" != dropped]
    with pytest.raises(InputError, match=r"shard 1/4 covered .* but shard 1 of 4 is"):
        merged((source, doc), *(shard(single, i, 4) for i in (2, 3, 4)))


def test_unsharded_or_damaged_report_is_refused() -> None:
    plain = json.loads(render_json(whole()))
    with pytest.raises(InputError, match="without a `shard` block"):
        read_shard("plain.json", plain)
    _, doc = shard(whole(), 1, 2)
    del doc["findings"][0]["kind"]
    with pytest.raises(InputError, match="damaged"):
        read_shard("bad.json", doc)
    with pytest.raises(InputError, match="not a helmkit drift report"):
        read_shard("other.json", {"summary": {}})
