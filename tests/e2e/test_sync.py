"""`helmkit sync` end to end: real helm 3.19 / 4.1 against sandbox clusters (or real ones: docs/testing.md)."""

from __future__ import annotations

import base64
import gzip
import json
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.lock_env import EnvironmentLock, LockHolder, lock_name
from helmkit.actions.status import StatusOptions, status
from helmkit.actions.sync import SyncOptions, sync
from helmkit.adapters.helmstorage import encode_release
from helmkit.adapters.kube import KubeApiError
from helmkit.errors import LockedError
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository
from helmkit.model.resolve import environment_of
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import CANARY, PROD_CLUSTERS, Fleet

pytestmark = pytest.mark.e2e
prod = support.prod  # fixtures
stage = support.stage


def _last(fleet: Fleet, cluster: str, fragment: str) -> int:
    return max(r.seq for r in fleet.writes(cluster) if fragment in r.path)


def _first(fleet: Fleet, cluster: str, fragment: str) -> int:
    return min(r.seq for r in fleet.writes(cluster) if fragment in r.path)


def test_prod_fleet_syncs_in_wave_and_needs_order_then_a_second_sync_upgrades_nothing(prod: Fleet) -> None:
    first = prod.run(sync, SyncOptions(env="prod", yes=True))
    assert first.code == 0, first.out + first.err
    assert "31 install" in first.out
    assert ["total", "31", "0", "0", "0", "0"] in [line.split() for line in first.out.splitlines()]

    wave_of = {"prod-us-east-1": 0, "prod-us-west-2": 1, "prod-eu-west-1": 1, "prod-ap-southeast-1": 2}
    if prod.clusters.is_sandbox:
        _check_order_by_requests(prod, wave_of)
    else:
        _check_order_by_release_records(prod, wave_of)
    before = len(prod.argvs)
    second = prod.run(sync, SyncOptions(env="prod", yes=True))
    assert second.code == 0, second.err
    # nothing renders again: the render cache answers, and payments (a resolved secret: never cached) is
    # settled by the verdict the first sync kept for the record it wrote (helmkit/actions/verdicts.py)
    assert prod.argvs[before:] == [], prod.argvs[before:]
    assert second.helm_started == 0, second.ctx.runner.started
    assert "31 skip" in second.out

    shown = prod.run(status, StatusOptions(env="prod"))
    assert shown.code == 0
    assert shown.out.count("in-sync") == 31 and "out-of-sync" not in shown.out

    # the secret canary never shows: not in any output, argv or request path
    everything = first.out + first.err + second.out + second.err + shown.out
    assert CANARY not in everything
    assert all(CANARY not in arg for argv in prod.argvs for arg in argv)
    if prod.clusters.is_sandbox:  # a real cluster keeps no request log
        assert all(CANARY not in r.path + r.query for c in PROD_CLUSTERS for r in prod.clusters.requests(c))


def _check_order_by_requests(prod: Fleet, wave_of: dict[str, int]) -> None:
    # waves: every write of a wave lands before the first write of the next wave
    spans = {c: (min(r.seq for r in prod.writes(c)), max(r.seq for r in prod.writes(c))) for c in PROD_CLUSTERS}
    for early, wave in wave_of.items():
        for late, later_wave in wave_of.items():
            if later_wave > wave:
                assert spans[early][1] < spans[late][0], (early, late)
    # needs, on every cluster: cert-manager is up before cluster-issuer starts; ingress-nginx before payments
    for cluster in PROD_CLUSTERS:
        assert _last(prod, cluster, "/namespaces/cert-manager/deployments") < \
            _first(prod, cluster, "/cert-manager.io/v1/clusterissuers")
        if cluster != "prod-ap-southeast-1":  # payments is disabled there
            assert _last(prod, cluster, "/namespaces/ingress-nginx/deployments") < \
                _first(prod, cluster, "/namespaces/payments/")


def _check_order_by_release_records(prod: Fleet, wave_of: dict[str, int]) -> None:
    """The same order on real clusters, from when helm started each release (its record's last_deployed)."""
    started = {c: prod.deployed_at(c) for c in PROD_CLUSTERS}
    for early, wave in wave_of.items():
        for late, later_wave in wave_of.items():
            if later_wave > wave:
                assert max(started[early].values()) < min(started[late].values()), (early, late)
    for cluster in PROD_CLUSTERS:
        assert started[cluster]["cert-manager"] < started[cluster]["cluster-issuer"], cluster
        if cluster != "prod-ap-southeast-1":
            assert started[cluster]["ingress-nginx"] < started[cluster]["payments"], cluster


