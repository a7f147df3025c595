"""What the gates of a sync did, as data: each gate's outcome per cluster with its evidence,
and what a failed wave undid. The text form is :mod:`helmkit.output.gates_view`; the JSON form
(:meth:`GateReport.to_json`) goes into ``sync --report FILE`` and the in-cluster record that
``status`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from helmkit.model.gates import GateSpec
from helmkit.plan.gatecheck import Observation
from helmkit.plan.gaterollback import UndoPlan, UndoStep

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
INTERRUPTED, CANCELLED = "interrupted", "cancelled"


@dataclass(frozen=True)
class GateOutcome:
    cluster: str
    gate: GateSpec  # interpolated for the cluster
    verdict: str  # passed, failed, interrupted, cancelled, skipped
    reason: str
    observations: tuple[Observation, ...] = ()
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.verdict in (PASSED, SKIPPED)

    @property
    def evidence(self) -> dict[str, Any]:
        """The evidence of the last check (empty for soak and skipped gates)."""
        return dict(self.observations[-1].evidence) if self.observations else {}

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "gate": self.gate.name, "kind": self.gate.kind, "check": self.gate.describe(),
            "verdict": self.verdict, "reason": self.reason, "seconds": round(self.seconds, 3),
            "observations": [{"ok": o.ok, "at": round(o.at, 3), "summary": o.summary, "evidence": dict(o.evidence)}
                             for o in self.observations],
        }


@dataclass(frozen=True)
class GateEvent:
    kind: Literal["start", "check", "end"]
    cluster: str
    gate: GateSpec
    observation: Observation | None = None
    outcome: GateOutcome | None = None


@dataclass(frozen=True)
class UndoResult:
    step: UndoStep
    ok: bool
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"cluster": self.step.cluster, "release": self.step.release, "namespace": self.step.namespace,
                "action": self.step.action, "revision": self.step.revision, "ok": self.ok, "message": self.message}


@dataclass
class WaveGateResult:
    wave: int
    clusters: list[str] = field(default_factory=list)  # the clusters whose gates ran
    unchanged: list[str] = field(default_factory=list)  # clusters of the wave this sync changed nothing on
    outcomes: list[GateOutcome] = field(default_factory=list)
    skipped: bool = False  # --skip-gates
    undo: UndoPlan | None = None
    undone: list[UndoResult] = field(default_factory=list)

    @property
    def failed(self) -> list[GateOutcome]:
        return [o for o in self.outcomes if o.verdict == FAILED]

    @property
    def interrupted(self) -> bool:
        return any(o.verdict == INTERRUPTED for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        return {
            "wave": self.wave, "clusters": self.clusters, "unchanged": self.unchanged, "skipped": self.skipped,
            "result": self.result, "gates": [o.to_json() for o in self.outcomes],
            "rollback": [u.to_json() for u in self.undone]
            + [{"cluster": s.cluster, "release": s.release, "namespace": s.namespace, "action": s.action,
                "revision": None, "ok": True, "message": "kept"}
               for s in (self.undo.steps if self.undo else []) if s.action == "keep"],
            "notes": list(self.undo.notes) if self.undo else [],
        }

    @property
    def result(self) -> str:
        if self.skipped:
            return "gates skipped (--skip-gates)"
        if self.failed:
            return FAILED
        if self.interrupted:
            return INTERRUPTED
        return PASSED if self.outcomes else "nothing changed"


@dataclass
class GateReport:
    skip_gates: bool = False
    waves: list[WaveGateResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(w.failed for w in self.waves)

    @property
    def rollback_failed(self) -> bool:
        return any(not u.ok for w in self.waves for u in w.undone)

    def to_json(self) -> dict[str, Any]:
        return {"skipGates": self.skip_gates, "failed": self.failed, "waves": [w.to_json() for w in self.waves]}
