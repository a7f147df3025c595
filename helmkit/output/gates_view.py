"""Gates in sync's output: the gates of each wave (``--dry-run`` and the plan summary), one line
per gate event while they run, the loud ``--skip-gates`` warning, and the closing gate report::

    gates:
    wave  cluster         gate      result  reason
    ----  --------------  --------  ------  ----------------------------------------------
       0  prod-us-east-1  workload  passed  1 consecutive check(s) passed
       0  prod-us-east-1  http      failed  3 consecutive check(s) failed: GET …: HTTP 500

    gate http failed on prod-us-east-1 (wave 0); evidence:
      {"url": "https://…/healthz", "status": 500, "body": "upstream connect error"}
    wave 0 rolled back:
      prod-us-east-1  web       rollback to revision 3  ok
      prod-us-east-1  payments  uninstall               ok
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tabulate import tabulate

from helmkit.model.gates import GatePolicy, GateSpec
from helmkit.plan.gatereport import FAILED, GateEvent, GateReport
from helmkit.plan.rollout import Plan
from helmkit.plan.summary import short_reason

EVIDENCE_CHARS = 600


def skip_warning(policy: GatePolicy, waves: Sequence[int]) -> str:
    count = sum(len(policy.for_wave(wave)) for wave in waves)
    return (f"WARNING: --skip-gates: {count} gate(s) will NOT run; a wave that breaks the service will NOT stop "
            "the rollout and nothing is rolled back automatically")


def thresholds(gate: GateSpec) -> str:
    if gate.kind == "soak":
        return ""
    return (f"every {gate.interval:g}s, pass after {gate.success_threshold}, fail after {gate.failure_threshold}, "
            f"timeout {gate.timeout:g}s")


def render_gate_plan(policy: GatePolicy, plan: Plan) -> str:
    """The gates after each wave, for ``--dry-run``; empty when no gate applies."""
    return render_wave_gates(policy, [(wave.number, [c.cluster for c in wave.clusters]) for wave in plan.waves])


def render_wave_gates(policy: GatePolicy, waves: Sequence[tuple[int, Sequence[str]]]) -> str:
    """The gates after each of ``waves`` (number, cluster names); empty when no gate applies."""
    if not any(policy.for_wave(number) for number, _ in waves):
        return ""
    lines = ["gates (after each wave, on every cluster of the wave the sync changed; all must pass for the "
             "next wave to start):"]
    for number, names in waves:
        gates = policy.for_wave(number)
        clusters = ", ".join(names)
        if not gates:
            lines.append(f"  wave {number} ({clusters}): no gates")
            continue
        lines.append(f"  wave {number} ({clusters}):")
        for gate in gates:
            detail = thresholds(gate)
            lines.append(f"    {gate.name}: {gate.describe()}" + (f" [{detail}]" if detail else ""))
    installed = "uninstall" if policy.uninstall_installed else "keep"
    lines.append(f"  on failure: roll the wave's upgraded releases back to their revision before the sync, "
                 f"{installed} the releases it installed, start no later wave, exit 1")
    return "\n".join(lines)


def event_line(event: GateEvent, width: int) -> str | None:
    """One progress line for a gate event (None: nothing to print)."""
    cluster = event.cluster.ljust(width)
    if event.kind == "start":
        return f"gate      {cluster}  {event.gate.name}  {event.gate.describe()}"
    if event.kind == "check" and event.observation is not None:
        mark = "ok" if event.observation.ok else "FAIL"
        return f"check     {cluster}  {event.gate.name}  {mark}  {event.observation.summary}"
    if event.outcome is not None:
        outcome = event.outcome
        return f"{outcome.verdict:<9} {cluster}  {event.gate.name}  {outcome.reason}"
    return None


def render_gate_report(report: GateReport) -> str:
    """The gate section of sync's closing summary (empty when no gate ran)."""
    if not report.waves:
        return ""
    rows = []
    for wave in report.waves:
        if wave.skipped:
            rows.append([wave.wave, "", "", "skipped", "--skip-gates"])
        rows += [[wave.wave, o.cluster, o.gate.name, o.verdict, o.reason] for o in wave.outcomes]
        rows += [[wave.wave, cluster, "", "-", "nothing changed by this sync"] for cluster in wave.unchanged]
    parts = ["gates:\n" + tabulate(rows, headers=["wave", "cluster", "gate", "result", "reason"])]
    for wave in report.waves:
        for outcome in wave.failed:
            evidence = json.dumps(outcome.evidence, sort_keys=True)
            if len(evidence) > EVIDENCE_CHARS:
                evidence = evidence[:EVIDENCE_CHARS] + "…"
            parts.append(f"gate {outcome.gate.name} failed on {outcome.cluster} (wave {wave.wave}): "
                         f"{outcome.gate.describe()}\n  evidence: {evidence or '{}'}")
        if wave.result == FAILED and wave.undo is not None:
            parts.append(_undo_text(report, wave.wave))
    if report.skip_gates:
        parts.append("WARNING: gates were skipped (--skip-gates)")
    return "\n\n".join(parts) + "\n"


def _undo_text(report: GateReport, number: int) -> str:
    wave = next(w for w in report.waves if w.wave == number)
    assert wave.undo is not None
    if not wave.undo.steps and not wave.undo.notes:
        return f"wave {number}: nothing to roll back"
    rows = [[u.step.cluster, u.step.release, u.step.describe(), "ok" if u.ok else f"FAILED: {short_reason(u.message)}"]
            for u in wave.undone]
    rows += [[s.cluster, s.release, s.describe(), "kept"] for s in wave.undo.steps if s.action == "keep"]
    title = f"wave {number} rolled back" if all(u.ok for u in wave.undone) else f"wave {number} rollback INCOMPLETE"
    text = f"{title}:\n" + tabulate(rows, headers=["cluster", "release", "action", "result"])
    for note in wave.undo.notes:
        text += f"\n  note: {note}"
    if any(not u.ok for u in wave.undone):
        text += "\n  manual intervention required: see `helm history` of the releases that failed to roll back"
    return text
