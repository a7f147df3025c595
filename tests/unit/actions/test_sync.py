"""Pieces of sync that need no cluster: durations, the lock holder, progress lines, the plan summary."""

from __future__ import annotations

import io

import pytest

from helmkit.actions.lock_env import LockHolder, lock_name
from helmkit.actions.sync import _seconds
from helmkit.adapters.masking import Masker
from helmkit.output.console import Console
from helmkit.output.progress import Progress, render_plan_summary, render_total_time
from helmkit.plan.execute import Event, Outcome, StepResult
from helmkit.plan.rollout import ClusterPlan, Plan, PlanProblem, Step, StepKind, Wave


@pytest.mark.parametrize(("text", "seconds"), [("5m", 300 + 120), ("90s", 90 + 120), ("1h30m", 5400 + 120),
                                                ("1.5s", 1.5 + 120)])
def test_helm_timeouts_become_runner_timeouts_with_a_margin(text: str, seconds: float) -> None:
    assert _seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "5 m", "m5", "5d"])
def test_unreadable_timeouts_leave_the_runner_unbounded(text: str) -> None:
    assert _seconds(text) is None


def test_lock_holder_round_trips_and_names_who_holds_it() -> None:
    holder = LockHolder("build-7", 4242, "ci", "2026-11-26T14:00:00+00:00", "helmkit sync --env prod", "abc")
    again = LockHolder.from_data(holder.data())
    assert again == holder
    assert again.describe() == "ci@build-7 pid 4242 since 2026-11-26T14:00:00+00:00 (helmkit sync --env prod)"
    assert LockHolder.from_data({"pid": "x"}).pid == 0
    assert lock_name("prod") == "helmkit-lock-prod"
    assert LockHolder.current().token != LockHolder.current().token


def _step(kind: StepKind, release: str, cluster: str = "c1", reason: str = "not installed") -> Step:
    return Step(kind, f"prod/{cluster}/{release}", cluster, [], [], reason, release, release)


def test_plain_progress_prints_a_line_per_start_and_end_and_masks_secrets() -> None:
    err = io.StringIO()
    console = Console(masker=Masker(["s3cret-value"]), out=io.StringIO(), err=err, colour=False)
    step = _step(StepKind.INSTALL, "web")
    with Progress(console, live=False) as progress:
        progress.on_event(Event("start", step, 1, 0.0))
        progress.on_event(Event("end", step, 2, 1.0, StepResult(step, Outcome.FAILED, "boom s3cret-value\nmore", 1.25)))
        skip = _step(StepKind.SKIP, "db")
        progress.on_event(Event("end", skip, 3, 1.0, StepResult(skip, Outcome.UNCHANGED, "in sync")))
    assert err.getvalue().splitlines() == [
        "start     c1              web  install",
        "failed    c1              web  1.2s  boom ***",
    ]


def test_live_progress_draws_and_clears_a_status_line() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, colour=False)
    step = _step(StepKind.UPGRADE, "web")
    with Progress(console, live=True) as progress:
        progress.on_event(Event("start", step, 1, 0.0))
        progress.on_event(Event("start", _step(StepKind.UPGRADE, "api"), 2, 0.0))
    text = err.getvalue()
    assert "running: web@c1" in text and "api@c1" in text
    assert text.endswith("\r\x1b[K")  # the status line is gone at the end


def test_plan_summary_lists_only_what_acts_per_wave() -> None:
    plan = Plan(
        [Wave(0, [ClusterPlan("c1", "c1", [[_step(StepKind.SKIP, "db", reason="in sync"),
                                            _step(StepKind.INSTALL, "web")]])]),
         Wave(1, [ClusterPlan("c2", "c2", [[_step(StepKind.BLOCKED, "web", "c2", "cluster unreachable: refused")]])])],
        [PlanProblem("prod/c2/web", "cluster unreachable: refused")], ["prod/c1/old: pass --prune to uninstall it"],
    )
    assert render_plan_summary(plan).splitlines() == [
        "plan: 1 install, 1 skip, 1 blocked",
        "wave 0: c1 (1 in sync)",
        "  install   c1  web: not installed",
        "wave 1: c2",
        "  blocked   c2  web: cluster unreachable: refused",
        "problems:",
        "  - prod/c2/web: cluster unreachable: refused",
        "notes:",
        "  - prod/c1/old: pass --prune to uninstall it",
    ]


def test_plan_summary_and_progress_lines_are_in_columns() -> None:
    steps = [_step(StepKind.INSTALL, "cert-manager", "prod-us-east-1"), _step(StepKind.UPGRADE, "web", "c1"),
             _step(StepKind.UNINSTALL, "ingress-nginx", "c1", "orphan")]
    plan = Plan([Wave(0, [ClusterPlan("prod-us-east-1", "x", [steps[:1]]), ClusterPlan("c1", "y", [steps[1:]])])],
                [], [])
    assert render_plan_summary(plan).splitlines()[2:] == [
        "  install   prod-us-east-1  cert-manager:  not installed",
        "  upgrade   c1              web:           not installed",
        "  uninstall c1              ingress-nginx: orphan",
    ]
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, colour=False)
    with Progress(console, live=False, cluster_width=14, release_width=13) as progress:
        for index, (step, seconds) in enumerate(zip(steps, (1.4, 12.0, 3.25), strict=True)):
            progress.on_event(Event("end", step, index, 0.0, StepResult(step, Outcome.DEPLOYED, "", seconds)))
    lines = err.getvalue().splitlines()
    assert len({line.rindex("  ") for line in lines}) == 1, lines  # the times start in one column


@pytest.mark.parametrize(("seconds", "text"), [(3.21, "total time 3.2s"), (64.4, "total time 1m04s"),
                                               (3725, "total time 1h02m05s")])
def test_total_time(seconds: float, text: str) -> None:
    assert render_total_time(seconds) == text
