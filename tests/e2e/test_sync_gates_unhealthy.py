"""The workload gate against workloads the sandbox makes unhealthy, end to end on helm 3.19 / 4.1:
three clusters in three waves; the canary's Deployment crash-loops or never becomes ready (from its
chart's values, or broken by hand through the sandbox's workload fault) → the canary is rolled back,
later waves are untouched, exit 1, and the summary and the JSON report name the gate, cluster and pod."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from helmkit.actions.sync import SyncOptions, sync
from tests.e2e.conftest import CHARTS, StartClusters
from tests.e2e.test_sync_support import REPO, Fleet, copy_fleet

pytestmark = pytest.mark.e2e
CLUSTERS = ("c1", "c2", "c3")
ENV = """\
name: stage
clusters:
  - {name: c1, region: us-east-1, wave: 0}
  - {name: c2, region: us-west-2, wave: 1}
  - {name: c3, region: eu-west-1, wave: 2}
releases:
  log-shipper:
    values:
      flushSeconds: 1
  shop:
    values:
      greeting: v1
"""
SHOP = """\
chart:
  path: charts/behaving
namespace: shop
wait: false            # the gate, not helm, judges the rollout
atomic: false          # (atomic implies --wait)
values:
  replicas: 2
  statefulset: {enabled: false}
  daemonset: {enabled: false}
