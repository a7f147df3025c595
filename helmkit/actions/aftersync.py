"""A sync's after-work, cluster by cluster, while the other clusters still sync.

What a sync keeps for the next run (:func:`helmkit.actions.verdicts.keep_after_sync`: the
verdicts of the releases it deployed, and for charts that ``lookup`` the cluster or read whether
they are installing, the rendering the next run compares) depends on one cluster only: its
records and the API versions it serves once this sync is done with it. So it need not wait for
the whole fleet: as soon as the last step of a cluster has ended, that cluster's after-work starts
on one worker thread of its own, while the executor goes on with the other clusters. On a fleet,
the helm processes of the after-work (a ``helm template --dry-run=server`` per release of a chart
that looks up and fails or differs offline) then run in the idle time of the main phase (helm 4
waits on watches after each hook) instead of after it, and a sync ends when its last cluster's
after-work ends.

A wave's gates run after the wave (:mod:`helmkit.actions.gatesync`): when one rolls a wave back,
the verdicts kept for its clusters name records the rollback superseded (a new revision, and the
old record's ``resourceVersion`` changes with its status), so they never match again.
An interrupted sync starts no helm process in its after-work (``stop`` set).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType

from helmkit.adapters.waiting import result_of
from helmkit.plan.execute import Event, OnEvent, Outcome
from helmkit.plan.rollout import Step, StepKind

KeepCluster = Callable[[list[str], bool], object]  # (release keys deployed in one cluster, may render)
_APPLIED = (StepKind.INSTALL, StepKind.UPGRADE, StepKind.REPAIR)


@dataclass
class AfterSync:
    """Starts a cluster's after-work once every one of its ``steps`` has ended (``on_event``)."""

    steps: Iterable[Step]
    keep: KeepCluster
    stop: threading.Event
    then: OnEvent  # the events go on to it (the progress display)
    _left: Counter[str] = field(default_factory=Counter)
    _applied: dict[str, list[str]] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = None
    _started: list[Future[object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._left.update(step.cluster for step in self.steps)

    def __enter__(self) -> AfterSync:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="helmkit-after-sync")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=error is not None)

    def on_event(self, event: Event) -> None:
        self.then(event)
        result = event.result
        if event.kind != "end" or result is None:
            return
        cluster = event.step.cluster
        if result.outcome in (Outcome.DEPLOYED, Outcome.REPAIRED) and event.step.kind in _APPLIED:
            self._applied.setdefault(cluster, []).append(event.step.key)
        self._left[cluster] -= 1
        if self._left[cluster] == 0 and self._applied.get(cluster) and self._pool is not None:
            keys = self._applied.pop(cluster)
            self._started.append(self._pool.submit(lambda: self.keep(keys, not self.stop.is_set())))

    def wait(self) -> None:
        """Wait for every cluster's after-work; an error of one is raised here."""
        for future in self._started:
            result_of(future)
