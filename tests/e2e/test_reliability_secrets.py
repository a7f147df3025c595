"""reliability.md cases 11, 17 and 18 (secrets, interrupts, kube contexts) that no other test proves
end to end; cases 8-15 are in test_reliability.py. Real helm 3.19 / 4.1 against sandbox clusters.
The secret canary is ``PAYMENTS_DB_PASSWORD``.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.drift import DriftOptions, drift
from helmkit.actions.sync import SyncOptions, sync
from helmkit.adapters.runner import Result
from helmkit.adapters.secretforms import secret_forms
from helmkit.errors import ToolError
from tests.e2e import test_sync_support as support
from tests.e2e.test_reliability import only_log_shipper
from tests.e2e.test_sync_support import CANARY, REPO, Fleet, RecordingRunner

pytestmark = pytest.mark.e2e
stage = support.stage  # fixture


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
