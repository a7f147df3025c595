"""The closing summary of a sync (text and JSON), from a real executor run.

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/plan/test_summary.py``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from helmkit.adapters.masking import Masker
from helmkit.errors import EXIT_ERROR, EXIT_INTERRUPTED, ToolError
from helmkit.plan.execute import RunResult, StepOutcome, execute
from helmkit.plan.rollout import ClusterPlan, Plan, Step, StepKind, Wave
from helmkit.plan.summary import short_reason, summarize

CANARY = "canary-Secret-Value-9f3e"


def step(cluster: str, name: str, *needs: str, kind: StepKind = StepKind.UPGRADE) -> Step:
    return Step(kind, f"prod/{cluster}/{name}", cluster, ["helm", name],
                [f"prod/{cluster}/{n}" for n in needs], reason="in sync" if kind is StepKind.SKIP else "",
                release=name, namespace=name)


def fleet() -> Plan:
    recover = step("prod-us", "ingress", kind=StepKind.RECOVER)
    return Plan([
        Wave(0, [ClusterPlan("prod-canary", "ctx", [
            [step("prod-canary", "cert-manager", kind=StepKind.SKIP), step("prod-canary", "ingress")],
            [step("prod-canary", "web", "cert-manager", "ingress")],
        ])]),
        Wave(1, [
            ClusterPlan("prod-eu", "ctx", [
                [step("prod-eu", "cert-manager"), step("prod-eu", "ingress", kind=StepKind.SKIP)],
                [step("prod-eu", "web", "cert-manager")],
                [step("prod-eu", "old-dns", "cert-manager", "web", kind=StepKind.UNINSTALL)],
            ]),
            ClusterPlan("prod-us", "ctx", [
                [recover, Step(StepKind.UPGRADE, recover.key, "prod-us", ["helm"], [recover.id], release="ingress")],
                [step("prod-us", "web", "ingress")],
            ]),
            ClusterPlan("prod-ap", "ctx", []),
        ]),
    ])


def run_step_failing(*failing: str) -> object:
    def run_step(s: Step) -> StepOutcome:
        if s.id in failing:
            raise ToolError(f"helm upgrade --install {s.release} failed (exit 1)",
                            stderr=f"some line\nError: UPGRADE FAILED: context deadline exceeded ({CANARY})")
        return StepOutcome(True)
    return run_step


def run(plan: Plan, *failing: str, stop: threading.Event | None = None) -> RunResult:
    return execute(plan, run_step_failing(*failing), concurrency=2,  # type: ignore[arg-type]
                   stop=stop or threading.Event(), on_event=lambda e: None)


def test_counts_per_cluster_each_release_once() -> None:
    plan = fleet()
    summary = summarize(plan, run(plan, "prod/prod-eu/web"))
    rows = {c.cluster: c.row()[1:] for c in summary.clusters}
    #                       deployed unchanged failed skipped pruned
    assert rows == {"prod-canary": [2, 1, 0, 0, 0], "prod-eu": [1, 1, 1, 1, 0], "prod-us": [2, 0, 0, 0, 0],
                    "prod-ap": [0, 0, 0, 0, 0]}
    assert summary.total.row() == ["total", 5, 2, 1, 1, 0]
    assert [(r.cluster, r.release, r.step) for r in summary.failed] == [("prod-eu", "web", "upgrade")]
    assert [(r.release, r.reason) for r in summary.skipped] == [("old-dns", "needs web, which failed")]
    assert summary.exit_code == EXIT_ERROR


def test_all_good_with_prune() -> None:
    plan = fleet()
    summary = summarize(plan, run(plan))
    assert summary.total.row() == ["total", 6, 2, 0, 0, 1]
    assert (summary.failed, summary.skipped, summary.exit_code) == ([], [], 0)


def test_a_failed_recovery_counts_the_release_once_as_failed() -> None:
    plan = fleet()
    summary = summarize(plan, run(plan, "prod/prod-us/ingress#recover"))
    us = next(c for c in summary.clusters if c.cluster == "prod-us")
    assert us.row() == ["prod-us", 0, 0, 1, 1, 0]
    assert [(r.release, r.step) for r in summary.failed] == [("ingress", "recover")]


def test_short_reason_keeps_helms_last_word() -> None:
    assert short_reason("helm x failed (exit 1)\n  | a\n  | Error: boom") == "helm x failed (exit 1): Error: boom"
    assert short_reason("needs a, which failed") == "needs a, which failed"
    assert short_reason("") == ""


def test_text_and_json_golden(golden: Callable[[str, str], None]) -> None:
    plan = fleet()
    summary = summarize(plan, run(plan, "prod/prod-canary/ingress"))
    text = summary.render_text(Masker([CANARY]))
    assert CANARY not in text
    golden("summary-wave-failed.txt", text)
    data = summary.to_json()
    assert data["exitCode"] == EXIT_ERROR
    golden("summary-wave-failed.json", json.dumps(data, indent=2, sort_keys=True) + "\n")


def test_interrupted_golden(golden: Callable[[str, str], None]) -> None:
    plan = fleet()
    stop = threading.Event()

    def run_step(s: Step) -> StepOutcome:
        if s.release == "web":
            stop.set()
        return StepOutcome(True)

    result = execute(plan, run_step, concurrency=1, stop=stop, on_event=lambda e: None)
    summary = summarize(plan, result)
    assert summary.interrupted
    assert summary.exit_code == EXIT_INTERRUPTED
    golden("summary-interrupted.txt", summary.render_text())


def test_a_release_left_pending_is_named_with_its_recover_command_and_a_repair_is_counted() -> None:
    plan = Plan([Wave(0, [ClusterPlan("c1", "ctx", [[step("c1", "web"), step("c1", "api", kind=StepKind.REPAIR)]])])])

    def run_step(s: Step) -> StepOutcome:
        if s.release == "web":
            return StepOutcome(False, "killed", reason="helm upgrade web failed (exit -9): left pending-rollback",
                               pending=True)
        return StepOutcome(True)

    stop = threading.Event()
    result = execute(plan, run_step, concurrency=1, stop=stop, on_event=lambda e: None)
    summary = summarize(plan, result)
    text = summary.render_text()
    assert "repaired" in text.splitlines()[0].lower()
    assert [r.release for r in summary.pending] == ["web"]
    assert "may be left pending" in text
    assert "prod/c1/web: helmkit sync --env prod --cluster c1 -l name=web --recover" in text
    assert "helm upgrade web failed (exit -9): left pending-rollback" in text  # the step's own reason
    assert summary.to_json()["pending"][0]["reason"].endswith("--recover")
