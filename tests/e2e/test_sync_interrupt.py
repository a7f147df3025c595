"""SIGINT during `helmkit sync` (a real process): running releases finish, nothing new starts, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import REPO, Fleet

pytestmark = pytest.mark.e2e
stage = support.stage  # fixture


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_sigint_lets_running_releases_finish_and_starts_nothing_new(stage: Fleet) -> None:
    stage.clusters.faults("c1").latency(0.5, path=r"/namespaces/cert-manager/deployments")
    argv = [sys.executable, "-m", "helmkit", "--repo", str(stage.root), "--helm", str(stage.helm_bin), "sync",
            "--env", "stage", "--yes", "--concurrency", "1"]
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("start") and "cert-manager" in line:
            break
        assert time.monotonic() < deadline
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 130, out + err
    assert "deployed  c1 cert-manager" in err  # the running release finished
    assert "interrupted: no new release was started" in out
    started = [line.split()[2] for line in err.splitlines() if line.startswith("start")]
    assert started == ["cert-manager"], err  # concurrency 1: nothing else started after the signal
    assert not stage.writes("c2")
    lock_left = [r for c in ("c1", "c2") for r in stage.clusters.requests(c)
                 if r.method == "DELETE" and "helmkit-lock-stage" in r.path]
    assert len(lock_left) == 2  # the lock was released on both clusters
