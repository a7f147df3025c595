"""The sandbox state file: every cluster's objects, token and port, written atomically.

The file is JSON, mode 0600 (it holds the clusters' tokens), written to a temporary file in the
same folder and renamed over the old one, so an interrupted write never leaves a truncated file.
A background thread saves it when any cluster changed, at most every ``interval`` seconds and
never spending more than 1/``COST_RATIO`` of the time saving (20 clusters of real charts weigh
hundreds of megabytes: saving them twice a second would take the CPU the API needs), and once
more on stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

FORMAT_VERSION = 1
COST_RATIO = 20  # wait at least this many times as long as the last save took


def load(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is no (readable) state file."""
    try:
        text = path.read_bytes()
        data = msgspec.json.decode(text)
    except msgspec.DecodeError:
        try:
            data = json.loads(text)
        except ValueError:
            return None
    except OSError:
        return None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        return None
    return data


def save(path: Path, data: dict[str, Any]) -> None:
    document = {"version": FORMAT_VERSION, **data}
    try:  # msgspec: about eight times the speed of json on the megabytes of 20 clusters
        body = msgspec.json.encode(document)
    except (TypeError, msgspec.EncodeError):
        body = json.dumps(document, separators=(",", ":")).encode()
    write_private(path, body, durable=True)


def write_private(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` with mode 0600 via a temp file in the same folder and a rename.

    An interrupted process never leaves a truncated file; ``durable`` also syncs the data to disk
    before the rename.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Saver:
    """Saves ``snapshot()`` to ``path`` whenever ``version()`` changed, from a background thread."""

    def __init__(self, path: Path, snapshot: Callable[[], dict[str, Any]], version: Callable[[], Any],
                 interval: float = 0.5) -> None:
        self.path = path
        self._snapshot = snapshot
        self._version = version
        self._interval = interval
        self._saved: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._took = 0.0  # seconds the last save took

    def start(self) -> None:
        self._saved = self._version()
        self._thread = threading.Thread(target=self._run, name="sandbox-saver", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.next_wait()):
            self.save_if_changed()

    def next_wait(self) -> float:
        """Seconds until the next look for changes: ``interval``, or longer after a long save."""
        return max(self._interval, COST_RATIO * self._took)

    def save_if_changed(self) -> None:
        with self._lock:
            version = self._version()
            if version == self._saved:
                return
            started = time.monotonic()
            save(self.path, self._snapshot())
            self._took = time.monotonic() - started
            self._saved = version

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.save_if_changed()
