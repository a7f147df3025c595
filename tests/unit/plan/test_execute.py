"""The plan executor: order, parallelism, failure propagation, wave stop, interrupt.

``run_step`` is the executor's outer door; here it is a recorder that succeeds or fails per
release. Parallelism is proven with threading events a step waits on (a step that would run
too late, or too early, times out and fails the test), not with sleeps.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from helmkit.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, ToolError
from helmkit.plan.execute import (
    EARLIER_WAVE_FAILED,
    INTERRUPTED,
    Event,
    Outcome,
    RunResult,
    StepOutcome,
    execute,
)
from helmkit.plan.rollout import ClusterPlan, Plan, Step, StepKind, Wave

WAIT = 5.0  # seconds a step waits for another one before it gives up (and the test fails)


def step(cluster: str, name: str, *needs: str, kind: StepKind = StepKind.UPGRADE) -> Step:
    return Step(kind, f"prod/{cluster}/{name}", cluster, ["helm", kind.value, name],
                [f"prod/{cluster}/{n}" for n in needs], reason="test", release=name, namespace=name)


def plan(*waves: dict[str, list[list[Step]]]) -> Plan:
    return Plan([Wave(number, [ClusterPlan(c, f"ctx-{c}", levels) for c, levels in wave.items()])
                 for number, wave in enumerate(waves)])


@dataclass
class Recorder:
    """A run_step that records start/end order and runs a per-release hook."""

    fail: set[str] = field(default_factory=set)
    hooks: dict[str, Callable[[], bool]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    started: dict[str, threading.Event] = field(default_factory=dict)
    running: Counter[str] = field(default_factory=Counter)  # per cluster
    most_running: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def started_event(self, release: str) -> threading.Event:
        with self.lock:
            return self.started.setdefault(release, threading.Event())

    def __call__(self, s: Step) -> StepOutcome:
        with self.lock:
            self.log.append(("start", s.id))
            self.running[s.cluster] += 1
            self.most_running[s.cluster] = max(self.most_running[s.cluster], self.running[s.cluster])
        self.started_event(s.release).set()
        try:
            ok = self.hooks[s.release]() if s.release in self.hooks else True
        finally:
            with self.lock:
                self.running[s.cluster] -= 1
                self.log.append(("end", s.id))
        if s.release in self.fail:
            raise ToolError(f"helm upgrade --install {s.release} failed (exit 1)", stderr="Error: UPGRADE FAILED")
        return StepOutcome(ok, "" if ok else "hook gave up")

    def index(self, what: str, release: str, cluster: str = "x") -> int:
        return self.log.index((what, f"prod/{cluster}/{release}"))

    def ran(self) -> set[str]:
        return {step_id.rsplit("/", 1)[1] for what, step_id in self.log if what == "start"}


def run(p: Plan, rec: Recorder, *, concurrency: int = 4, stop: threading.Event | None = None,
        events: list[Event] | None = None) -> RunResult:
    sink = events if events is not None else []
    return execute(p, rec, concurrency=concurrency, stop=stop or threading.Event(), on_event=sink.append)


def outcomes(result: RunResult) -> dict[str, tuple[Outcome, str]]:
    return {r.step.id.split("/", 2)[2]: (r.outcome, r.message) for r in result.results}


def test_needs_run_before_their_dependents() -> None:
    rec = Recorder()
    p = plan({"x": [[step("x", "a")], [step("x", "b", "a")], [step("x", "c", "b")]]})
    result = run(p, rec)
    assert rec.index("end", "a") < rec.index("start", "b")
    assert rec.index("end", "b") < rec.index("start", "c")
    assert [r.outcome for r in result.results] == [Outcome.DEPLOYED] * 3
    assert result.exit_code == EXIT_OK


def test_a_release_starts_when_its_own_needs_are_done_not_its_level() -> None:
    rec = Recorder()
    # slow waits until c has started: c needs only fast, so it must not wait for slow's level
    rec.hooks["slow"] = lambda: rec.started_event("c").wait(WAIT)
    p = plan({"x": [[step("x", "slow"), step("x", "fast")], [step("x", "c", "fast")]]})
    result = run(p, rec, concurrency=2)
    assert outcomes(result)["slow"] == (Outcome.DEPLOYED, "")
    assert rec.index("start", "c") < rec.index("end", "slow")


def test_independent_releases_run_in_parallel() -> None:
    rec = Recorder()
    barrier = threading.Barrier(3, timeout=WAIT)
    for name in ("a", "b", "c"):
        rec.hooks[name] = lambda: barrier.wait() >= 0
    result = run(plan({"x": [[step("x", "a"), step("x", "b"), step("x", "c")]]}), rec, concurrency=3)
    assert not result.failed


def test_at_most_concurrency_steps_per_cluster() -> None:
    rec = Recorder()
    barrier = threading.Barrier(2, timeout=WAIT)
    names = ["a", "b", "c", "d", "e", "f"]
    for name in names:
        rec.hooks[name] = lambda: barrier.wait() >= 0 and not threading.Event().wait(0.02)
    # the other cluster holds one worker until x is done: free workers must not go to x
    rec.hooks["hold"] = lambda: rec.started_event("f").wait(WAIT)
    p = plan({"x": [[step("x", n) for n in names]], "y": [[step("y", "hold")]]})
    result = run(p, rec, concurrency=2)
    assert not result.failed
    assert rec.most_running == {"x": 2, "y": 1}


def test_at_most_limit_steps_in_all_clusters_together() -> None:
    rec = Recorder()
    total: list[int] = []
    barrier = threading.Barrier(4, timeout=WAIT)  # four at a time do run together

    def count() -> bool:
        with rec.lock:
            total.append(sum(rec.running.values()))
        return barrier.wait() >= 0 and not threading.Event().wait(0.02)

    names = ["a", "b", "c", "d"]
    for name in names:
        rec.hooks[name] = count
    p = plan({cluster: [[step(cluster, n) for n in names]] for cluster in ("x", "y", "z")})
    result = execute(p, rec, concurrency=4, stop=threading.Event(), on_event=[].append, limit=4)
    assert not result.failed and len(total) == 12
    assert max(total) == 4  # 3 clusters x 4 would be 12 at once


def test_clusters_of_a_wave_run_in_parallel_and_waves_in_order() -> None:
    rec = Recorder()
    rec.hooks["on-x"] = lambda: rec.started_event("on-y").wait(WAIT)
    rec.hooks["on-y"] = lambda: rec.started_event("on-x").wait(WAIT)
    p = plan({"x": [[step("x", "on-x")]], "y": [[step("y", "on-y")]]}, {"z": [[step("z", "later")]]})
    result = run(p, rec, concurrency=1)
    assert not result.failed
    assert rec.index("start", "later", "z") > max(rec.index("end", "on-x"), rec.index("end", "on-y", "y"))


def test_failure_skips_dependents_transitively_and_independent_ones_continue() -> None:
    rec = Recorder(fail={"a"})
    p = plan({"x": [[step("x", "a"), step("x", "d")], [step("x", "b", "a")], [step("x", "c", "b")]]})
    result = run(p, rec)
    got = outcomes(result)
    assert got["a"] == (Outcome.FAILED, "helm upgrade --install a failed (exit 1)\n  | Error: UPGRADE FAILED")
    assert got["d"] == (Outcome.DEPLOYED, "")
    assert got["b"] == (Outcome.SKIPPED, "needs a, which failed")
    assert got["c"] == (Outcome.SKIPPED, "needs b, which was skipped")
    assert rec.ran() == {"a", "d"}
    assert result.exit_code == EXIT_ERROR


def test_a_failed_wave_stops_the_later_waves() -> None:
    rec = Recorder(fail={"canary"})
    p = plan({"x": [[step("x", "canary"), step("x", "other")]]},
             {"y": [[step("y", "web"), step("y", "quiet", kind=StepKind.SKIP)]]})
    result = run(p, rec)
    got = outcomes(result)
    assert got["canary"][0] is Outcome.FAILED
    assert got["other"] == (Outcome.DEPLOYED, "")  # the failing wave itself finishes
    assert got["web"] == (Outcome.SKIPPED, EARLIER_WAVE_FAILED)
    assert got["quiet"] == (Outcome.UNCHANGED, "in sync")
    assert rec.ran() == {"canary", "other"}


def test_interrupt_lets_running_steps_finish_and_starts_nothing_new() -> None:
    rec = Recorder()
    stop = threading.Event()

    def interrupted_while_b_runs() -> bool:
        rec.started_event("b").wait(WAIT)
        stop.set()  # what the SIGINT handler does
        return True

    rec.hooks["a"] = interrupted_while_b_runs
    rec.hooks["b"] = lambda: stop.wait(WAIT)  # still running when the signal comes
    p = plan({"x": [[step("x", "a"), step("x", "b")], [step("x", "c", "a")]]}, {"y": [[step("y", "d")]]})
    result = run(p, rec, concurrency=2, stop=stop)
    got = outcomes(result)
    assert (got["a"][0], got["b"][0]) == (Outcome.DEPLOYED, Outcome.DEPLOYED)
    assert got["c"] == (Outcome.SKIPPED, INTERRUPTED)
    assert got["d"] == (Outcome.SKIPPED, INTERRUPTED)
    assert rec.ran() == {"a", "b"}
    assert result.interrupted
    assert result.exit_code == EXIT_INTERRUPTED


def test_stop_before_start_runs_nothing() -> None:
    rec = Recorder()
    stop = threading.Event()
    stop.set()
    result = run(plan({"x": [[step("x", "a"), step("x", "q", kind=StepKind.SKIP)]]}), rec, stop=stop)
    assert outcomes(result) == {"a": (Outcome.SKIPPED, INTERRUPTED), "q": (Outcome.UNCHANGED, "in sync")}
    assert rec.log == []


def test_never_two_steps_of_one_release_at_once() -> None:
    rec = Recorder()
    upgrade_started = rec.started_event("web")
    overlap: list[bool] = []

    def recover() -> bool:  # would see the upgrade start if both ran at once
        overlap.append(upgrade_started.wait(0.3))
        return True

    recover_step = Step(StepKind.RECOVER, "prod/x/web", "x", ["helm", "rollback", "web"], [], release="recover")
    rec.hooks["recover"] = recover
    upgrade = Step(StepKind.UPGRADE, "prod/x/web", "x", ["helm", "upgrade", "web"], [], release="web")
    result = run(plan({"x": [[recover_step, upgrade]]}), rec, concurrency=4)
    assert overlap == [False]
    assert [r.outcome for r in result.results] == [Outcome.RECOVERED, Outcome.DEPLOYED]


def test_skip_and_blocked_steps_never_run() -> None:
    rec = Recorder()
    p = plan({"x": [[step("x", "same", kind=StepKind.SKIP), step("x", "stuck", kind=StepKind.BLOCKED)],
                    [step("x", "after-same", "same"), step("x", "after-stuck", "stuck")],
                    [step("x", "gone", "after-same", kind=StepKind.UNINSTALL)]]})
    result = run(p, rec)
    got = outcomes(result)
    assert got["same"] == (Outcome.UNCHANGED, "test")
    assert got["stuck"] == (Outcome.FAILED, "test")
    assert got["after-same"] == (Outcome.DEPLOYED, "")
    assert got["after-stuck"] == (Outcome.SKIPPED, "needs stuck, which failed")
    assert got["gone"] == (Outcome.PRUNED, "")
    assert rec.ran() == {"after-same", "gone"}


def test_a_step_reporting_failure_counts_as_failed() -> None:
    rec = Recorder()
    rec.hooks["a"] = lambda: False
    result = run(plan({"x": [[step("x", "a")], [step("x", "b", "a")]]}), rec)
    assert outcomes(result) == {"a": (Outcome.FAILED, "hook gave up"), "b": (Outcome.SKIPPED, "needs a, which failed")}


def test_events_come_from_the_calling_thread_in_order() -> None:
    rec = Recorder()
    events: list[Event] = []
    threads: set[threading.Thread] = set()

    def sink(event: Event) -> None:
        threads.add(threading.current_thread())
        events.append(event)

    p = plan({"x": [[step("x", "a"), step("x", "s", kind=StepKind.SKIP)], [step("x", "b", "a")]]})
    result = execute(p, rec, concurrency=2, stop=threading.Event(), on_event=sink)
    assert threads == {threading.current_thread()}
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [(e.kind, e.step.release) for e in events] == [
        ("end", "s"), ("start", "a"), ("end", "a"), ("start", "b"), ("end", "b")]
    assert [e.result for e in events if e.kind == "end"] == [result.results[1], result.results[0], result.results[2]]


def test_results_follow_plan_order_whatever_finishes_first() -> None:
    rec = Recorder()
    rec.hooks["first"] = lambda: rec.started_event("second").wait(WAIT) and not threading.Event().wait(0.05)
    result = run(plan({"x": [[step("x", "first"), step("x", "second")]]}), rec, concurrency=2)
    assert rec.index("end", "second") < rec.index("end", "first")
    assert [r.step.release for r in result.results] == ["first", "second"]
    assert all(r.duration is not None and r.duration >= 0 for r in result.results)


def test_an_unexpected_error_lets_running_steps_finish_then_surfaces() -> None:
    rec = Recorder()

    def broken() -> bool:
        rec.started_event("ok").wait(WAIT)
        raise RuntimeError("bug")

    rec.hooks["broken"] = broken
    rec.hooks["ok"] = lambda: not threading.Event().wait(0.1)
    p = plan({"x": [[step("x", "broken"), step("x", "ok")], [step("x", "later", "ok")]]})
    with pytest.raises(RuntimeError, match="bug"):
        run(p, rec, concurrency=2)
    assert ("end", "prod/x/ok") in rec.log
    assert "later" not in rec.ran()


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        run(plan({"x": [[step("x", "a")]]}), Recorder(), concurrency=0)
