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
