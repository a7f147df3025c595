"""What sync prints while gates run: one line when a gate starts and one when it ends, a line per
check (on a TTY, with ``--verbose``, or when the check failed), and on a TTY a live status line
naming each running gate with its cluster and how long it has run (of its soak or timeout)::

    gate      prod-us-east-1  canary-soak  soak 10m
    passed    prod-us-east-1  canary-soak  soaked 600s
    gates: health@prod-us-east-1 12s/300s (2 checks)

Lines go to stderr through the run's masker, like :class:`helmkit.output.progress.Progress`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from helmkit.model.gates import GateSpec
from helmkit.output.gates_view import event_line
from helmkit.output.liveline import LiveLine
from helmkit.plan.gatereport import FAILED, PASSED, GateEvent

MAX_LIVE = 3


@dataclass
class GateProgress(LiveLine):
    width: int = 15  # column of the cluster name
    verbose: bool = False
    clock: Callable[[], float] = time.monotonic
    _running: dict[tuple[str, str], tuple[GateSpec, float, int]] = field(default_factory=dict)

    def on_event(self, event: GateEvent) -> None:
        key = (event.cluster, event.gate.name)
        with self._lock:
            if event.kind == "start":
                self._running[key] = (event.gate, self.clock(), 0)
            elif event.kind == "check" and key in self._running:
                gate, started, checks = self._running[key]
                self._running[key] = (gate, started, checks + 1)
            elif event.kind == "end":
                self._running.pop(key, None)
        failed_check = event.observation is not None and not event.observation.ok
        if event.kind == "check" and not (self.live or self.verbose or failed_check):
            return
        line = event_line(event, self.width)
        if line is None:
            return
        if self.live:
            verdict = event.outcome.verdict if event.outcome is not None else ""
            colour = "red" if verdict == FAILED or failed_check else "green" if verdict == PASSED else ""
            line = self.console.style(line, colour) if colour else line
        with self._lock:
            self._clear()
            self.console.err.write(self.console.masker.mask(line) + "\n")
            self._draw()
            self.console.err.flush()

    def status_text(self) -> str:
        """The live line: running gates, oldest first (empty when none runs)."""
        if not self._running:
            return ""
        now = self.clock()
        items = sorted(self._running.items(), key=lambda item: item[1][1])
        shown = []
        for (cluster, name), (gate, started, checks) in items[:MAX_LIVE]:
            limit = gate.soak if gate.kind == "soak" else gate.timeout
            text = f"{name}@{cluster} {now - started:.0f}s/{limit:g}s"
            if gate.kind != "soak":
                text += f" ({checks} check{'s' if checks != 1 else ''})"
            shown.append(text)
        more = f" +{len(items) - MAX_LIVE} more" if len(items) > MAX_LIVE else ""
        return "gates: " + ", ".join(shown) + more
