"""The executor's ``after_wave`` hook: it runs after each wave that did not fail, and its answer
can stop the later waves (what rollout gates use)."""

from __future__ import annotations

import threading

from helmkit.errors import EXIT_ERROR, EXIT_OK
from helmkit.plan.execute import Outcome, StepOutcome, StepResult, execute
from helmkit.plan.rollout import ClusterPlan, Plan, Step, StepKind, Wave


def step(cluster: str, name: str) -> Step:
    return Step(StepKind.UPGRADE, f"prod/{cluster}/{name}", cluster, ["helm", "upgrade", name], [],
                reason="test", release=name, namespace=name)


def three_waves() -> Plan:
    return Plan([Wave(number, [ClusterPlan(c, c, [[step(c, "web")]])]) for number, c in enumerate(("a", "b", "c"))])


def run(plan: Plan, answers: dict[int, str | None], fail: set[str] = frozenset()) -> tuple:
    seen: list[tuple[int, list[tuple[str, Outcome]]]] = []

    def after_wave(wave: Wave, results: dict[str, StepResult]) -> str | None:
        seen.append((wave.number, sorted((key, r.outcome) for key, r in results.items())))
        return answers.get(wave.number)

    result = execute(plan, lambda s: StepOutcome(s.cluster not in fail), concurrency=1, stop=threading.Event(),
                     on_event=lambda e: None, after_wave=after_wave)
    return result, seen


def test_the_hook_sees_each_waves_results_and_every_wave_runs_when_it_answers_none() -> None:
    result, seen = run(three_waves(), {})
    assert seen == [(0, [("prod/a/web", Outcome.DEPLOYED)]), (1, [("prod/b/web", Outcome.DEPLOYED)]),
                    (2, [("prod/c/web", Outcome.DEPLOYED)])]
    assert result.exit_code == EXIT_OK


def test_a_reason_from_the_hook_skips_the_later_waves_with_that_reason() -> None:
    result, seen = run(three_waves(), {1: "gate http failed on b"})
    assert [number for number, _ in seen] == [0, 1]
    assert [(r.step.cluster, r.outcome, r.message) for r in result.results] == [
        ("a", Outcome.DEPLOYED, ""), ("b", Outcome.DEPLOYED, ""), ("c", Outcome.SKIPPED, "gate http failed on b")]
    assert result.exit_code == EXIT_ERROR


def test_the_hook_does_not_run_after_a_failed_wave() -> None:
    result, seen = run(three_waves(), {}, fail={"b"})
    assert [number for number, _ in seen] == [0]
    assert result.with_outcome(Outcome.SKIPPED)[0].message == "earlier wave failed"
