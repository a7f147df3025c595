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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.drift import DriftOptions, ReportTarget, drift
from helmkit.actions.sync import SyncOptions, sync
from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.helmstorage import encode_release
from helmkit.adapters.runner import Result
from helmkit.adapters.secretforms import secret_forms
from helmkit.errors import ToolError
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import CANARY, REPO, Fleet, RecordingRunner

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


# -- case 17: secrets reach helm only on its stdin (never a file); masked in helm's stderr and argv -----

@dataclass
class ValuesSeen:
    flag_value: str  # what follows -f / --values
    stdin_holds_canary: bool


@dataclass
class ValuesCheckingRunner(RecordingRunner):
    """The real runner; notes, for each helm process, what its values flag names and what its stdin holds."""

    seen: list[ValuesSeen] = field(default_factory=list)

    def run(self, argv: Sequence[str], **kwargs: Any) -> Result:
        args = [str(a) for a in argv]
        for flag, value in itertools.pairwise(args):
            if flag in ("-f", "--values"):
                self.seen.append(ValuesSeen(value, CANARY in str(kwargs.get("stdin") or "")))
        return super().run(argv, **kwargs)


GUARD_TEMPLATE = """{{- if and (lookup "v1" "Namespace" "" .Release.Namespace) .Values.rejectPassword }}
{{- fail (printf "rejected password %s" .Values.password) }}
{{- end }}
"""


def with_secret(fleet: Fleet) -> None:
    """log-shipper of the stage fleet gets the canary as a value, and a template that fails on upgrade
    quoting it (its lookup finds nothing in helm template, so only the upgrade fails)."""
    env_file = fleet.root / "environments" / "stage.yaml"
    doc = yaml.safe_load(env_file.read_text())
    doc["releases"]["log-shipper"].setdefault("values", {})["password"] = "ref+env://PAYMENTS_DB_PASSWORD"
    env_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    (fleet.root / "charts" / "log-shipper" / "templates" / "guard.yaml").write_text(GUARD_TEMPLATE)


def assert_values_on_stdin(seen: list[ValuesSeen]) -> None:
    """Every values flag was `-f -` and the secret went to helm's stdin."""
    assert seen and all(s.flag_value == "-" for s in seen), seen
    assert seen[-1].stdin_holds_canary, seen


def run_checked(fleet: Fleet, options: SyncOptions) -> tuple[support.Outcome, ValuesCheckingRunner]:
    ctx = fleet.context()
    runner = ValuesCheckingRunner(masker=ctx.masker)
    runner.argvs = fleet.argvs
    ctx.runner = runner
    code = sync(ctx, options)
    out, err = ctx.console.out.getvalue(), ctx.console.err.getvalue()  # type: ignore[attr-defined]
    return support.Outcome(code, out, err, ctx), runner


def files_holding_canary(*roots: Path) -> list[Path]:
    """Files under ``roots`` that hold the canary in any form helm or helmkit could write it."""
    forms = [form.encode() for form in secret_forms(CANARY)]
    return [path for root in roots if root.exists() for path in root.rglob("*")
            if path.is_file() and not path.is_symlink() and any(form in path.read_bytes() for form in forms)]


