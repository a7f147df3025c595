"""Stopping the server processes tests start (registries, proxies, secret stores)."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate, wait up to 10 s, then kill: the process is gone when this returns."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
