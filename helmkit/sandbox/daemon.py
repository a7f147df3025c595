"""A sandbox in the background: start, find and stop a detached ``python -m helmkit.sandbox``.

This is the one place that starts a process without waiting for it (helmkit's runner waits for
every process it starts; a daemon must outlive the command that started it). Files in the
sandbox folder (``.helmkit/sandbox/`` by default): ``sandbox.pid``, ``info.json`` (URLs and
tokens, mode 0600), ``state.json`` (objects, kept across restarts), ``sandbox.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SandboxError(Exception):
    """The background sandbox could not be started, found or stopped."""


@dataclass(frozen=True)
class DaemonFiles:
    folder: Path

    @property
    def pid(self) -> Path:
        return self.folder / "sandbox.pid"

    @property
    def info(self) -> Path:
        return self.folder / "info.json"

    @property
    def state(self) -> Path:
        return self.folder / "state.json"

    @property
    def log(self) -> Path:
        return self.folder / "sandbox.log"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped by its new parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        return state != "Z"
    return True


def running(folder: Path) -> dict[str, Any] | None:
    """The info of the running background sandbox, or None (stale files are removed)."""
    files = DaemonFiles(folder)
    try:
        pid = int(files.pid.read_text().strip())
    except (OSError, ValueError):
        return None
    if not _alive(pid):
        files.pid.unlink(missing_ok=True)
        files.info.unlink(missing_ok=True)
        return None
    try:
        info: dict[str, Any] = json.loads(files.info.read_text())
    except (OSError, ValueError):
        return {"pid": pid, "clusters": {}}
    return info


def start(folder: Path, clusters: list[str], *, kubeconfig: Path | None = None,
          contexts: Mapping[str, str] | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Start the background sandbox serving ``clusters``; return its info once every cluster listens."""
    files = DaemonFiles(folder)
    if running(folder) is not None:
        raise SandboxError(f"a sandbox is already running (pid file {files.pid})")
    folder.mkdir(parents=True, exist_ok=True)
    files.info.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "helmkit.sandbox", "--state-file", str(files.state), "--info-file",
            str(files.info)]
    for cluster in clusters:
        argv += ["--cluster", cluster]
    if kubeconfig is not None:
        argv += ["--kubeconfig", str(kubeconfig)]
    for cluster, context in (contexts or {}).items():
        argv += ["--context", f"{cluster}={context}"]
    with open(files.log, "ab") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True, close_fds=True)
    files.pid.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            files.pid.unlink(missing_ok=True)
            tail = files.log.read_text(errors="replace").strip().splitlines()[-5:]
            raise SandboxError("the sandbox exited at start: " + (" | ".join(tail) or f"exit {process.returncode}"))
        with contextlib.suppress(OSError, ValueError):
            info: dict[str, Any] = json.loads(files.info.read_text())
            if info.get("pid") == process.pid:
                return info
        time.sleep(0.05)
    stop(folder)
    raise SandboxError(f"the sandbox did not start within {timeout:.0f}s (see {files.log})")


def stop(folder: Path, timeout: float = 15.0) -> bool:
    """Stop the background sandbox (SIGTERM, then SIGKILL); False when none was running."""
    files = DaemonFiles(folder)
    info = running(folder)
    if info is None:
        return False
    pid = int(files.pid.read_text().strip())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    files.pid.unlink(missing_ok=True)
    files.info.unlink(missing_ok=True)
    return True