def test_case17_secret_values_reach_helm_on_stdin_never_in_a_file(stage: Fleet, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with_secret(stage)
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    installed, runner = run_checked(stage, only_log_shipper())
    assert installed.code == 0, installed.out + installed.err
    assert_values_on_stdin(runner.seen)

    failed, runner = run_checked(stage, only_log_shipper(set_values=("rejectPassword=true",)))
    assert failed.code == 1, failed.out + failed.err
    assert "rejected password ***" in failed.out, failed.out  # helm's stderr is shown, masked
    assert CANARY not in failed.out + failed.err  # ...masked
    assert_values_on_stdin(runner.seen)
    assert all(CANARY not in arg and not arg.startswith("--set") for argv in stage.argvs for arg in argv)
    assert files_holding_canary(temp, stage.root) == []


def test_case17_a_helm_error_quoting_the_secret_is_masked_in_stderr_and_argv(stage: Fleet) -> None:
    """The runner's error (argv and stderr) for a failed helm process, as the CLI would print it."""
    with_secret(stage)
    assert stage.run(sync, only_log_shipper()).code == 0
    ctx = stage.context()
    ctx.masker.add(CANARY)
    helm = [str(stage.helm_bin), "upgrade", "log-shipper", str(stage.root / "charts" / "log-shipper"),
            "-n", "logging", "--kube-context", stage.clusters.context("c1"), "--set-string", f"password={CANARY}",
            "--set", "rejectPassword=true", "--reuse-values"]
    with pytest.raises(ToolError) as info:
        ctx.runner.run(helm, what="helm upgrade log-shipper")
    rendered = info.value.render() + "\n" + info.value.stderr + "\n" + " ".join(info.value.argv or [])
    assert "rejected password" in info.value.stderr
    assert CANARY not in rendered


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_case17_no_values_file_while_helm_runs_nor_after_an_interrupt_case11_no_orphans(stage: Fleet,
                                                                                    tmp_path: Path) -> None:
    with_secret(stage)
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    stage.clusters.faults("c1").latency(3.0, path=r"/namespaces/logging/daemonsets")
    argv = [sys.executable, "-m", "helmkit", "--repo", str(stage.root), "--helm", str(stage.helm_bin), "sync",
            "--env", "stage", "--cluster", "c1", "--selector", "name=log-shipper", "--yes"]
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"), TMPDIR=str(temp))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not any("/namespaces/logging/daemonsets" in r.path for r in stage.clusters.requests("c1")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)  # the upgrade is running: its DaemonSet write waits 3 s in the sandbox
    upgrades = [p for p in processes_naming(str(stage.root / "charts" / "log-shipper")) if " upgrade " in p]
    assert len(upgrades) == 1 and " -f - " in upgrades[0], upgrades  # the values go to helm's stdin
    assert files_holding_canary(temp) == []
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)  # the second signal terminates the running helm
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted" in out and "second signal: terminating running helm processes" in err, err
    assert list(temp.glob("helmkit-values-*")) == []
    assert CANARY not in out + err
    assert processes_naming(str(temp)) == []  # case 11: the terminated helm left no orphan behind


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_case17_kill_9_during_a_sync_leaves_no_file_holding_the_secret(stage: Fleet, tmp_path: Path) -> None:
    with_secret(stage)
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    stage.clusters.faults("c1").latency(3.0, path=r"/namespaces/logging/daemonsets")
    argv = [sys.executable, "-m", "helmkit", "--repo", str(stage.root), "--helm", str(stage.helm_bin), "sync",
            "--env", "stage", "--cluster", "c1", "--selector", "name=log-shipper", "--yes"]
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"), TMPDIR=str(temp))
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while not any("/namespaces/logging/daemonsets" in r.path for r in stage.clusters.requests("c1")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)  # helm upgrade is running: its DaemonSet write waits 3 s in the sandbox
    proc.kill()
    proc.wait(timeout=30)
    chart = str(stage.root / "charts" / "log-shipper")
    while processes_naming(chart):  # helm runs in its own session: let it finish its upgrade
        assert time.monotonic() < deadline + 60
        time.sleep(0.1)
    assert files_holding_canary(temp, stage.root) == []


SLOW_TEMPLATE = "{{- range $i := until 4000 }}{{ range $j := until 4000 }}{{ end }}{{- end }}\n"


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_case11_sigint_while_rendering_applies_nothing_and_leaves_no_values_file_or_process(
        stage: Fleet, tmp_path: Path) -> None:
    with_secret(stage)
    (stage.root / "charts" / "log-shipper" / "templates" / "slow.yaml").write_text(SLOW_TEMPLATE)  # ~2 s render
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    argv = [sys.executable, "-m", "helmkit", "--repo", str(stage.root), "--helm", str(stage.helm_bin), "sync",
            "--env", "stage", "--cluster", "c1", "--yes"]
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"), TMPDIR=str(temp))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    chart = str(stage.root / "charts" / "log-shipper")
    deadline = time.monotonic() + 60
    while not [p for p in processes_naming(chart) if " template " in p]:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err, err
    assert not [r for r in stage.writes("c1") if "/namespaces/" in r.path]  # nothing applied
    assert list(temp.glob("helmkit-values-*")) == []
    assert processes_naming(chart) == [] and processes_naming(str(temp)) == []
    assert CANARY not in out + err


def processes_naming(text: str) -> list[str]:
    """Command lines of the live processes whose argv mentions ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if any(text in arg for arg in argv):
                found.append(" ".join(argv))
    return found


# -- case 18: every call names its kube context; the current context is never used nor changed ----------

@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_case18_calls_name_their_context_and_the_current_context_is_untouched(stage: Fleet) -> None:
    stage.clusters.require_sandbox("the request log of the bystander cluster needs the sandbox")
    env_file = stage.root / "environments" / "stage.yaml"
    doc = yaml.safe_load(env_file.read_text())
    doc["clusters"] = [c for c in doc["clusters"] if c["name"] == "c1"]
    env_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    kubeconfig = yaml.safe_load(stage.kubeconfig.read_text())
    kubeconfig["current-context"] = "c2"  # a bystander: nothing may touch it
    stage.kubeconfig.write_text(yaml.safe_dump(kubeconfig))
    before = stage.kubeconfig.read_bytes()
    mtime = stage.kubeconfig.stat().st_mtime_ns

    assert stage.run(sync, SyncOptions(env="stage", yes=True)).code == 0
    assert stage.run(diff, DiffOptions(env="stage", detailed_exitcode=True)).code == 0
    assert stage.run(drift, DriftOptions(envs=("stage",))).code == 0

    assert stage.kubeconfig.read_bytes() == before and stage.kubeconfig.stat().st_mtime_ns == mtime
    assert stage.clusters.requests("c2") == []
    assert stage.clusters.requests("c1")
    cluster_calls = [argv for argv in stage.argvs if Path(argv[0]).name.startswith(("helm", "kubectl"))
                     and argv[1] not in ("version", "template")]
    assert cluster_calls  # the installs
    for argv in cluster_calls:
        flag = "--kube-context" if Path(argv[0]).name.startswith("helm") else "--context"
        assert flag in argv and argv[argv.index(flag) + 1] == "c1", argv
