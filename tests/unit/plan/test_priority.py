"""Which ready step gets a free slot first: steps others need, in every cluster; then cluster by
cluster, heavier first. Checked on the order alone and through the executor with one slot."""

from __future__ import annotations

import threading

from helmkit.plan.execute import Event, StepOutcome, execute
from helmkit.plan.priority import start_order
from helmkit.plan.rollout import ClusterPlan, Plan, Step, StepKind, Wave


def step(cluster: str, name: str, *needs: str) -> Step:
    return Step(StepKind.INSTALL, f"prod/{cluster}/{name}", cluster, ["helm", "install", name],
                [f"prod/{cluster}/{n}" for n in needs], release=name, namespace=name)


def cluster_steps(cluster: str) -> list[Step]:
    return [step(cluster, "cert-manager"), step(cluster, "podinfo"), step(cluster, "redis"),
            step(cluster, "monitoring", "cert-manager")]


WEIGHT = {f"prod/{c}/{n}": w for c in ("a", "b", "c")
          for n, w in (("cert-manager", 1e6), ("podinfo", 1e4), ("redis", 2e5), ("monitoring", 5e6))}


def ids(steps: list[Step]) -> list[str]:
    return [s.id.removeprefix("prod/") for s in steps]


def test_needed_steps_of_every_cluster_first_then_cluster_by_cluster_heavier_first() -> None:
    steps = [s for c in ("a", "b", "c") for s in cluster_steps(c)]
    assert ids(start_order(steps, WEIGHT)) == [
        "a/cert-manager", "b/cert-manager", "c/cert-manager",
        "a/monitoring", "a/redis", "a/podinfo",
        "b/monitoring", "b/redis", "b/podinfo",
        "c/monitoring", "c/redis", "c/podinfo",
    ]


def test_without_weights_the_plan_order_follows_the_needed_steps() -> None:
    steps = [s for c in ("a", "b") for s in cluster_steps(c)]
    assert ids(start_order(steps)) == ["a/cert-manager", "b/cert-manager", "a/podinfo", "a/redis", "a/monitoring",
                                       "b/podinfo", "b/redis", "b/monitoring"]


def test_needs_outside_the_wave_do_not_make_a_step_needed() -> None:
    lone = step("a", "web", "database")  # its need ran in an earlier wave
    other = step("a", "cache")
    assert ids(start_order([lone, other], {other.id: 2.0, lone.id: 1.0})) == ["a/cache", "a/web"]


def test_the_executor_starts_steps_in_that_order() -> None:
    steps = [s for c in ("a", "b") for s in cluster_steps(c)]
    started: list[str] = []

    def on_event(event: Event) -> None:
        if event.kind == "start":
            started.append(event.step.id.removeprefix("prod/"))

    the_plan = Plan([Wave(0, [ClusterPlan(c, f"ctx-{c}", [[s for s in steps if s.cluster == c]]) for c in "ab"])])
    result = execute(the_plan, lambda s: StepOutcome(True), concurrency=1, stop=threading.Event(),
                     on_event=on_event, limit=1, weight=WEIGHT)
    assert result.exit_code == 0
    assert started == ["a/cert-manager", "b/cert-manager", "a/monitoring", "a/redis", "a/podinfo",
                       "b/monitoring", "b/redis", "b/podinfo"]