def test_an_environment_value_change_diffs_and_syncs_exactly_the_instances_it_covers(stage: Fleet) -> None:
    assert stage.run(sync, SyncOptions(env="stage", yes=True)).code == 0
    env_file = stage.root / "environments" / "stage.yaml"
    env_file.write_text(env_file.read_text().replace("flushSeconds: 1", "flushSeconds: 7"))

    shown = stage.run(diff, DiffOptions(env="stage", detailed_exitcode=True))
    assert shown.code == 2, shown.out + shown.err
    headers = [line for line in shown.out.splitlines() if line.startswith(("~ ", "+ ", "- ", "! "))]
    assert [h.split(":")[0] for h in headers] == [
        "~ c1 log-shipper (namespace logging)", "~ c2 log-shipper (namespace logging)"], shown.out
    assert all(h.endswith("out-of-sync +0 ~2 -0") for h in headers), headers  # the ConfigMap and its checksum
    assert "-flushSeconds: 1\n  +flushSeconds: 7" in shown.out

    synced = stage.run(sync, SyncOptions(env="stage", yes=True))
    assert synced.code == 0, synced.err
    upgrades = [argv for argv in stage.argvs if "upgrade" in argv[1:2]]
    assert [argv[3] for argv in upgrades[-2:]] == ["log-shipper", "log-shipper"]
    assert synced.helm_started == 2  # the two upgrades; renders come from the cache
    assert "2 upgrade, 4 skip" in synced.out

    after = stage.run(diff, DiffOptions(env="stage", detailed_exitcode=True))
    assert after.code == 0, after.out


def test_a_failed_release_is_rolled_back_its_dependents_skipped_and_later_waves_stopped(stage: Fleet) -> None:
    faults = stage.clusters.faults("c1")
    for method in ("POST", "PATCH"):  # helm 3 creates with POST, helm 4 applies with PATCH
        faults.fail(method, r"/namespaces/cert-manager/deployments", status=500, count=None)

    result = stage.run(sync, SyncOptions(env="stage", yes=True))
    assert result.code == 1, result.out + result.err
    table: dict[str, list[str]] = {}
    for line in result.out.splitlines():
        if line.startswith(("c1 ", "c2 ", "total ")):
            table.setdefault(line.split()[0], line.split()[1:])  # the counts table comes first
    assert table["c1"] == ["1", "0", "1", "1", "0"]  # log-shipper deployed, cert-manager failed, issuer skipped
    assert table["c2"] == ["0", "0", "0", "3", "0"]  # its wave never started
    assert "needs cert-manager, which failed" in result.out
    # the failed install was removed by helm (rollback on failure): read from the history, not helm's words
    assert "helm removed the failed install: nothing is left installed" in result.out, result.out
    assert "manual intervention required" not in result.out + result.err, result.out
    assert "earlier wave failed" in result.out
    assert not stage.writes("c2")

    faults.clear()
    deployed = stage.helm("list", "-A", "-q", "--deployed", context="c1").stdout.split()
    assert deployed == ["log-shipper"]  # the failed install was rolled back (uninstalled) by helm

    retry = stage.run(sync, SyncOptions(env="stage", yes=True))
    assert retry.code == 0, retry.out + retry.err


def test_an_unreachable_cluster_fails_its_wave_while_the_clusters_before_it_deploy(stage: Fleet) -> None:
    stage.clusters.faults("c2").set_unreachable()
    result = stage.run(sync, SyncOptions(env="stage", yes=True))
    assert result.code == 1, result.out + result.err
    assert "error: cluster c2: " in result.err
    assert (result.out + result.err).count("Connection refused") == 1  # once for the cluster, not per release
    counts = [line.split() for line in result.out.splitlines() if line.startswith(("c1 ", "c2 "))][:2]
    assert counts == [["c1", "3", "0", "0", "0", "0"], ["c2", "0", "0", "3", "0", "0"]]
    assert "cluster unreachable" in result.out


