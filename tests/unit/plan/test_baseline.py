"""Baselines: new, still present, resolved and unchecked findings; --fail-on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from helmkit.errors import InputError
from helmkit.plan.baseline import apply_baseline, fails, read_baseline
from helmkit.plan.drift import REPORT_FORMAT, ClusterScan, DriftReport, Finding


def finding(release: str, cluster: str = "c1", kind: str = "live-drift") -> Finding:
    return Finding(kind, "prod", cluster, release, "ns", f"{release} drifted")  # type: ignore[arg-type]


def report(*findings: Finding, unreachable: tuple[str, ...] = ()) -> DriftReport:
    clusters = [ClusterScan("prod", name, name not in unreachable) for name in ("c1", "c2")]
    return DriftReport(["prod"], clusters, list(findings))


def write(path: Path, *findings: Finding, envs: tuple[str, ...] = ("prod",)) -> Path:
    path.write_text(json.dumps({"format": REPORT_FORMAT, "findings": [f.to_json() for f in findings],
                                "environments": list(envs)}))
    return path


def test_new_present_resolved(tmp_path: Path) -> None:
    baseline = read_baseline(write(tmp_path / "b.json", finding("web"), finding("api")))
    result = apply_baseline(report(finding("web"), finding("db")), baseline, source="b.json")
    assert {f.release: f.baseline for f in result.findings} == {"web": "present", "db": "new"}
    assert [r.release for r in result.resolved] == ["api"]
    assert [f.release for f in result.new] == ["db"]
    assert result.baseline == "b.json" and result.unchecked == 0
    assert fails(result, "new") and fails(result, "any")


def test_known_drift_only_fails_with_any(tmp_path: Path) -> None:
    baseline = read_baseline(write(tmp_path / "b.json", finding("web")))
    result = apply_baseline(report(finding("web")), baseline, source="b.json")
    assert not fails(result, "new")
    assert fails(result, "any")
    assert not fails(report(), "any")


def test_findings_of_clusters_not_read_are_unchecked_not_resolved(tmp_path: Path) -> None:
    baseline = read_baseline(write(tmp_path / "b.json", finding("web", "c2"), finding("x", "other-cluster")))
    result = apply_baseline(report(unreachable=("c2",)), baseline, source="b.json")
    assert result.resolved == [] and result.unchecked == 2


def test_findings_of_releases_outside_the_selection_are_unchecked_not_resolved(tmp_path: Path) -> None:
    """``drift -l name=web --baseline``: api was not looked at, so it is not known to be resolved."""
    baseline = read_baseline(write(tmp_path / "b.json", finding("web"), finding("api"), finding("web", "c2"),
                                   Finding("unreachable", "prod", "c2", "", "", "cluster c2 could not be read")))
    scanned = replace(report(), checked=frozenset({("prod", "c1", "web"), ("prod", "c2", "web")}))
    result = apply_baseline(scanned, baseline, source="b.json")
    assert sorted((r.cluster, r.release or r.kind) for r in result.resolved) == [
        ("c1", "web"), ("c2", "unreachable"), ("c2", "web")]
    assert result.unchecked == 1


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "the baseline is not JSON"),
    ('{"format": "other"}', "is not a helmkit drift report"),
    (json.dumps({"format": REPORT_FORMAT, "findings": [{"kind": "x"}]}), "a finding without an id"),
])
def test_bad_baselines_are_input_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        read_baseline(path)
    assert message in caught.value.render()
    assert str(path) in caught.value.render()


def test_a_missing_baseline_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the baseline"):
        read_baseline(tmp_path / "nope.json")