"""
GATE = "gates:\n  - workload: {}\n    waves: [0]\n    interval: 50ms\n    timeout: 60s\n    failureThreshold: 2\n"


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters,
          helm_bin: Path) -> Fleet:
    root = copy_fleet(tmp_path / "fleet", small=True)
    for name in ("cert-manager", "cluster-issuer"):
        (root / "releases" / f"{name}.yaml").unlink()
    shutil.copytree(CHARTS / "behaving", root / "charts" / "behaving")
    (root / "releases" / "shop.yaml").write_text(SHOP)
    env_file = root / "environments" / "stage.yaml"
    env_file.write_text(ENV)
    clusters = named_clusters(*CLUSTERS)
    clusters.require_sandbox("unhealthy workloads need the sandbox")
    clusters.pin_contexts(env_file)
    monkeypatch.setenv("KUBECONFIG", str(clusters.kubeconfig))
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "home" / key.lower()))
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    return Fleet(root, clusters, clusters.kubeconfig, helm_bin)


def revisions(fleet: Fleet) -> dict[str, dict[str, tuple[int, str]]]:
    return {c: {r.name: (r.revision, r.status) for r in fleet.clusters.releases(c)} for c in CLUSTERS}


def change(fleet: Fleet, shop_values: str, gates: str = GATE) -> None:
    """greeting v1 -> v2 (an upgrade of shop everywhere), ``shop_values`` added to its values, and ``gates``."""
    env_file = fleet.root / "environments" / "stage.yaml"
    env_file.write_text(env_file.read_text().replace("greeting: v1", "greeting: v2" + shop_values) + gates)


def shop_pods(fleet: Fleet, cluster: str) -> list[dict[str, Any]]:
    pods, _ = fleet.clusters.require_sandbox().cluster(cluster).store.select("/pods", "shop")
    return pods


def greeting(fleet: Fleet, cluster: str) -> str:
    out = fleet.helm("get", "values", "shop", "-n", "shop", "-o", "json", context=cluster).stdout
    value: str = json.loads(out)["greeting"]
    return value


def deploy_healthy(fleet: Fleet) -> dict[str, dict[str, tuple[int, str]]]:
    first = fleet.run(sync, SyncOptions(env="stage", yes=True))
    assert first.code == 0, first.out + first.err
    before = revisions(fleet)
    assert before == {c: {"log-shipper": (1, "deployed"), "shop": (1, "deployed")} for c in CLUSTERS}
    return before


def gate_of(report: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    document = json.loads(report.read_text())
    jsonschema.validate(document, json.loads((REPO / "schemas" / "sync-report.schema.json").read_text()))
    assert document["summary"]["exitCode"] == 1
    wave = document["gates"]["waves"][0]
    assert (wave["wave"], wave["result"], wave["clusters"]) == (0, "failed", ["c1"])
    assert [w["wave"] for w in document["gates"]["waves"]] == [0]  # no later wave ran a gate
    assert {(r["release"], r["action"], r["revision"], r["ok"]) for r in wave["rollback"]} == {
        ("shop", "rollback", 1, True)}
    gate = next(g for g in wave["gates"] if g["gate"] == "workload")
    assert (gate["cluster"], gate["verdict"]) == ("c1", "failed")
    return wave, gate


def assert_canary_rolled_back(fleet: Fleet, before: dict[str, dict[str, tuple[int, str]]]) -> None:
    after = revisions(fleet)
    assert after["c1"] == {"log-shipper": (1, "deployed"), "shop": (3, "deployed")}  # 2 the upgrade, 3 the rollback
    assert after["c2"] == before["c2"] and after["c3"] == before["c3"]  # later waves untouched
    assert [greeting(fleet, c) for c in CLUSTERS] == ["v1", "v1", "v1"]


def test_a_crash_looping_canary_fails_the_workload_gate_and_is_rolled_back(three: Fleet, tmp_path: Path) -> None:
    before = deploy_healthy(three)
    change(three, "\n      deployment: {behaviour: crashloop}")
    report = tmp_path / "report.json"
    failed = three.run(sync, SyncOptions(env="stage", yes=True, report=report))
    assert failed.code == 1, failed.out + failed.err
    assert_canary_rolled_back(three, before)
    assert all(p["status"]["containerStatuses"][0]["ready"] for p in shop_pods(three, "c1"))  # healthy again

    assert "gate workload failed on c1 (wave 0)" in failed.out
    assert "roll shop back to revision 1" in failed.out
    assert "gate workload failed on c1 in wave 0; wave 0 rolled back" in failed.out
    _, gate = gate_of(report)
    findings = gate["observations"][-1]["evidence"]["findings"]
    crashing = [f for f in findings if "pod" in f]
    assert len(crashing) == 2 and {f["container"] for f in crashing} == {"web"}
    for found in crashing:
        assert found["workload"] == "Deployment shop/shop" and found["release"] == "shop"
        assert found["pod"].startswith("shop/shop-")
        assert found["reason"].startswith("CrashLoopBackOff: back-off 10s restarting failed container=web")
        assert found["reason"].endswith(" restarts)")
        assert found["pod"] in failed.out  # the summary names the pod too
    assert "CrashLoopBackOff" in failed.out


def test_a_canary_whose_pods_never_become_ready_fails_the_gate(three: Fleet, tmp_path: Path) -> None:
    before = deploy_healthy(three)
    change(three, "\n      deployment: {behaviour: unready}")
    report = tmp_path / "report.json"
    failed = three.run(sync, SyncOptions(env="stage", yes=True, report=report))
    assert failed.code == 1, failed.out + failed.err
    assert_canary_rolled_back(three, before)
    assert "gate workload failed on c1 (wave 0)" in failed.out
    assert "Deployment shop/shop (shop): 0 of 2 replicas available" in failed.out
    _, gate = gate_of(report)
    assert gate["observations"][-1]["evidence"]["findings"] == [
        {"release": "shop", "workload": "Deployment shop/shop", "reason": "0 of 2 replicas available"}]


def test_a_canary_broken_by_hand_fails_the_gate_of_the_next_sync(three: Fleet, tmp_path: Path) -> None:
    before = deploy_healthy(three)
    three.clusters.faults("c1").workload("shop", "shop", "crashloop")  # e.g. its database went away
    change(three, "")  # only the greeting changes
    report = tmp_path / "report.json"
    failed = three.run(sync, SyncOptions(env="stage", yes=True, report=report))
    assert failed.code == 1, failed.out + failed.err
    assert_canary_rolled_back(three, before)
    assert "gate workload failed on c1 (wave 0)" in failed.out and "CrashLoopBackOff" in failed.out
    _, gate = gate_of(report)
    reasons = {f.get("reason", "").split(":")[0] for f in gate["observations"][-1]["evidence"]["findings"]}
    assert "CrashLoopBackOff" in reasons
    # the fault outlives the rollback (it is the workload's, not the revision's); the others never saw it
    assert {p["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason")
            for p in shop_pods(three, "c1")} == {"CrashLoopBackOff"}
    assert all(p["status"]["containerStatuses"][0]["ready"] for c in ("c2", "c3") for p in shop_pods(three, c))

    three.clusters.faults("c1").workload("shop", "shop", "healthy")  # repaired: the same change goes everywhere
    passed = three.run(sync, SyncOptions(env="stage", yes=True, report=report))
    assert passed.code == 0, passed.out + passed.err
    assert [greeting(three, c) for c in CLUSTERS] == ["v2", "v2", "v2"]