def test_prune_removes_a_release_gone_from_the_specs_and_leaves_plain_helm_releases_alone(stage: Fleet) -> None:
    assert stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1")).code == 0
    stage.helm("upgrade", "--install", "hand-made", str(stage.root / "charts" / "log-shipper"),
               "--namespace", "handmade", "--create-namespace", context="c1")
    (stage.root / "releases" / "log-shipper.yaml").unlink()
    env_file = stage.root / "environments" / "stage.yaml"
    env_file.write_text(env_file.read_text().split("releases:")[0])

    kept = stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1"))
    assert kept.code == 0, kept.err
    assert "c1/log-shipper: installed by helmkit, gone from the specs; pass --prune to uninstall it" in kept.out

    pruned = stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1", prune=True))
    assert pruned.code == 0, pruned.out + pruned.err
    assert "1 uninstall" in pruned.out
    uninstalls = [argv for argv in stage.argvs if argv[1:2] == ["uninstall"]]
    assert [argv[2] for argv in uninstalls] == ["log-shipper"]
    names = stage.helm("list", "-A", "-q", context="c1").stdout.split()
    assert "hand-made" in names and "log-shipper" not in names


def test_two_syncs_of_one_environment_one_fails_fast_naming_the_holder(stage: Fleet) -> None:
    stage.clusters.faults("c1").latency(0.3, path=r"/namespaces/cert-manager/deployments")
    outcome: dict[str, int] = {}
    thread = threading.Thread(target=lambda: outcome.update(
        code=stage.run(sync, SyncOptions(env="stage", yes=True)).code))
    thread.start()
    deadline = time.monotonic() + 30
    while not any(r.method == "POST" and "/kube-system/leases" in r.path for r in stage.clusters.requests("c2")):
        assert time.monotonic() < deadline, "the first sync never took its lock"
        time.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(LockedError) as caught:
        stage.run(sync, SyncOptions(env="stage", yes=True))
    assert time.monotonic() - started < 5
    message = caught.value.render()
    assert "environment stage is locked on cluster c1 by" in message and "pid" in message
    assert re.search(r"until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ unless renewed", message), message
    thread.join(timeout=120)
    assert outcome == {"code": 0}


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid  # reaped: no process has this pid now (until the kernel reuses it)


def _leave_lease(fleet: Fleet, *, pid: int, host: str | None = None, renewed_ago: float = 0.0) -> None:
    """A lease as a sync that stopped renewing it left it: its holder, renewed ``renewed_ago`` seconds ago."""
    ctx = fleet.context()
    left = EnvironmentLock(ctx, "stage", [c for c in _clusters(fleet) if c.name == "c1"],
                           holder=replace(LockHolder.current(), pid=pid, host=host or socket.gethostname()))
    body = left.lease_body(datetime.now(UTC) - timedelta(seconds=renewed_ago))
    with fleet.clusters.client("c1") as client:
        client.create(body)


def _lease(fleet: Fleet) -> dict[str, object] | None:
    with fleet.clusters.client("c1") as client:
        return client.get("coordination.k8s.io/v1", "Lease", lock_name("stage"), "kube-system")


def test_a_live_lease_is_broken_only_with_break_lock_and_only_when_its_holder_is_gone(stage: Fleet) -> None:
    _leave_lease(stage, pid=_dead_pid())  # a killed sync on this host, seconds ago: its lease runs on
    with pytest.raises(LockedError) as caught:
        stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1"))
    assert "unless renewed" in caught.value.render()
    broke = stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1", break_lock=True))
    assert broke.code == 0, broke.err
    assert "warning: broke the lock on c1" in broke.err
    assert _lease(stage) is None  # released at the end
    if stage.clusters.is_sandbox:  # a real cluster keeps no request log
        assert any(r.method == "DELETE" and lock_name("stage") in r.path for r in stage.clusters.requests("c1"))


def test_break_lock_never_breaks_a_lease_whose_holder_is_alive_on_this_host(stage: Fleet) -> None:
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        _leave_lease(stage, pid=alive.pid)
        with pytest.raises(LockedError) as caught:
            stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1", break_lock=True))
    finally:
        alive.kill()
        alive.wait()
    message = caught.value.render()
    assert f"its process (pid {alive.pid}) is alive on this host, so --break-lock does not break it" in message
    assert stage.clusters.releases("c1") == []  # nothing ran


