import io

from helmkit.errors import Location
from helmkit.model.gates import GateSpec
from helmkit.output.console import Console
from helmkit.output.gate_progress import GateProgress
from helmkit.plan.gatecheck import Observation
from helmkit.plan.gatereport import GateEvent, GateOutcome

SOAK = GateSpec("canary-soak", "soak", {"duration": "2m"}, Location("f"), soak=120.0)
HTTP = GateSpec("health", "http", {"url": "http://x/h"}, Location("f"), timeout=300.0)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def console() -> tuple[Console, io.StringIO]:
    err = io.StringIO()
    return Console(out=io.StringIO(), err=err, colour=False), err


def test_plain_output_prints_start_end_and_failed_checks_only() -> None:
    shown, err = console()
    with GateProgress(shown, width=2, live=False) as progress:
        progress.on_event(GateEvent("start", "c1", HTTP))
        progress.on_event(GateEvent("check", "c1", HTTP, observation=Observation(True, "GET x: HTTP 200")))
        progress.on_event(GateEvent("check", "c1", HTTP, observation=Observation(False, "GET x: HTTP 500")))
        progress.on_event(GateEvent("end", "c1", HTTP, outcome=GateOutcome("c1", HTTP, "failed", "2 failed")))
    assert err.getvalue().splitlines() == [
        "gate      c1  health  http GET http://x/h expects 200",
        "check     c1  health  FAIL  GET x: HTTP 500",
        "failed    c1  health  2 failed",
    ]


def test_the_live_line_names_running_gates_with_their_time_and_checks() -> None:
    shown, err = console()
    clock = Clock()
    progress = GateProgress(shown, width=2, live=True, clock=clock)
    progress.on_event(GateEvent("start", "c1", SOAK))
    clock.now = 110.0
    progress.on_event(GateEvent("start", "c2", HTTP))
    progress.on_event(GateEvent("check", "c2", HTTP, observation=Observation(True, "GET x: HTTP 200")))
    clock.now = 142.0
    assert progress.status_text() == "gates: canary-soak@c1 42s/120s, health@c2 32s/300s (1 check)"
    progress.on_event(GateEvent("end", "c1", SOAK, outcome=GateOutcome("c1", SOAK, "passed", "soaked 120s")))
    assert progress.status_text() == "gates: health@c2 32s/300s (1 check)"
    # every line first clears the live line drawn after the line before it
    assert "gates: canary-soak@c1 0s/120s\r\x1b[Kgate      c2  health" in err.getvalue()
