"""Rollout gates end to end: real helm 3.19 / 4.1 against three sandbox clusters in three waves,
gates against real local servers (a service answering 500 or 200, a Prometheus-speaking server)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from helmkit.actions.status import StatusOptions, status
from helmkit.actions.sync import SyncOptions, sync
from tests.e2e.conftest import StartClusters
from tests.e2e.test_sync_support import REPO, Fleet, copy_fleet
from tests.support.gateservers import Prometheus, Script, health_server, prometheus_server

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
"""
FAST = "    interval: 50ms\n    timeout: 60s\n"


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters,
          helm_bin: Path) -> Fleet:
    root = copy_fleet(tmp_path / "fleet", small=True)
    shutil.copy(REPO / "releases" / "cert-manager.yaml", root / "releases" / "cert-manager.yaml")
    (root / "releases" / "cert-manager.yaml").write_text(
        (root / "releases" / "cert-manager.yaml").read_text() + "enabled: false\n")
    (root / "releases" / "cluster-issuer.yaml").unlink()
    env_file = root / "environments" / "stage.yaml"
    env_file.write_text(ENV)
    clusters = named_clusters(*CLUSTERS)
    clusters.pin_contexts(env_file)
    monkeypatch.setenv("KUBECONFIG", str(clusters.kubeconfig))
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "home" / key.lower()))
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    return Fleet(root, clusters, clusters.kubeconfig, helm_bin)


@pytest.fixture
def service() -> Iterator[tuple[Script, str]]:
    script = Script([(200, "ok")])
    with health_server(script) as url:
        yield script, url


@pytest.fixture
def prometheus() -> Iterator[tuple[Prometheus, str]]:
    metrics = Prometheus({'errors{cluster="c1"}': [0.001], 'errors{cluster="c2"}': [0.0],
                          'errors{cluster="c3"}': [0.002]})
    with prometheus_server(metrics) as url:
        yield metrics, url


def revisions(fleet: Fleet) -> dict[str, dict[str, tuple[int, str]]]:
    return {c: {r.name: (r.revision, r.status) for r in fleet.clusters.releases(c)} for c in CLUSTERS}


def change(fleet: Fleet, gates: str) -> None:
    """flushSeconds 1 -> 7 (an upgrade everywhere), cert-manager newly enabled (an install), and ``gates``."""
    env_file = fleet.root / "environments" / "stage.yaml"
    text = env_file.read_text().replace("flushSeconds: 1", "flushSeconds: 7")
    text += "  cert-manager:\n    enabled: true\n" + gates
    env_file.write_text(text)


def test_a_failing_canary_gate_rolls_the_canary_back_and_leaves_later_waves_untouched(
        three: Fleet, service: tuple[Script, str], prometheus: tuple[Prometheus, str], tmp_path: Path) -> None:
    script, url = service
    metrics, prometheus_url = prometheus
    first = three.run(sync, SyncOptions(env="stage", yes=True))
    assert first.code == 0, first.out + first.err
    before = revisions(three)
    assert before == {c: {"log-shipper": (1, "deployed")} for c in CLUSTERS}

    script.answers = [(500, "upstream connect error")]
    change(three, "gates:\n  - workload: {}\n    waves: [0]\n" + FAST
           + f"  - name: health\n    http: {{url: '{url}/${{cluster.name}}/healthz'}}\n    waves: [0]\n"
           + FAST + "    failureThreshold: 2\n")
    report = tmp_path / "report.json"
    failed = three.run(sync, SyncOptions(env="stage", yes=True, report=report))
    assert failed.code == 1, failed.out + failed.err
    assert set(script.requests) == {"/c1/healthz"}  # only the canary was checked

    after = revisions(three)
    assert after["c1"] == {"log-shipper": (3, "deployed")}  # 2 was the upgrade, 3 the rollback to 1
    assert after["c2"] == before["c2"] and after["c3"] == before["c3"]  # later waves untouched
    manifest = three.helm("get", "values", "log-shipper", "-n", "logging", "-o", "json", context="c1").stdout
    assert json.loads(manifest)["flushSeconds"] == 1  # back to what it was before the sync

    assert "gate health failed on c1 (wave 0)" in failed.out
    assert '"status": 500' in failed.out and "upstream connect error" in failed.out
    assert "roll log-shipper back to revision 1" in failed.out
    assert "uninstall cert-manager (installed by this sync)" in failed.out
    assert "gate health failed on c1 in wave 0; wave 0 rolled back" in failed.out  # why c2 and c3 were skipped

    document = json.loads(report.read_text())
    jsonschema.validate(document, json.loads((REPO / "schemas" / "sync-report.schema.json").read_text()))
    wave = document["gates"]["waves"][0]
    assert (wave["wave"], wave["result"], wave["clusters"]) == (0, "failed", ["c1"])
    health = next(g for g in wave["gates"] if g["gate"] == "health")
    assert (health["cluster"], health["verdict"]) == ("c1", "failed")
    assert health["observations"][-1]["evidence"] == {
        "url": f"{url}/c1/healthz", "status": 500, "body": "upstream connect error"}
    assert {(r["release"], r["action"], r["revision"], r["ok"]) for r in wave["rollback"]} == {
        ("log-shipper", "rollback", 1, True), ("cert-manager", "uninstall", None, True)}
    assert document["summary"]["exitCode"] == 1

    shown = three.run(status, StatusOptions(env="stage"))  # kept in the cluster, read back from there
    gates = shown.out[shown.out.index("last sync's gates:"):].splitlines()
    assert [line.split()[0] for line in gates[3:]] == ["c1"] * 4  # c2 and c3 never ran a gate
    assert "health" in gates[4] and "failed" in gates[4] and "HTTP 500" in gates[4]
    assert "rollback to revision 1 log-shipper" in gates[5] and "ok" in gates[5]
    assert "uninstall cert-manager" in gates[6]

    # the service is healthy again: every wave goes, each behind its gates
    script.answers = [(200, "ok")]
    env_file = three.root / "environments" / "stage.yaml"
    env_file.write_text(env_file.read_text() + f"  - prometheus:\n      url: {prometheus_url}\n"
                        "      query: errors{cluster=\"${cluster.name}\"}\n      condition: \"< 0.01\"\n"
                        + FAST + "    successThreshold: 1\n")
    passed = three.run(sync, SyncOptions(env="stage", yes=True, report=report))
    assert passed.code == 0, passed.out + passed.err
    final = revisions(three)
    assert final["c1"]["log-shipper"] == (4, "deployed")
    assert final["c2"]["log-shipper"] == (2, "deployed") and final["c3"]["log-shipper"] == (2, "deployed")
    assert all(final[c]["cert-manager"] == (1, "deployed") for c in CLUSTERS)
    assert sorted(set(metrics.queries)) == ['errors{cluster="c1"}', 'errors{cluster="c2"}', 'errors{cluster="c3"}']
    waves = json.loads(report.read_text())["gates"]["waves"]
    assert [(w["wave"], w["result"]) for w in waves] == [(0, "passed"), (1, "passed"), (2, "passed")]
    shown = three.run(status, StatusOptions(env="stage"))
    gates = shown.out[shown.out.index("last sync's gates:"):].splitlines()[3:]
    assert [(line.split()[0], line.split()[5]) for line in gates] == [
        ("c1", "passed"), ("c1", "passed"), ("c1", "passed"), ("c2", "passed"), ("c3", "passed")]


