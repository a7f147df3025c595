"""reliability.md cases 8-18 (faults and secrets) that no other test proves end to end.

Each test names its case; docs/reliability.md maps every case to the tests that prove it. Real
helm 3.19 / 4.1 against sandbox clusters; faults are injected by the sandbox (tests that need
them skip on real clusters). The secret canary is ``PAYMENTS_DB_PASSWORD``.
"""

from __future__ import annotations

import base64
import errno
import gzip
import itertools
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.drift import DriftOptions, ReportTarget, drift
from helmkit.actions.sync import SyncOptions, sync
from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.helmstorage import encode_release
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import REPO, Fleet

pytestmark = pytest.mark.e2e
stage = support.stage  # fixture

def only_log_shipper(**extra: Any) -> SyncOptions:
    return SyncOptions(env="stage", cluster="c1", selector="name=log-shipper", yes=True, **extra)


def helm_commands(fleet: Fleet, command: str, release: str) -> list[list[str]]:
    """The helm processes helmkit started for ``helm <command> <release>``."""
    return [argv for argv in fleet.argvs
            if Path(argv[0]).name == "helm" and command in argv[1:2] and release in argv[2:4]]


def history(fleet: Fleet, release: str, namespace: str, cluster: str) -> list[tuple[int, str]]:
    text = fleet.helm("history", release, "-n", namespace, "-o", "json", context=cluster).stdout
    return [(h["revision"], h["status"]) for h in json.loads(text)]


# -- case 8: a failed upgrade is rolled back to the revision before it ------------------------------------

def test_case8_a_failed_upgrade_is_rolled_back_and_the_release_stays_as_it_was(stage: Fleet) -> None:
    assert stage.run(sync, only_log_shipper()).code == 0
    faults = stage.clusters.faults("c1")
    for method in ("PUT", "PATCH"):  # one failed write of the upgrade; helm's rollback then succeeds
        faults.fail(method, r"/namespaces/logging/daemonsets", status=500, count=1)

    result = stage.run(sync, only_log_shipper(set_values=("flushSeconds=9",)))
    assert result.code == 1, result.out + result.err
    assert "has been rolled back" in result.out, result.out  # helm's own error line, in the reason
    assert "Error: UPGRADE FAILED" in result.out, result.out
    # decided from the release history (3 deployed "Rollback to 1"), on both majors: no false alarm
    assert "manual intervention required" not in result.out + result.err, result.out
    assert "helm rolled it back: revision 3 runs revision 1 again" in result.out, result.out
    counts = [line.split() for line in result.out.splitlines() if line.startswith("c1 ")]
    assert counts[0] == ["c1", "0", "0", "1", "0", "0"], result.out  # failed
    assert len(helm_commands(stage, "upgrade", "log-shipper")) == 2  # no retry of the upgrade
    text = stage.helm("history", "log-shipper", "-n", "logging", "-o", "json", context="c1").stdout
    latest = json.loads(text)[-1]
    assert (latest["status"], latest["description"]) == ("deployed", "Rollback to 1"), latest
    in_sync = stage.run(diff, DiffOptions(env="stage", cluster="c1", selector="name=log-shipper",
                                          detailed_exitcode=True))
    assert in_sync.code == 0, in_sync.out  # the live release is revision 1's again


# -- case 9: the rollback itself fails, or its target was pruned ---------------------------------------

class RollbackBreaker:
    """Lets the upgrade change the ConfigMap, fails its DaemonSet write, and from then on fails every
    ConfigMap write: helm's own rollback (``--atomic`` / ``--rollback-on-failure``) must restore the
    ConfigMap and cannot."""

    def __init__(self, fleet: Fleet, cluster: str) -> None:
        self.fleet, self.cluster = fleet, cluster
        self.since = max((r.seq for r in fleet.clusters.requests(cluster)), default=0)
        faults = fleet.clusters.faults(cluster)
        for method in ("PUT", "PATCH"):
            faults.latency(1.0, method, r"/namespaces/logging/daemonsets")  # time to arm the ConfigMap fault
            faults.fail(method, r"/namespaces/logging/daemonsets", status=500, count=None)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._arm, daemon=True)

    def __enter__(self) -> RollbackBreaker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.fleet.clusters.faults(self.cluster).clear()

    def _arm(self) -> None:
        while not self.stop.is_set():
            if any(r.method in ("PUT", "PATCH") and "/namespaces/logging/configmaps" in r.path
                   for r in self.fleet.clusters.requests(self.cluster, self.since)):
                for method in ("PUT", "PATCH"):
                    self.fleet.clusters.faults(self.cluster).fail(method, r"/namespaces/logging/configmaps",
                                                                  status=500, count=None)
                return
            time.sleep(0.005)