def test_an_abandoned_lease_expires_by_itself_and_the_next_sync_takes_it_over(stage: Fleet) -> None:
    # a sync on another machine that lost its cluster before it could release the lock, ten minutes ago
    _leave_lease(stage, pid=4242, host="build-agent-7", renewed_ago=600)
    taken = stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1"))
    assert taken.code == 0, taken.err
    assert "note: took over the expired lock on c1 (held by" in taken.err and "build-agent-7 pid 4242" in taken.err
    assert _lease(stage) is None


def test_the_running_sync_renews_its_lease(stage: Fleet) -> None:
    ctx = stage.context()
    lock = EnvironmentLock(ctx, "stage", [c for c in _clusters(stage) if c.name == "c1"], lease_seconds=1)
    with lock:
        first = _lease(stage)
        assert first is not None
        deadline = time.monotonic() + 30
        while (_lease(stage) or {}).get("spec", {}).get("renewTime") == first["spec"]["renewTime"]:  # type: ignore[index]
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.1)
        spec = (_lease(stage) or {})["spec"]
        assert spec["holderIdentity"] == lock.holder.identity and spec["leaseDurationSeconds"] == 1
        with stage.clusters.client("c1") as client, pytest.raises(KubeApiError) as stale:
            client.replace(first)  # an update carrying an old resourceVersion: what a second taker would send
        assert stale.value.status == 409
    assert _lease(stage) is None


def test_dry_run_prints_each_helm_command_with_secrets_masked_and_changes_nothing(prod: Fleet) -> None:
    result = prod.run(sync, SyncOptions(env="prod", cluster="prod-us-east-1", selector="name=payments",
                                        dry_run=True))
    assert result.code == 0, result.err
    assert "upgrade --install payments" in result.out and "<values-file>" in result.out
    assert "--labels helmkit.dev/managed=true,helmkit.dev/env=prod,helmkit.dev/cluster=prod-us-east-1" in result.out
    assert CANARY not in result.out + result.err
    assert prod.clusters.releases("prod-us-east-1") == []
    if prod.clusters.is_sandbox:  # a real cluster keeps no request log
        assert not prod.writes("prod-us-east-1")


def _clusters(fleet: Fleet) -> list[Cluster]:
    return [spec.cluster for spec in environment_of(load_repository(fleet.root), "stage").clusters]


def _mark_pending(fleet: Fleet, cluster: str, release: str, namespace: str, revision: int) -> None:
    """What a killed helm client leaves behind: the newest record stuck in pending-upgrade."""
    with fleet.clusters.client(cluster) as client:
        name = f"sh.helm.release.v1.{release}.v{revision}"
        secret = client.get("v1", "Secret", name, namespace)
        assert secret is not None
        doc = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
        doc["info"]["status"] = "pending-upgrade"
        secret["data"]["release"] = base64.b64encode(encode_release(doc).encode()).decode()
        secret["metadata"]["labels"]["status"] = "pending-upgrade"
        client.replace(secret)


def test_a_pending_release_is_reported_and_recovered_only_with_recover(stage: Fleet) -> None:
    def only(**extra: object) -> SyncOptions:
        return SyncOptions(env="stage", cluster="c1", selector="name=log-shipper", yes=True, **extra)  # type: ignore[arg-type]

    assert stage.run(sync, only()).code == 0
    assert stage.run(sync, only(set_values=("flushSeconds=3",))).code == 0
    _mark_pending(stage, "c1", "log-shipper", "logging", 2)

    blocked = stage.run(sync, only())
    assert blocked.code == 1, blocked.out
    assert "pending-upgrade at revision 2" in blocked.out and "pass --recover" in blocked.out
    assert blocked.helm_started == 0

    recovered = stage.run(sync, only(recover=True))
    assert recovered.code == 0, recovered.out + recovered.err
    history = stage.helm("history", "log-shipper", "-n", "logging", "-o", "json", context="c1").stdout
    assert [(h["revision"], h["description"]) for h in json.loads(history)][2:] == [
        (3, "Rollback to 1"), (4, "Upgrade complete")]
    assert stage.run(diff, DiffOptions(env="stage", cluster="c1", selector="name=log-shipper",
                                       detailed_exitcode=True)).code == 0