def test_dry_run_shows_the_gates_and_skip_gates_warns_and_runs_none(
        three: Fleet, service: tuple[Script, str]) -> None:
    script, url = service
    script.answers = [(500, "down")]
    env_file = three.root / "environments" / "stage.yaml"
    env_file.write_text(env_file.read_text() + f"gates:\n  - http: {{url: '{url}/health', status: 204}}\n"
                        "    waves: [0]\n  - soak: 2m\n    waves: [0, 1]\n")
    planned = three.run(sync, SyncOptions(env="stage", dry_run=True))
    assert planned.code == 0, planned.err
    gates = planned.out[planned.out.index("gates (after each wave"):]
    assert gates.splitlines()[1:] == [
        "  wave 0 (c1):",
        f"    http: http GET {url}/health expects 204 [every 10s, pass after 3, fail after 3, timeout 300s]",
        "    soak: soak 2m",
        "  wave 1 (c2):",
        "    soak: soak 2m",
        "  wave 2 (c3): no gates",
        "  on failure: roll the wave's upgraded releases back to their revision before the sync, uninstall the "
        "releases it installed, start no later wave, exit 1"]
    skipped = three.run(sync, SyncOptions(env="stage", yes=True, skip_gates=True))
    assert skipped.code == 0, skipped.out + skipped.err
    assert "WARNING: --skip-gates: 3 gate(s) will NOT run" in skipped.err
    assert script.requests == []
    assert "WARNING: gates were skipped (--skip-gates)" in skipped.out


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_sigint_during_a_soak_rolls_nothing_back_and_starts_no_later_wave(three: Fleet) -> None:
    first = three.run(sync, SyncOptions(env="stage", yes=True))
    assert first.code == 0, first.out + first.err
    change(three, "gates:\n  - soak: 1h\n    waves: [0]\n")
    argv = [sys.executable, "-m", "helmkit", "--repo", str(three.root), "--helm", str(three.helm_bin), "sync",
            "--env", "stage", "--yes"]
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("gate") and "soak 1h" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 130, out + err
    assert "interrupted during the gates of wave 0: nothing was rolled back; no later wave starts" in err
    after = revisions(three)
    assert after["c1"] == {"cert-manager": (1, "deployed"), "log-shipper": (2, "deployed")}  # as deployed, whole
    assert after["c2"] == after["c3"] == {"log-shipper": (1, "deployed")}


@pytest.mark.parametrize("helm_major", ["3"], ids=["helm3"])
def test_a_rollback_that_fails_says_manual_intervention_is_required(three: Fleet, tmp_path: Path) -> None:
    assert three.run(sync, SyncOptions(env="stage", yes=True)).code == 0
    faults = three.clusters.faults("c1")

    class Breaking(Script):
        def next(self, path: str) -> tuple[int, str]:
            for method in ("PUT", "PATCH", "POST"):  # from now on c1 refuses writes in namespace logging
                faults.fail(method, r"/namespaces/logging/", status=500, count=None)
            return super().next(path)

    script = Breaking([(500, "down")])
    with health_server(script) as url:
        change(three, f"gates:\n  - http: {{url: '{url}/'}}\n    failureThreshold: 1\n" + FAST)
        report = tmp_path / "report.json"
        failed = three.run(sync, SyncOptions(env="stage", yes=True, report=report))
    faults.clear()
    assert failed.code == 1, failed.out + failed.err
    assert "wave 0 rollback INCOMPLETE:" in failed.out
    assert "roll log-shipper back to revision 1              FAILED: helm rollback log-shipper on c1 failed " \
           "(exit 1): Error: " in failed.out
    assert "manual intervention required" in failed.out
    rollback = json.loads(report.read_text())["gates"]["waves"][0]["rollback"]
    assert {(r["release"], r["ok"]) for r in rollback} == {("log-shipper", False), ("cert-manager", True)}
    assert revisions(three)["c2"] == {"log-shipper": (1, "deployed")}  # no later wave started
