"""Drift findings: kinds from release states and live diffs, stable ids, masking."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.plan.drift import ClusterScan, DriftReport, Finding, finding_id, release_findings, unreachable_finding
from helmkit.plan.livediff import LiveField, ObjectDrift, ReleaseLiveDiff, UnhealthyObject
from helmkit.plan.manifests import ObjectKey
from helmkit.plan.status import ReleaseState, Status


@dataclass(frozen=True)
class Chart:
    path: Path | None = None
    display: str = "shop"


@dataclass(frozen=True)
class Instance:
    name: str = "web"
    namespace: str = "shop"
    enabled: bool = True
    key: str = "prod/prod-1/web"
    chart: Chart = Chart()
    values: dict[str, Any] = field(default_factory=dict)
    secrets: tuple[Any, ...] = ()
    needs: tuple[str, ...] = ()
    wait: bool = True
    timeout: str = "5m"
    atomic: bool = True
    create_namespace: bool = True
    history_max: int = 10


def state(status: Status, *reasons: str, instance: Instance | None = None) -> ReleaseState:
    return ReleaseState("prod", "prod-1", "web", "shop", status, instance=instance, reasons=reasons, revision=3,
                        helm_status="failed" if status is Status.FAILED else "deployed")


def kinds(found: list[Finding]) -> list[str]:
    return [f.kind for f in found]


def test_each_status_gives_its_kind() -> None:
    assert kinds(release_findings(state(Status.IN_SYNC))) == []
    assert kinds(release_findings(state(Status.DISABLED))) == []
    assert kinds(release_findings(state(Status.OUT_OF_SYNC, "values changed at a"))) == ["spec-drift"]
    assert kinds(release_findings(state(Status.DISABLED_INSTALLED))) == ["spec-drift"]
    assert kinds(release_findings(state(Status.NOT_INSTALLED))) == ["missing"]
    assert kinds(release_findings(state(Status.FAILED))) == ["unhealthy"]
    assert kinds(release_findings(state(Status.PENDING, "pending-upgrade at revision 3"))) == ["unhealthy"]
    assert kinds(release_findings(state(Status.ORPHAN))) == ["orphan"]
    assert kinds(release_findings(state(Status.FOREIGN, instance=Instance()))) == ["spec-drift"]
    assert kinds(release_findings(state(Status.FOREIGN, instance=Instance(enabled=False)))) == []


def test_spec_drift_carries_reasons_and_diff() -> None:
    (found,) = release_findings(state(Status.OUT_OF_SYNC, "values changed at a", "chart version 1 -> 2"),
                                spec_diff="--- deployed values\n", spec_changes=[{"op": "change"}])
    assert found.summary == "git differs from the deployed release: values changed at a; chart version 1 -> 2"
    assert found.details == ("values changed at a", "chart version 1 -> 2")
    assert found.diff == "--- deployed values\n" and found.changes == ({"op": "change"},)


def test_one_live_drift_finding_per_object() -> None:
    live = ReleaseLiveDiff("web", "shop", [
        ObjectDrift(ObjectKey("apps", "Deployment", "shop", "web"), "apps/v1", "modified",
                    (LiveField("change", "spec.replicas", "/spec/replicas", 1, 3),)),
        ObjectDrift(ObjectKey("", "Service", "shop", "web"), "v1", "missing"),
    ])
    found = release_findings(state(Status.OUT_OF_SYNC, "x"), live=live)
    assert kinds(found) == ["spec-drift", "live-drift", "live-drift"]
    deploy, service = found[1], found[2]
    assert deploy.subject == "apps/v1/Deployment shop/web"
    assert deploy.diff == "~ apps/v1/Deployment shop/web\n    ~ spec.replicas: 1 -> 3\n"
    assert deploy.changes == ({"state": "modified", "op": "change", "path": "spec.replicas",
                               "pointer": "/spec/replicas", "expected": 1, "live": 3, "managers": []},)
    assert service.summary == "v1/Service shop/web is missing from the cluster"
    assert service.changes == ({"state": "missing"},)
    assert len({f.id for f in found}) == 3


def test_ids_are_stable_and_depend_on_what_drifted() -> None:
    first = unreachable_finding("prod", "prod-2", "connection refused")
    again = unreachable_finding("prod", "prod-2", "timed out")  # another message, the same finding
    assert first.id == again.id == finding_id("unreachable", "prod", "prod-2", "", "")
    assert len(first.id) == 16
    assert first.id != unreachable_finding("staging", "prod-2", "x").id
    assert finding_id("live-drift", "e", "c", "ns", "r", subject="a") != finding_id("live-drift", "e", "c", "ns", "r",
                                                                                      subject="b")


def test_report_counts_states_and_masks_every_text() -> None:
    secret = "hunter2-canary"
    findings = [
        Finding("live-drift", "prod", "prod-1", "web", "shop", f"changed {secret}", (secret,), "s",
                f"~ {secret}", ({"live": secret, "nested": [secret]},)),
        Finding("unhealthy", "prod", "prod-1", "api", "shop", "failed"),
    ]
    report = DriftReport(["prod"], [ClusterScan("prod", "prod-1", True), ClusterScan("prod", "prod-2", True)],
                         findings, [f"render {secret}"])
    assert [f.release for f in report.findings] == ["api", "web"]  # sorted
    assert report.cluster_state("prod", "prod-1") == "unhealthy"  # the worst kind wins
    assert report.cluster_state("prod", "prod-2") == "ok"
    assert report.counts()["live-drift"] == 1 and report.counts()["orphan"] == 0
    masked = report.mask(lambda text: text.replace(secret, "***"))
    assert secret not in repr(masked)
    assert secret in repr(report)  # the original is untouched


def test_an_unhealthy_workload_is_its_own_finding() -> None:
    key = ObjectKey("apps", "Deployment", "shop", "web")
    live = ReleaseLiveDiff("web", "shop", unhealthy=[UnhealthyObject(key, "apps/v1", "1/3 replicas available")])
    (found,) = release_findings(state(Status.IN_SYNC), live=live)
    assert (found.kind, found.subject, found.summary) == (
        "unhealthy", "apps/v1/Deployment shop/web", "apps/v1/Deployment shop/web: 1/3 replicas available")
    assert found.id != release_findings(state(Status.FAILED))[0].id
