"""Drift report renderers: table and markdown against golden files, JSON against its schema,
JUnit parsed back, HTML self-contained and escaped.

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/output/test_drift_outputs.py``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jsonschema

from helmkit.output.drift_html import render_html
from helmkit.output.drift_json import render_json
from helmkit.output.drift_junit import render_junit
from helmkit.output.drift_markdown import render_markdown
from helmkit.output.drift_table import render_table
from helmkit.plan.drift import ClusterScan, DriftReport, Finding, ResolvedFinding

SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "drift-report.schema.json"


def sample(*, baseline: bool = False) -> DriftReport:
    findings = [
        Finding("live-drift", "prod", "prod-1", "web", "web", "apps/v1/Deployment web/web changed at spec.replicas",
                subject="apps/v1/Deployment web/web",
                diff="~ apps/v1/Deployment web/web\n    ~ spec.replicas: 2 -> 5\n",
                changes=({"state": "modified", "op": "change", "path": "spec.replicas", "pointer": "/spec/replicas",
                          "expected": 2, "live": 5},)),
        Finding("spec-drift", "prod", "prod-1", "payments", "payments",
                "git differs from the deployed release: values changed at image.tag",
                details=("values changed at image.tag", "password: <secret hmac:1a2b3c4d> | x"),
                diff="--- deployed values\n+++ desired values\n@@ -1 +1 @@\n-tag: '1.0' <b>\n+tag: '1.1'\n"),
        Finding("missing", "prod", "prod-1", "worker", "jobs", "in git, not installed in the cluster",
                details=("never installed, or uninstalled by hand",)),
        Finding("unhealthy", "prod", "prod-1", "batch", "jobs", "helm status failed at revision 2",
                details=("last operation failed at revision 2",), baseline="present"),
        Finding("orphan", "prod", "prod-1", "legacy", "old", "installed by helmkit, gone from git"),
        Finding("unreachable", "prod", "prod-2", "", "", "cluster prod-2 could not be read",
                details=("cluster prod-2: unreachable at https://127.0.0.1:1: connection refused",),
                baseline="present"),
    ]
    clusters = [ClusterScan("prod", "prod-1", True, 6, 8, release_names=("api", "batch", "legacy", "payments",
                                                                          "web", "worker")),
                ClusterScan("prod", "prod-2", False, 0, 3, "cluster prod-2: unreachable"),
                ClusterScan("staging", "staging-1", True, 5, 8, release_names=("web",))]
    report = DriftReport(["prod", "staging"], clusters, findings, ["prod/prod-1/api: helm template failed"],
                         "2026-11-26T02:00:00Z")
    if baseline:
        report.baseline = "last/drift.json"
        report.resolved = [ResolvedFinding("0123456789abcdef", "live-drift", "prod", "prod-1", "api",
                                           "apps/v1/Deployment api/api changed at spec.replicas")]
        report.unchecked = 1
    return report


def test_table_golden(golden: Callable[[str, str], None]) -> None:
    golden("drift-table.txt", render_table(sample()))
    golden("drift-table-baseline.txt", render_table(sample(baseline=True)))


def test_table_without_drift() -> None:
    clean = DriftReport(["prod"], [ClusterScan("prod", "prod-1", True, 3)], [])
    assert render_table(clean) == "no drift (1 cluster, 0 unreachable)\n"


def test_markdown_golden(golden: Callable[[str, str], None]) -> None:
    text = render_markdown(sample(baseline=True))
    golden("drift-report.md", text)
    with_diff = sum(1 for f in sample(baseline=True).findings if f.diff)
    assert with_diff and text.count("<details><summary>diff of ") == text.count("</details>") == with_diff


def test_json_validates_and_round_trips_ids() -> None:
    schema = json.loads(SCHEMA.read_text())
    for report in (sample(), sample(baseline=True)):
        data = json.loads(render_json(report))
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.validate(data, schema)
        assert [f["id"] for f in data["findings"]] == [f.id for f in report.findings]
    data = json.loads(render_json(sample(baseline=True)))
    assert data["baseline"] == {"file": "last/drift.json", "new": 4, "present": 2, "resolved": 1, "unchecked": 1}
    assert data["counts"] == {"live-drift": 1, "missing": 1, "orphan": 1, "spec-drift": 1, "unhealthy": 1,
                              "unreachable": 1}
    assert {c["cluster"]: c["state"] for c in data["clusters"]} == {
        "prod-1": "unhealthy", "prod-2": "unreachable", "staging-1": "ok"}


def test_json_schema_rejects_an_unknown_kind() -> None:
    schema = json.loads(SCHEMA.read_text())
    data = json.loads(render_json(sample()))
    data["findings"][0]["kind"] = "drifty"
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid(data)


def test_junit_one_suite_per_cluster_one_case_per_release() -> None:
    root = ET.fromstring(render_junit(sample()))  # noqa: S314 -- our own output
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["prod/prod-1", "prod/prod-2", "staging/staging-1"]
    prod1 = suites["prod/prod-1"]
    cases = {c.get("name"): [(f.tag, f.get("type")) for f in c] for c in prod1.iter("testcase")}
    assert cases == {"api": [], "batch": [("failure", "unhealthy")], "legacy": [("failure", "orphan")],
                     "payments": [("failure", "spec-drift")], "web": [("failure", "live-drift")],
                     "worker": [("failure", "missing")]}
    assert (prod1.get("tests"), prod1.get("failures"), prod1.get("errors")) == ("6", "5", "0")
    assert suites["prod/prod-2"].get("errors") == "1"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "5", "1")
    web = next(c for c in prod1.iter("testcase") if c.get("name") == "web")
    assert "spec.replicas: 2 -> 5" in (web.find("failure").text or "")  # type: ignore[union-attr]


def test_html_is_self_contained_and_escaped() -> None:
    html = render_html(sample(baseline=True))
    assert html.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in html
    for external in ("<script", "<link", "<img", "<iframe", "src=", "url(", "@import"):
        assert external not in html, external
    links = re.findall(r'href="([^"]*)"', html)
    assert links == ["#c-prod--prod-1", "#c-prod--prod-2"]  # inside the page only
    assert all(f'id="{link[1:]}"' in html for link in links)
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert re.findall(r'data-state="([a-z-]+)"', html) == ["unhealthy", "unreachable", "ok"]
    assert "Resolved since the baseline" in html


def fleet_sample() -> DriftReport:
    """The same live drift on four clusters, other findings on one."""
    clusters = [ClusterScan("prod", f"c{n}", True, 2, 2, release_names=("web", "api")) for n in range(1, 6)]
    diff = '~ v1/ConfigMap web/web\n    ~ data["app.conf"]: (text)\n      @@ -1,2 +1,2 @@\n       [server]\n' \
           "      -port = 80\n      +port = 8080\n"
    findings = [Finding("live-drift", "prod", f"c{n}", "web", "web", "v1/ConfigMap web/web changed at data",
                        subject="v1/ConfigMap web/web", diff=diff) for n in range(1, 5)]
    findings += [Finding("missing", "prod", "c5", "api", "api", "in git, not installed in the cluster"),
                 Finding("orphan", "prod", "c5", "legacy", "old", "installed by helmkit, gone from git"),
                 Finding("live-drift", "prod", "c5", "web", "web", "apps/v1/Deployment web/web changed",
                         subject="apps/v1/Deployment web/web", diff="~ apps/v1/Deployment web/web\n")]
    return DriftReport(["prod"], clusters, findings, [], "2026-11-26T02:00:00Z")


def test_html_groups_alike_findings_lists_kinds_colours_diffs_and_gives_the_fix(
        golden: Callable[[str, str], None]) -> None:
    html = render_html(fleet_sample())
    golden("drift-report-fleet.html", html)
    assert html.count("same on 4 clusters: c1, c2, c3, c4") == 1
    assert html.count('data-kind="live-drift"') == 2  # four alike in one block, c5's own apart
    assert "fix: <code>helmkit sync --env prod -l name=web</code>" in html
    assert "fix: <code>helmkit sync --env prod --cluster c5 -l name=api</code>" in html
    assert "fix: <code>helmkit sync --env prod --cluster c5 --prune</code>" in html
    cell = html[html.index('href="#c-prod--c5"'):].split("</td>")[0]
    assert "live-drift: 1" in cell and "missing: 1" in cell and "orphan: 1" in cell
    assert '<span class="del">      -port = 80</span><span class="add">      +port = 8080</span>' in html
    assert '<span class="hunk">      @@ -1,2 +1,2 @@</span>' in html
    links = re.findall(r'href="#([^"]*)"', html)
    assert links and all(f'id="{link}"' in html for link in links)  # every cell links to its findings
