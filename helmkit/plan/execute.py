"""Runs a rollout plan. The executor only executes: every decision is already in the plan.

Order. Waves run one after the other. A wave's clusters run in parallel. Within a cluster a
step starts as soon as every step it ``needs`` has succeeded -- not when its whole ``needs``
level is done: a release whose one dependency was quick need not wait for an unrelated slow
release of the level before (level by level, one slow release would hold back the whole next
level). At most ``concurrency`` steps run at once per cluster, at most ``limit`` in all (helm
processes are CPU- and memory-hungry: 18 clusters x 4 would start 72 at once), and never two
steps of the same release (a recover step and the step after it are chained by ``needs``).
When several steps are ready for a free slot, :mod:`helmkit.plan.priority` says which goes first.

Failure. A failed step's dependents are SKIPPED, transitively; independent steps go on. A
``skip`` step (in sync) is unchanged and satisfies its dependents: the release it stands for is
in place. A ``blocked`` step counts as failed without running. A wave with any failure stops
the later waves: their steps are SKIPPED with reason "earlier wave failed".

Interrupt. Once ``stop`` is set (the action's SIGINT/SIGTERM handler sets it), no new step
starts; running steps finish; what did not start is SKIPPED with reason "interrupted" and the
result says it was interrupted.

``run_step`` is the outer door (it runs the helm argv of a step through the Runner and returns a
:class:`StepOutcome`, or raises a :class:`~helmkit.errors.HelmkitError` which counts as a failure).
``on_event`` receives a "start" event before a step starts and an "end" event when its result is
known, always from the calling thread, in order (``seq``). Results come back in plan order.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from helmkit.adapters.waiting import first_done
from helmkit.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, HelmkitError
from helmkit.plan.priority import start_order
from helmkit.plan.rollout import Plan, Step, StepKind, Wave

EARLIER_WAVE_FAILED = "earlier wave failed"
INTERRUPTED = "interrupted"


class Outcome(enum.Enum):
    DEPLOYED = "deployed"
    UNCHANGED = "unchanged"
    PRUNED = "pruned"
    RECOVERED = "recovered"
    REPAIRED = "repaired"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def ok(self) -> bool:
        return self not in (Outcome.FAILED, Outcome.SKIPPED)


@dataclass(frozen=True)
class StepOutcome:
    """What running one step gave: success or failure, and a message for a person (masked).

    ``reason`` is the one line a summary shows (empty: taken from ``message``); ``pending`` says
    the release may be left ``pending-*`` (its helm process was killed mid-operation).
    """

    ok: bool
    message: str = ""
    reason: str = ""
    pending: bool = False


@dataclass(frozen=True)
class StepResult:
    step: Step
    outcome: Outcome
    message: str = ""
    duration: float | None = None  # seconds, for steps that ran
    reason: str = ""
    pending: bool = False


@dataclass(frozen=True)
class Event:
    kind: Literal["start", "end"]
    step: Step
    seq: int
    time: float  # time.monotonic()
    result: StepResult | None = None  # with "end"


@dataclass(frozen=True)
class RunResult:
    results: list[StepResult]
    interrupted: bool = False

    def with_outcome(self, outcome: Outcome) -> list[StepResult]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def failed(self) -> bool:
        return any(r.outcome is Outcome.FAILED for r in self.results)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.failed or self.with_outcome(Outcome.SKIPPED):
            return EXIT_ERROR
        return EXIT_OK


RunStep = Callable[[Step], StepOutcome]
OnEvent = Callable[[Event], None]
# Called after a wave in which nothing failed, with that wave's results (step id -> result);
# returns None to go on, or the reason the later waves are skipped (e.g. a gate failed).
AfterWave = Callable[[Wave, dict[str, StepResult]], str | None]


def execute(plan: Plan, run_step: RunStep, *, concurrency: int, stop: threading.Event,
            on_event: OnEvent, after_wave: AfterWave | None = None, limit: int | None = None,
            weight: Mapping[str, float] | None = None) -> RunResult:
    """Run ``plan``'s steps: waves in order, clusters in parallel, ``concurrency`` per cluster."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    events = _Events(on_event)
    results: dict[str, StepResult] = {}
    halted: str | None = None
    for wave in plan.waves:
        steps = [step for cluster in wave.clusters for step in cluster.steps]
        if halted is None and stop.is_set():
            halted = INTERRUPTED
        if halted is not None:
            for step in steps:
                outcome = Outcome.UNCHANGED if step.kind is StepKind.SKIP else Outcome.SKIPPED
                message = "in sync" if step.kind is StepKind.SKIP else halted
                results[step.id] = events.end(StepResult(step, outcome, message))
            continue
        clusters = max(1, len(wave.clusters))
        run = _WaveRun(steps, run_step, concurrency, stop, events, clusters, max(1, limit or concurrency * clusters),
                       {step.id: n for n, step in enumerate(start_order(steps, weight))})
        results.update(run.run())
        if stop.is_set():
            halted = INTERRUPTED
        elif any(r.outcome is Outcome.FAILED for r in run.results.values()):
            halted = EARLIER_WAVE_FAILED
        elif after_wave is not None:
            halted = after_wave(wave, dict(run.results))
    return RunResult([results[step.id] for step in plan.steps()], interrupted=stop.is_set())