def test_case9_upgrade_and_its_rollback_fail_exit_1_and_no_retry(stage: Fleet) -> None:
    assert stage.run(sync, only_log_shipper()).code == 0
    with RollbackBreaker(stage, "c1"):
        result = stage.run(sync, only_log_shipper(set_values=("flushSeconds=9",)))
    assert result.code == 1, result.out + result.err
    assert "error occurred while rolling back the release" in result.out, result.out  # helm's own words
    assert len(helm_commands(stage, "upgrade", "log-shipper")) == 2  # the install, then exactly one upgrade
    assert helm_commands(stage, "rollback", "log-shipper") == []  # helm rolled back itself; no retry loop
    states = history(stage, "log-shipper", "logging", "c1")
    # revision 2: the upgrade; revision 3: helm's rollback to 1, which failed; 1 is still recorded deployed
    assert states == [(1, "deployed"), (2, "superseded"), (3, "failed")], states


def test_case9_failed_rollback_says_manual_intervention_naming_the_revisions(stage: Fleet) -> None:
    assert stage.run(sync, only_log_shipper()).code == 0
    with RollbackBreaker(stage, "c1"):
        result = stage.run(sync, only_log_shipper(set_values=("flushSeconds=9",)))
    assert result.code == 1 and "error occurred while rolling back" in result.out, result.out
    shown = result.out + result.err
    assert "manual intervention required" in shown, shown
    assert "revision 2" in shown and "revision 1" in shown, shown


def test_case9_recover_without_a_good_revision_left_needs_manual_intervention(stage: Fleet) -> None:
    """History pruned (what ``historyMax`` does): the only record left is the pending one."""
    for flush in ("1", "2", "3"):
        assert stage.run(sync, only_log_shipper(set_values=(f"flushSeconds={flush}",))).code == 0
    set_status(stage, "c1", ("log-shipper", "logging", 3), "pending-upgrade")
    with stage.clusters.client("c1") as client:
        for revision in (1, 2):
            client.delete("v1", "Secret", f"sh.helm.release.v1.log-shipper.v{revision}", "logging")

    before = len(stage.argvs)
    result = stage.run(sync, only_log_shipper(recover=True))
    assert result.code == 1, result.out + result.err
    assert "manual intervention required" in result.out, result.out
    assert "pending-upgrade at revision 3" in result.out, result.out
    assert [a for a in stage.argvs[before:] if Path(a[0]).name == "helm" and a[1] not in ("template", "version")] == []


def set_status(fleet: Fleet, cluster: str, record: tuple[str, str, int], status: str, *,
               started: datetime | None = None) -> None:
    """Rewrite the status (and start time) of one Helm release record: what a killed client or a
    failed run leaves behind."""
    release, namespace, revision = record
    with fleet.clusters.client(cluster) as client:
        secret = client.get("v1", "Secret", f"sh.helm.release.v1.{release}.v{revision}", namespace)
        assert secret is not None
        doc = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
        doc["info"]["status"] = status
        if started is not None:
            doc["info"]["last_deployed"] = started.isoformat()
        secret["data"]["release"] = base64.b64encode(encode_release(doc).encode()).decode()
        secret["metadata"]["labels"]["status"] = status
        client.replace(secret)


# -- case 10: a release left pending by a killed client ---------------------------------------------------

def test_case10_a_release_pending_for_hours_is_reported_with_revision_and_age_and_left_alone(stage: Fleet) -> None:
    assert stage.run(sync, only_log_shipper()).code == 0
    started = datetime.now(UTC) - timedelta(hours=2, minutes=30)
    set_status(stage, "c1", ("log-shipper", "logging", 1), "pending-install", started=started)

    before = len(stage.argvs)
    result = stage.run(sync, only_log_shipper())
    assert result.code == 1, result.out + result.err
    assert "pending-install at revision 1 for 2h30m" in result.out or \
        "pending-install at revision 1 for 2h29m" in result.out, result.out
    assert "pass --recover to uninstall it and install again" in result.out, result.out
    assert [a for a in stage.argvs[before:] if Path(a[0]).name == "helm" and a[1] not in ("template", "version")] \
        == []


# -- case 12: API server errors on reads are retried with backoff ------------------------------------

