"""A sync's after-work starts for a cluster as soon as that cluster's steps have all ended, while
other clusters still run, with the releases it deployed (skipped, failed and unchanged ones left out).

Proven with the real executor and threading events (a step that waits for another cluster's
after-work times out and fails the test), not with sleeps."""

from __future__ import annotations

import threading

from helmkit.actions.aftersync import AfterSync
from helmkit.plan.execute import Event, Outcome, StepOutcome, execute
from helmkit.plan.rollout import ClusterPlan, Plan, Step, StepKind, Wave

WAIT = 5.0


def step(cluster: str, name: str, *needs: str, kind: StepKind = StepKind.UPGRADE) -> Step:
    return Step(kind, f"prod/{cluster}/{name}", cluster, ["helm", kind.value, name],
                [f"prod/{cluster}/{n}" for n in needs], reason="test", release=name, namespace=name)


def test_a_clusters_after_work_runs_while_another_cluster_still_syncs() -> None:
    kept: dict[str, tuple[list[str], bool]] = {}
    a_kept = threading.Event()

    def keep(keys: list[str], render: bool) -> None:
        kept[keys[0].split("/")[1]] = (sorted(keys), render)
        if keys[0].startswith("prod/a/"):
            a_kept.set()

    def run_step(s: Step) -> StepOutcome:
        if s.cluster == "b":  # b's release ends only once a's after-work ran
            return StepOutcome(a_kept.wait(WAIT), "a's after-work did not run while b synced")
        return StepOutcome(s.release != "broken")

    steps_a = [step("a", "web"), step("a", "db", kind=StepKind.INSTALL), step("a", "broken"),
               step("a", "needs-broken", "broken"), step("a", "same", kind=StepKind.SKIP)]
    the_plan = Plan([Wave(0, [ClusterPlan("a", "ctx-a", [steps_a]), ClusterPlan("b", "ctx-b", [[step("b", "web")]])])])
    events: list[Event] = []
    with AfterSync(the_plan.steps(), keep, threading.Event(), events.append) as after:
        result = execute(the_plan, run_step, concurrency=4, stop=threading.Event(), on_event=after.on_event)
        after.wait()

    assert {r.step.id: r.outcome for r in result.results}["prod/b/web"] is Outcome.DEPLOYED
    assert kept == {"a": (["prod/a/db", "prod/a/web"], True), "b": (["prod/b/web"], True)}
    assert len(events) == 2 * 4 + 2  # every event went on to the progress display (skips have only an end)


def test_a_cluster_with_nothing_deployed_has_no_after_work_and_an_interrupted_one_renders_nothing() -> None:
    calls: list[tuple[list[str], bool]] = []
    stop = threading.Event()

    def run_step(s: Step) -> StepOutcome:
        if s.cluster == "a":
            stop.set()  # as SIGINT would: the step ends, nothing new starts
        return StepOutcome(s.cluster == "a")

    the_plan = Plan([Wave(0, [ClusterPlan("a", "ctx-a", [[step("a", "web")], [step("a", "next", "web")]])]),
                     Wave(1, [ClusterPlan("c", "ctx-c", [[step("c", "web")]])])])
    with AfterSync(the_plan.steps(), lambda keys, render: calls.append((keys, render)), stop,
                   lambda event: None) as after:
        execute(the_plan, run_step, concurrency=1, stop=stop, on_event=after.on_event)
        after.wait()
    assert calls == [(["prod/a/web"], False)]
