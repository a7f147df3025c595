"""The objects of one sandbox cluster: resourceVersion, uid, timestamps, generation, watch fan-out.

Objects are kept per resource key (``"{group}/{plural}"``, ``"/secrets"`` for the core group)
and per ``(namespace, name)``; cluster-scoped objects have namespace ``""``. One lock guards a
store. Stored objects are shared with readers and must be treated as read-only: writers build a
new dict and hand it over. A write that changes nothing (ignoring ``resourceVersion`` and the
times inside ``managedFields``) keeps the old object and its resourceVersion.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from helmkit.sandbox.jsoncodec import json_copy
from helmkit.sandbox.selectors import Matcher
from helmkit.sandbox.status import ApiError, conflict

HISTORY = 50_000
Obj = dict[str, Any]
# (resource key, event type, new object, old object or None)
Listener = Callable[[str, str, Obj, "Obj | None"], None]


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resource_key(group: str, plural: str) -> str:
    return f"{group}/{plural}"


@dataclass
class Watcher:
    key: str
    namespace: str | None
    match: Matcher | None
    events: queue.SimpleQueue[tuple[str, Obj] | None] = field(default_factory=queue.SimpleQueue)
    start_rv: int = 0

    def __hash__(self) -> int:
        return id(self)

    def wants(self, key: str, obj: Obj) -> bool:
        if key != self.key:
            return False
        if self.namespace is not None and obj.get("metadata", {}).get("namespace", "") != self.namespace:
            return False
        return self.match is None or self.match(obj)


def _comparable(obj: Obj) -> Obj:
    meta = dict(obj.get("metadata") or {})
    meta.pop("resourceVersion", None)
    if "managedFields" in meta:
        meta["managedFields"] = [{k: v for k, v in entry.items() if k != "time"} for entry in meta["managedFields"]]
    return {**obj, "metadata": meta}


_NOT_SPEC = frozenset(("apiVersion", "kind", "metadata", "status"))
_DATA_KINDS = frozenset(("ConfigMap", "Secret", "Event", "Endpoints", "EndpointSlice", "ServiceAccount", "Lease"))


def _spec_part(obj: Obj) -> Obj:
    """What counts for ``metadata.generation`` (none for data-only kinds such as ConfigMap)."""
    if obj.get("kind") in _DATA_KINDS:
        return {}
    return {k: v for k, v in obj.items() if k not in _NOT_SPEC}


class Store:
    """All objects of one cluster."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rv = 1
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._history: deque[tuple[int, str, str, Obj]] = deque(maxlen=HISTORY)
        self._watchers: set[Watcher] = set()
        self.listeners: list[Listener] = []

    # ---- reads -------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        with self._lock:
            return self._rv

    def get(self, key: str, namespace: str, name: str) -> Obj | None:
        with self._lock:
            return self._objects.get(key, {}).get((namespace, name))

    def select(self, key: str, namespace: str | None = None, match: Matcher | None = None) -> tuple[list[Obj], int]:
        """Objects of ``key`` (in ``namespace`` when given) sorted by namespace and name."""
        with self._lock:
            bucket = self._objects.get(key, {})
            if namespace is None:
                items = [bucket[k] for k in sorted(bucket)]
            else:
                items = [bucket[k] for k in sorted(bucket) if k[0] == namespace]
            rv = self._rv
        if match is not None:
            items = [o for o in items if match(o)]
        return items, rv

    def keys(self) -> list[str]:
        with self._lock:
            return [k for k, bucket in self._objects.items() if bucket]

    # ---- writes ------------------------------------------------------------------------------

    def create(self, key: str, obj: Obj, *, dry_run: bool = False, error: Callable[[], ApiError]) -> Obj:
        meta = obj.setdefault("metadata", {})
        ident = (meta.get("namespace", ""), meta["name"])
        with self._lock:
            bucket = self._objects.setdefault(key, {})
            if ident in bucket:
                raise error()
            meta["uid"] = meta.get("uid") or str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta.pop("deletionTimestamp", None)
            if _spec_part(obj):
                meta["generation"] = 1
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return obj
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            bucket[ident] = obj
            self._emit(key, "ADDED", obj)
        self._notify(key, "ADDED", obj, None)
        return obj

    def replace(self, key: str, obj: Obj, *, expected_rv: str | None, dry_run: bool = False,
                what: tuple[str, str] = ("", "")) -> Obj:
        """Store ``obj`` in place of the live object; ``expected_rv`` is a precondition."""
        meta = obj.setdefault("metadata", {})
        ident = (meta.get("namespace", ""), meta["name"])
        with self._lock:
            old = self._objects.get(key, {}).get(ident)
            if old is None:
                raise ApiError(404, f'{what[0] or key} "{ident[1]}" not found',
                               details={"name": ident[1], "kind": what[0], "group": what[1]})
            old_meta = old["metadata"]
            if expected_rv and expected_rv != old_meta.get("resourceVersion"):
                raise conflict(what[0] or key, ident[1], what[1])
            meta["uid"] = old_meta.get("uid")
            meta["creationTimestamp"] = old_meta.get("creationTimestamp")
            if "generation" in old_meta:
                meta["generation"] = old_meta["generation"]
                if _spec_part(obj) != _spec_part(old):
                    meta["generation"] = old_meta["generation"] + 1
            elif _spec_part(obj):
                meta["generation"] = 1
            meta["resourceVersion"] = old_meta.get("resourceVersion")
            if _comparable(obj) == _comparable(old):
                return old
            if dry_run:
                return obj
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            self._objects[key][ident] = obj
            self._emit(key, "MODIFIED", obj)
        self._notify(key, "MODIFIED", obj, old)
        return obj

    def delete(self, key: str, namespace: str, name: str, *, expected_rv: str | None = None,
               expected_uid: str | None = None, dry_run: bool = False, orphan: bool = False,
               what: tuple[str, str] = ("", "")) -> Obj:
        """Delete one object, then its namespace content and dependents (unless ``orphan``)."""
        with self._lock:
            old = self._objects.get(key, {}).get((namespace, name))
            if old is None:
                raise ApiError(404, f'{what[0] or key} "{name}" not found',
                               details={"name": name, "kind": what[0], "group": what[1]})
            if expected_rv and expected_rv != old["metadata"].get("resourceVersion"):
                raise conflict(what[0] or key, name, what[1], "Precondition failed: ResourceVersion")
            if expected_uid and expected_uid != old["metadata"].get("uid"):
                raise conflict(what[0] or key, name, what[1], "Precondition failed: UID")
            if dry_run:
                return old
            removed = self._remove(key, (namespace, name))
            removed_all = [(key, removed)]
            if key == "/namespaces":
                for other_key, bucket in self._objects.items():
                    for ident in [i for i in bucket if i[0] == name]:
                        removed_all.append((other_key, self._remove(other_key, ident)))
            removed_all += self._collect_garbage([o["metadata"]["uid"] for _, o in removed_all], orphan)
        for k, o in removed_all:
            self._notify(k, "DELETED", o, o)
        return removed

    def _remove(self, key: str, ident: tuple[str, str]) -> Obj:
        old = self._objects[key].pop(ident)
        self._rv += 1
        gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self._rv),
                                    "deletionTimestamp": now_rfc3339()}}
        self._emit(key, "DELETED", gone)
        return gone

    def _collect_garbage(self, uids: list[str], orphan: bool) -> list[tuple[str, Obj]]:
        """Delete (or, with ``orphan``, release) objects owned by the given uids, transitively."""
        removed: list[tuple[str, Obj]] = []
        pending: set[str] = set(uids)
        while pending:
            dependents = [
                (key, ident, obj)
                for key, bucket in self._objects.items()
                for ident, obj in bucket.items()
                if any(ref.get("uid") in pending for ref in obj["metadata"].get("ownerReferences") or ())
            ]
            next_pending: set[str] = set()
            for key, ident, obj in dependents:
                refs = obj["metadata"]["ownerReferences"]
                remaining = [ref for ref in refs if ref.get("uid") not in pending]
                if orphan or remaining:
                    meta = {**obj["metadata"], "ownerReferences": remaining}
                    if not remaining:
                        del meta["ownerReferences"]
                    self._rv += 1
                    meta["resourceVersion"] = str(self._rv)
                    updated = {**obj, "metadata": meta}
                    self._objects[key][ident] = updated
                    self._emit(key, "MODIFIED", updated)
                else:
                    removed.append((key, self._remove(key, ident)))
                    next_pending.add(obj["metadata"]["uid"])
            pending = next_pending if not orphan else set()
        return removed

    # ---- watch -------------------------------------------------------------------------------

    def watch(self, key: str, namespace: str | None, match: Matcher | None, since: str | None,
              initial: bool) -> Watcher:
        """A watcher fed with events after ``since`` (or the current objects when ``initial``)."""
        watcher = Watcher(key, namespace, match)
        with self._lock:
            watcher.start_rv = self._rv
            if initial:
                for obj in self.select(key, namespace, match)[0]:
                    watcher.events.put(("ADDED", obj))
            elif since:
                since_rv = int(since) if since.isdigit() else 0
                oldest = self._history[0][0] if self._history else self._rv + 1
                if since_rv < oldest - 1:  # events after since_rv were dropped (or came before a restart)
                    raise ApiError(410, f"too old resource version: {since_rv} ({oldest - 1})", reason="Expired")
                for rv, k, kind, obj in self._history:
                    if rv > since_rv and watcher.wants(k, obj):
                        watcher.events.put((kind, obj))
            self._watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        with self._lock:
            self._watchers.discard(watcher)

    def _emit(self, key: str, kind: str, obj: Obj) -> None:
        self._history.append((self._rv, key, kind, obj))
        for watcher in self._watchers:
            if watcher.wants(key, obj):
                watcher.events.put((kind, obj))

    def _notify(self, key: str, kind: str, obj: Obj, old: Obj | None) -> None:
        for listener in self.listeners:
            listener(key, kind, obj, old)

    # ---- persistence -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "resourceVersion": self._rv,
                "objects": {key: list(bucket.values()) for key, bucket in self._objects.items() if bucket},
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._rv = int(data.get("resourceVersion", 1))
            self._objects = {
                key: {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objs}
                for key, objs in (data.get("objects") or {}).items()
            }
            self._history.clear()


def deep_copy(obj: Obj) -> Obj:
    return json_copy(obj)