def test_case12_5xx_and_dropped_reads_are_retried_with_backoff_and_the_sync_succeeds(stage: Fleet) -> None:
    faults = stage.clusters.faults("c1")
    faults.fail("GET", r"/secrets", status=503, count=1)
    faults.drop("GET", r"/secrets", count=1)
    result = stage.run(sync, SyncOptions(env="stage", yes=True))
    assert result.code == 0, result.out + result.err
    assert "6 install" in result.out
    reads = [r for r in stage.clusters.requests("c1") if r.method == "GET" and "/secrets" in r.path
             and r.user_agent.startswith("helmkit")]
    assert [r.status for r in reads[:3]] == [503, -1, 200], [(r.path, r.status) for r in reads[:4]]
    assert len({r.path + r.query for r in reads[:3]}) == 1  # the same read, again
    gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(reads[:3])]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19, gaps  # backoff 0.2 s doubling, half of it jittered


# -- case 14: a failed release with an empty rendered diff is not in sync -----------------------------

def test_case14_a_failed_release_whose_diff_is_empty_is_not_in_sync_and_sync_upgrades_it(stage: Fleet) -> None:
    assert stage.run(sync, only_log_shipper()).code == 0
    set_status(stage, "c1", ("log-shipper", "logging", 1), "failed")
    shown = stage.run(diff, DiffOptions(env="stage", cluster="c1", selector="name=log-shipper",
                                        detailed_exitcode=True))
    assert shown.code == 2, shown.out + shown.err
    assert "in-sync" not in shown.out and "failed" in shown.out, shown.out
    synced = stage.run(sync, only_log_shipper())
    assert synced.code == 0 and "1 upgrade" in synced.out, synced.out
    assert history(stage, "log-shipper", "logging", "c1")[-1] == (2, "deployed")


# -- case 15: reports and caches are written via a temp file and a rename -----------------------------

def _drift_argv(fleet: Fleet, report: Path, *, keep_sigxfsz: bool) -> list[str]:
    args = ["--repo", str(fleet.root), "--helm", str(fleet.helm_bin), "drift", "--env", "stage",
            "--report", f"json={report}", "--kubeconfig", str(fleet.kubeconfig)]
    if keep_sigxfsz:  # a write beyond the size limit fails with EFBIG (Python ignores SIGXFSZ)
        return [sys.executable, "-m", "helmkit", *args]
    # the default action of SIGXFSZ kills the process in the middle of the write
    boot = ("import runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
            "sys.argv = ['helmkit', *sys.argv[1:]]; runpy.run_module('helmkit', run_name='__main__')")
    return [sys.executable, "-c", boot, *args]


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
@pytest.mark.parametrize("killed", [False, True], ids=["write-fails", "killed-mid-write"])
def test_case15_a_report_write_that_fails_or_is_killed_leaves_the_previous_report_intact(
        stage: Fleet, tmp_path: Path, killed: bool) -> None:
    assert stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1")).code == 0
    folder = tmp_path / "reports"
    report = folder / "drift.json"
    first = stage.run(drift, DriftOptions(envs=("stage",), reports=(ReportTarget("json", report),)))
    assert first.code == 2, first.out + first.err  # c2 was never synced: drift
    previous = report.read_bytes()
    assert json.loads(previous)["environments"] == ["stage"]

    limit = len(previous) // 2
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"))
    proc = subprocess.run(_drift_argv(stage, report, keep_sigxfsz=not killed), capture_output=True, text=True,
                          env=env, timeout=120, check=False,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    if killed:
        assert proc.returncode == -signal.SIGXFSZ, (proc.returncode, proc.stderr)
        partial = [p for p in folder.iterdir() if p.name.startswith(".drift.json.") and p.name.endswith(".tmp")]
        assert [p.stat().st_size for p in partial] == [limit]  # it died in the middle of writing the new one
    else:
        assert proc.returncode == 1, proc.stderr
        assert f"error: cannot write report {report}: File too large" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["drift.json"]  # no temp file left behind
    assert report.read_bytes() == previous  # never truncated
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == ["drift.json"]


def test_case15_a_cache_write_beyond_the_file_size_limit_keeps_the_old_entry(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    key = content_key({"render": "web"})
    cache.put(key, b"old entry")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(OSError) as info:
            cache.put(key, b"x" * 100_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert info.value.errno == errno.EFBIG
    assert cache.get(key) == b"old entry"
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name.endswith(".tmp")] == []
