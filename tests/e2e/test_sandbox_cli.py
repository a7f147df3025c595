"""`helmkit sandbox up/status/down` on a small release repository: a background sandbox that keeps state."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from helmkit.adapters.runner import Result, Runner
from helmkit.adapters.tools import binary_path
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.e2e


def _repo(root: Path) -> Path:
    (root / "environments").mkdir(parents=True)
    (root / "helmkit.yaml").write_text('helm:\n  version: ">=3.19.0 <5.0.0"\n')
    (root / "environments" / "test.yaml").write_text(
        "clusters:\n  - name: east\n    context: ctx-east\n  - name: west\n")
    (root / "environments" / "stage.yaml").write_text("clusters:\n  - name: stage-1\n")
    (root / "environments" / "qa.yaml").write_text("clusters:\n  - name: qa-1\n    context: ctx-qa\n")
    return root


def test_up_status_down_keeps_objects(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    runner = Runner()
    env = {"KUBECACHEDIR": str(tmp_path / "kube-cache")}

    def helmkit(*args: str, check: bool = True) -> Result:
        return runner.run([sys.executable, "-m", "helmkit", "--repo", str(repo), "sandbox", *args], env=env,
                          timeout=60, check=check)

    def kubectl(*args: str) -> Result:
        return runner.run([str(binary_path(REPO, "kubectl-v1.35.2")), "--kubeconfig", str(kubeconfig), *args],
                          env=env, timeout=30)

    kubeconfig = tmp_path / "kc" / "config"
    try:
        up = helmkit("up", "--env", "test", "--kubeconfig", str(kubeconfig))
        assert up.stdout.strip() == f"export KUBECONFIG={kubeconfig}"
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
        assert kubectl("config", "get-contexts", "-o", "name").stdout.split() == ["ctx-east", "west"]
        assert "running" in helmkit("status").stdout
        first_port = kubectl("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}").stdout
        again = helmkit("up", "--env", "test", "--kubeconfig", str(kubeconfig))  # reuses the running one
        assert "already running" in again.stderr
        assert kubectl("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}").stdout == first_port
        kubectl("--context", "west", "create", "configmap", "kept", "--from-literal=a=b")
        assert "kept" not in kubectl("--context", "ctx-east", "get", "configmaps").stdout

        assert "stopped" in helmkit("down").stdout
        assert "not running" in helmkit("status").stdout
        helmkit("up", "--env", "test", "--kubeconfig", str(kubeconfig))
        assert kubectl("--context", "west", "get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"
    finally:
        helmkit("down", check=False)
    unknown = helmkit("up", "--env", "nope", check=False)
    assert unknown.returncode == 1
    assert "unknown environment 'nope'" in unknown.stderr


def test_several_environments_and_reset(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    runner = Runner()
    env = {"KUBECACHEDIR": str(tmp_path / "kube-cache")}
    kubeconfig = repo / ".helmkit" / "sandbox" / "kubeconfig"

    def helmkit(*args: str, check: bool = True) -> Result:
        return runner.run([sys.executable, "-m", "helmkit", "--repo", str(repo), "sandbox", *args], env=env,
                          timeout=60, check=check)

    def kubectl(*args: str, check: bool = True) -> Result:
        return runner.run([str(binary_path(REPO, "kubectl-v1.35.2")), "--kubeconfig", str(kubeconfig), *args],
                          env=env, timeout=30, check=check)

    try:
        helmkit("up", "--env", "test", "--env", "stage")
        assert kubectl("config", "get-contexts", "-o", "name").stdout.split() == ["ctx-east", "stage-1", "west"]
        kubectl("--context", "west", "create", "configmap", "kept", "--from-literal=a=b")
        west = kubectl("config", "view", "-o", "jsonpath={.clusters[?(@.name==\"west\")].cluster.server}").stdout

        added = helmkit("up", "--env", "qa")  # a second environment joins the running sandbox
        assert "restarted with more clusters" in added.stderr
        contexts = kubectl("config", "get-contexts", "-o", "name").stdout.split()
        assert contexts == ["ctx-east", "ctx-qa", "stage-1", "west"]
        assert kubectl("config", "view", "-o",
                       "jsonpath={.clusters[?(@.name==\"west\")].cluster.server}").stdout == west  # same port
        assert kubectl("--context", "west", "get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"
        assert kubectl("--context", "ctx-qa", "get", "namespace", "default", "-o", "name").stdout.strip() == \
            "namespace/default"

        status = helmkit("status").stdout
        for line in ("environment qa:", "environment stage:", "environment test:", "ctx-qa: https://",
                     "ctx-east: https://", "west: https://", "stage-1: https://"):
            assert line in status, status
        assert "already running" in helmkit("up", "--env", "test").stderr

        reset = helmkit("reset")
        assert "stopped and objects forgotten" in reset.stdout
        assert "not running" in helmkit("status").stdout
        assert not kubeconfig.exists()
        helmkit("up", "--env", "test")
        assert kubectl("config", "get-contexts", "-o", "name").stdout.split() == ["ctx-east", "west"]
        gone = kubectl("--context", "west", "get", "configmap", "kept", check=False)
        assert gone.returncode != 0 and "NotFound" in gone.stderr
    finally:
        helmkit("down", check=False)
    assert "not running; objects forgotten" in helmkit("reset").stdout  # a stopped sandbox's saved objects
    assert "not running; no saved objects" in helmkit("reset").stdout
