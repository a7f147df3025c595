"""Fault injection and the request log of one sandbox cluster.

:class:`Faults` decides, for each incoming request, whether to delay it, fail it with a status,
drop the connection, or (when the cluster is unreachable) never see it at all: the cluster's
listener is closed so that connections are refused. A workload fault makes the Pods of one
Deployment, StatefulSet or DaemonSet (by namespace and name) crash-loop or stay unready, the
same behaviours a chart asks for with the ``sandbox.helmkit.dev/behaviour`` annotation
(:mod:`helmkit.sandbox.pods`). :class:`RequestLog` keeps every request a
cluster received, with a sequence number shared by all clusters of one sandbox (so tests can
assert the order of a rollout across clusters) and a timestamp.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from helmkit.sandbox.pods import BEHAVIOURS


@dataclass
class Rule:
    """A fault applied to requests whose method and path match."""

    kind: str  # "fail", "drop", "latency"
    method: str | None
    path: re.Pattern[str]
    remaining: int | None  # None: forever
    status: int = 500
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return (self.method is None or self.method.upper() == method) and bool(self.path.search(path))

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "path": self.path.pattern, "remaining": self.remaining,
                "status": self.status, "seconds": self.seconds}


@dataclass(frozen=True)
class Decision:
    delay: float = 0.0
    status: int | None = None
    drop: bool = False


class Faults:
    """The faults of one cluster. Thread-safe."""

    def __init__(self, set_reachable: Callable[[bool], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._set_reachable = set_reachable
        self._workloads: dict[tuple[str, str], tuple[str, float, float]] = {}
        self._on_workload: Callable[[str | None], None] | None = None
        self.unreachable = False

    def fail(self, method: str | None = None, path: str = ".*", status: int = 500, count: int | None = 1) -> None:
        """Answer the next ``count`` matching requests (all when None) with ``status``."""
        self._add(Rule("fail", method, re.compile(path), count, status=status))

    def drop(self, method: str | None = None, path: str = ".*", count: int | None = 1) -> None:
        """Close the connection of the next ``count`` matching requests without answering."""
        self._add(Rule("drop", method, re.compile(path), count))

    def latency(self, seconds: float, method: str | None = None, path: str = ".*", count: int | None = None) -> None:
        """Delay matching requests by ``seconds``."""
        self._add(Rule("latency", method, re.compile(path), count, seconds=seconds))

    def workload(self, namespace: str, name: str, behaviour: str = "crashloop", after: float = 0.0) -> None:
        """Make the Pods of workload ``namespace/name`` behave so (``healthy`` ends the fault), now
        and for every Pod it makes later; ``after``: seconds a Pod stays healthy after it started (or,
        for a Pod older than the fault, after now)."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r} (one of {', '.join(BEHAVIOURS)})")
        if not namespace or not name:
            raise ValueError("a workload fault needs the namespace and name of the workload")
        with self._lock:
            if behaviour == "healthy":
                self._workloads.pop((namespace, name), None)
            else:
                self._workloads[(namespace, name)] = (behaviour, max(0.0, float(after)), time.time())
        if self._on_workload is not None:
            self._on_workload(namespace)

    def workload_fault(self, namespace: str, name: str) -> tuple[str, float, float] | None:
        """(behaviour, after, when the fault was set) of a workload, or None."""
        with self._lock:
            return self._workloads.get((namespace, name))

    def workloads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"namespace": ns, "name": name, "behaviour": behaviour, "after": after}
                    for (ns, name), (behaviour, after, _) in sorted(self._workloads.items())]

    def bind_workloads(self, on_change: Callable[[str | None], None]) -> None:
        """Called with the namespace whose Pods a workload fault changed (None: every namespace)."""
        self._on_workload = on_change

    def bind(self, set_reachable: Callable[[bool], None]) -> None:
        """Connect the listener switch of the cluster's server (used by ``set_unreachable``)."""
        self._set_reachable = set_reachable

    def set_unreachable(self, unreachable: bool = True) -> None:
        """Close (or reopen) the cluster's listener: connections are refused while closed."""
        with self._lock:
            if self.unreachable == unreachable:
                return
            self.unreachable = unreachable
        if self._set_reachable is not None:
            self._set_reachable(not unreachable)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            had_workloads = bool(self._workloads)
            self._workloads.clear()
        self.set_unreachable(False)
        if had_workloads and self._on_workload is not None:
            self._on_workload(None)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def decide(self, method: str, path: str) -> Decision:
        delay = 0.0
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                if rule.kind == "latency":
                    delay += rule.seconds
                    continue
                self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
                if rule.kind == "drop":
                    return Decision(delay=delay, drop=True)
                return Decision(delay=delay, status=rule.status)
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
        return Decision(delay=delay)

    def _add(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)


@dataclass
class RequestRecord:
    seq: int
    time: float  # wall clock, seconds since the epoch
    monotonic: float
    cluster: str
    method: str
    path: str
    query: str
    content_type: str
    user_agent: str
    status: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RequestLog:
    """Every request one cluster received, oldest first."""

    cluster: str
    sequence: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    limit: int = 100_000
    _records: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, query: str, content_type: str, user_agent: str) -> RequestRecord:
        with self._lock:
            entry = RequestRecord(next(self.sequence), time.time(), time.monotonic(), self.cluster, method, path,
                                  query, content_type, user_agent)
            self._records.append(entry)
            if len(self._records) > self.limit:
                del self._records[: len(self._records) - self.limit]
        return entry

    def entries(self, since: int = 0) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._records if r.seq > since]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
