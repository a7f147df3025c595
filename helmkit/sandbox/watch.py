"""Streaming a watch: chunked JSON events (ADDED/MODIFIED/DELETED/BOOKMARK), one per line.

With ``sendInitialEvents=true`` the initial ADDED events are followed by a BOOKMARK annotated
``k8s.io/initial-events-end: "true"`` (what client-go's watch-list and helm 4's ``--wait``
expect). The stream ends after ``timeoutSeconds``, when the client goes away, or when the
server stops.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from helmkit.sandbox.jsoncodec import dumps
from helmkit.sandbox.store import Obj, Store, Watcher

POLL = 0.5
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def _bookmark(kind: str, api_version: str, rv: int, initial_end: bool) -> Obj:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {"kind": kind, "apiVersion": api_version, "metadata": meta}


def stream(store: Store, watcher: Watcher, options: dict[str, Any], write: Callable[[bytes], None], *,
           stopping: threading.Event, gone: Callable[[], bool] = lambda: False) -> None:
    """Write events to ``write`` (one chunk per event) until timeout, stop, a write error or ``gone()``."""
    deadline = time.monotonic() + options.get("timeout", 1800.0)
    kind, api_version = options.get("kind", ""), options.get("api_version", "")

    def send(event_type: str, obj: Obj) -> None:
        write(dumps({"type": event_type, "object": obj}) + b"\n")

    try:
        if options.get("initial_events_end"):
            batch = []
            while True:
                try:
                    item = watcher.events.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
            for event_type, obj in batch:
                send(event_type, obj)
            rv = max([int(o["metadata"].get("resourceVersion", "0")) for _, o in batch] + [watcher.start_rv])
            send("BOOKMARK", _bookmark(kind, api_version, rv, True))
        while not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = watcher.events.get(timeout=min(POLL, remaining))
            except queue.Empty:
                if gone():
                    break
                continue
            if item is None:
                break
            send(*item)
    finally:
        store.unwatch(watcher)