@dataclass
class _Events:
    on_event: OnEvent
    seq: int = 0

    def start(self, step: Step) -> None:
        self.seq += 1
        self.on_event(Event("start", step, self.seq, time.monotonic()))

    def end(self, result: StepResult) -> StepResult:
        self.seq += 1
        self.on_event(Event("end", result.step, self.seq, time.monotonic(), result))
        return result


@dataclass
class _WaveRun:
    """The steps of one wave, scheduled from the calling thread onto a pool of workers."""

    steps: Sequence[Step]
    run_step: RunStep
    concurrency: int
    stop: threading.Event
    events: _Events
    clusters: int
    limit: int  # steps running at once, all clusters together
    rank: Mapping[str, int]  # a step's place in the order free slots are offered (:mod:`helmkit.plan.priority`)
    results: dict[str, StepResult] = field(default_factory=dict)
    _running: dict[Future[StepOutcome], tuple[Step, float]] = field(default_factory=dict)
    _per_cluster: Counter[str] = field(default_factory=Counter)
    _busy_releases: set[str] = field(default_factory=set)
    _bug: BaseException | None = None

    def run(self) -> dict[str, StepResult]:
        ids = {step.id for step in self.steps}
        order = {step.id: index for index, step in enumerate(self.steps)}
        pending = list(self.steps)
        workers = min(self.limit, self.concurrency * self.clusters)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="helmkit-step") as pool:
            while True:
                pending = self._settle(pending, ids)
                if not self.stop.is_set() and self._bug is None:
                    pending = self._start_ready(pending, ids, pool)
                if not self._running:
                    break
                done = first_done(self._running)
                for future in sorted(done, key=lambda f: order[self._running[f][0].id]):
                    self._finish(future)
        reason = "not started: its needs were never met"
        if self.stop.is_set():
            reason = INTERRUPTED
        elif self._bug is not None:
            reason = "not started: an internal error stopped the run"
        for step in pending:
            self.results[step.id] = self.events.end(StepResult(step, Outcome.SKIPPED, reason))
        if self._bug is not None:
            raise self._bug
        return self.results

    def _settle(self, pending: list[Step], ids: set[str]) -> list[Step]:
        """Give a result to every step that needs no run: in sync, blocked, or a need that failed."""
        changed = True
        while changed:
            changed = False
            left: list[Step] = []
            for step in pending:
                result = self._settled(step, ids)
                if result is None:
                    left.append(step)
                else:
                    self.results[step.id] = self.events.end(result)
                    changed = True
            pending = left
        return pending

    def _settled(self, step: Step, ids: set[str]) -> StepResult | None:
        if step.kind is StepKind.SKIP:
            return StepResult(step, Outcome.UNCHANGED, step.reason or "in sync")
        if step.kind is StepKind.BLOCKED:
            return StepResult(step, Outcome.FAILED, step.reason)
        for need in step.needs:
            found = self.results.get(need) if need in ids else None
            if found is not None and not found.outcome.ok:
                verb = "failed" if found.outcome is Outcome.FAILED else "was skipped"
                return StepResult(step, Outcome.SKIPPED, f"needs {_release_of(need)}, which {verb}")
        return None

    def _start_ready(self, pending: list[Step], ids: set[str], pool: ThreadPoolExecutor) -> list[Step]:
        """Start what is ready, in the offered order; return the rest in plan order."""
        started: set[str] = set()
        for step in sorted(pending, key=lambda s: self.rank[s.id]):
            needs_met = all(need not in ids or (need in self.results and self.results[need].outcome.ok)
                            for need in step.needs)
            if (needs_met and self._per_cluster[step.cluster] < self.concurrency and len(self._running) < self.limit
                    and step.key not in self._busy_releases and not self.stop.is_set()):
                self._per_cluster[step.cluster] += 1
                self._busy_releases.add(step.key)
                self.events.start(step)
                self._running[pool.submit(self.run_step, step)] = (step, time.monotonic())
                started.add(step.id)
        return [step for step in pending if step.id not in started]

    def _finish(self, future: Future[StepOutcome]) -> None:
        step, started = self._running.pop(future)
        self._per_cluster[step.cluster] -= 1
        self._busy_releases.discard(step.key)
        try:
            outcome = future.result()
        except HelmkitError as exc:
            outcome = StepOutcome(False, exc.render().removeprefix("error: "))
        except Exception as exc:  # a bug: finish what runs, start nothing more, then raise it
            self._bug = self._bug or exc
            outcome = StepOutcome(False, f"internal error: {type(exc).__name__}")
        kind = Outcome.FAILED
        if outcome.ok:
            kind = {StepKind.UNINSTALL: Outcome.PRUNED, StepKind.RECOVER: Outcome.RECOVERED,
                    StepKind.REPAIR: Outcome.REPAIRED}.get(step.kind, Outcome.DEPLOYED)
        result = StepResult(step, kind, outcome.message, time.monotonic() - started, outcome.reason, outcome.pending)
        self.results[step.id] = self.events.end(result)


def _release_of(step_id: str) -> str:
    name = step_id.rsplit("/", 1)[-1]
    return name.replace("#recover", " (recovery)").replace("#crds", " (CRDs)")
