"""Gates in sync's output, against golden files (``HELMKIT_UPDATE_GOLDEN=1`` refreshes them)."""

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]

from helmkit.adapters.helm import HelmClient
from helmkit.adapters.runner import Runner
from helmkit.errors import Location
from helmkit.model.gates import GatePolicy, GateSpec
from helmkit.output.gates_view import event_line, render_gate_plan, render_gate_report, skip_warning
from helmkit.plan.execute import Outcome, StepResult
from helmkit.plan.gatecheck import Observation
from helmkit.plan.gatereport import GateEvent, GateOutcome, GateReport, UndoResult, WaveGateResult
from helmkit.plan.gaterollback import plan_undo
from helmkit.plan.rollout import ClusterPlan, Plan, Step, StepKind, Wave

HERE = Location("environments/prod.yaml", 20)
SOAK = GateSpec("canary-soak", "soak", {"duration": "2m"}, HERE, waves=(0,), soak=120.0)
HTTP = GateSpec("health", "http", {"url": "https://shop.us-east-1.example.com/healthz", "body": "ok"}, HERE,
                waves=(0, 1), success_threshold=3, failure_threshold=2)
ERRORS = GateSpec("errors", "prometheus", {"url": "http://prom", "query": "sum(rate(errors[5m]))",
                                          "condition": "< 0.01"}, HERE, releases=("storefront",))


def step(cluster: str, name: str, kind: StepKind) -> Step:
    return Step(kind, f"prod/{cluster}/{name}", cluster, ["helm"], [], "test", name, name)


def plan() -> Plan:
    clusters = {0: ["prod-us-east-1"], 1: ["prod-us-west-2", "prod-eu-west-1"], 2: ["prod-ap-southeast-1"]}
    return Plan([Wave(n, [ClusterPlan(c, c, [[step(c, "storefront", StepKind.UPGRADE),
                                              step(c, "payments", StepKind.INSTALL)]]) for c in names])
                 for n, names in clusters.items()])


def test_dry_run_gate_plan(golden) -> None:
    policy = GatePolicy((SOAK, HTTP, ERRORS), uninstall_installed=False)
    golden("gate-plan.txt", render_gate_plan(policy, plan()) + "\n")
    assert render_gate_plan(GatePolicy(()), plan()) == ""
    assert skip_warning(policy, [0, 1, 2]).startswith("WARNING: --skip-gates: 6 gate(s) will NOT run")


def test_report_of_a_failed_canary(golden) -> None:
    wave = plan().waves[0]
    results = {s.id: StepResult(s, Outcome.DEPLOYED) for c in wave.clusters for s in c.steps}
    undo = plan_undo(wave, results, {"prod/prod-us-east-1/storefront": 5}, helm=HelmClient(Runner(), Path("helm")),
                     helm_major=4)
    failed = GateOutcome("prod-us-east-1", HTTP, "failed", "2 consecutive check(s) failed: GET …: HTTP 500",
                         (Observation(False, "HTTP 500", {"url": HTTP.config["url"], "status": 500,
                                                          "body": "upstream connect error"}, 1.0),), 3.5)
    report = GateReport(waves=[WaveGateResult(
        0, ["prod-us-east-1"], [], [GateOutcome("prod-us-east-1", SOAK, "passed", "soaked 120s", (), 120.0), failed],
        undo=undo, undone=[UndoResult(undo.steps[0], True), UndoResult(undo.steps[1], False, "helm rollback failed")])])
    golden("gate-report-failed.txt", render_gate_report(report))
    document = report.to_json()
    schema = json.loads((Path(__file__).resolve().parents[3] / "schemas" / "sync-report.schema.json").read_text())
    jsonschema.validate({"summary": {}, "gates": document}, schema)
    assert document["failed"] is True
    assert document["waves"][0]["gates"][1]["observations"][0]["evidence"]["status"] == 500
    assert [r["action"] for r in document["waves"][0]["rollback"]] == ["uninstall", "rollback"]


def test_report_of_passing_and_skipped_waves(golden) -> None:
    report = GateReport(skip_gates=True, waves=[
        WaveGateResult(0, ["prod-us-east-1"], [], [GateOutcome("prod-us-east-1", HTTP, "passed",
                                                               "3 consecutive check(s) passed")]),
        WaveGateResult(1, [], ["prod-us-west-2", "prod-eu-west-1"]),
        WaveGateResult(2, skipped=True)])
    golden("gate-report-passed.txt", render_gate_report(report))
    assert render_gate_report(GateReport()) == ""


def test_progress_lines() -> None:
    check = GateEvent("check", "c1", HTTP, observation=Observation(False, "GET x: HTTP 500"))
    assert event_line(check, 4) == "check     c1    health  FAIL  GET x: HTTP 500"
    start = GateEvent("start", "c1", SOAK)
    assert event_line(start, 2) == "gate      c1  canary-soak  soak 2m"
    end = GateEvent("end", "c1", SOAK, outcome=GateOutcome("c1", SOAK, "interrupted", "stopped by a signal"))
    assert event_line(end, 2) == "interrupted c1  canary-soak  stopped by a signal"
