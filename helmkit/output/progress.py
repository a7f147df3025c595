"""What ``helmkit sync`` prints while it works: the plan summary before, progress during.

:func:`render_plan_summary` lists the releases sync will act on, wave by wave and cluster by
cluster, plus the plan's problems and notes (``--dry-run`` prints the full plan with argv
instead, :meth:`helmkit.plan.rollout.Plan.render_text`).

:class:`Progress` receives the executor's events. Plain mode (not a TTY, e.g. CI logs) prints
one line when a release starts and one when it ends, in columns (cluster and release names padded
to the longest of the run, so the times align)::

    start     prod-us-east-1 cert-manager   install
    deployed  prod-us-east-1 cert-manager   1.4s
    deployed  prod-us-east-1 ingress-nginx  12.0s

The summary after the run ends with :func:`render_total_time`.

On a TTY it prints the same lines plus one live status line at the bottom (rewritten in place
twice a second) naming each running release with its cluster and elapsed time, cut to the
terminal's width (a longer line would wrap, and ``\r`` could then no longer erase it). Everything
goes to stderr through the run's masker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from helmkit.output.liveline import LiveLine
from helmkit.plan.execute import Event, Outcome
from helmkit.plan.rollout import Plan, StepKind

MAX_LIVE = 4  # running releases named in the live line; the rest are counted


def render_plan_summary(plan: Plan) -> str:
    counts = plan.counts()
    head = ", ".join(f"{counts[kind]} {kind.value}" for kind in StepKind if counts[kind]) or "nothing to do"
    lines = [f"plan: {head}"]
    acted = [s for wave in plan.waves for c in wave.clusters for s in c.steps if s.kind is not StepKind.SKIP]
    cluster_width = max((len(s.cluster) for s in acted), default=0)
    release_width = max((len(s.release) for s in acted), default=0)
    for wave in plan.waves:
        acting = [(cluster, [s for s in cluster.steps if s.kind is not StepKind.SKIP]) for cluster in wave.clusters]
        unchanged = sum(1 for cluster in wave.clusters for s in cluster.steps if s.kind is StepKind.SKIP)
        lines.append(f"wave {wave.number}: {', '.join(c.cluster for c in wave.clusters)}"
                     + (f" ({unchanged} in sync)" if unchanged else ""))
        for cluster, steps in acting:
            for step in steps:
                lines.append(f"  {step.kind.value:<9} {cluster.cluster:<{cluster_width}}  "
                             f"{step.release + ':':<{release_width + 1}} {step.reason}")
    for title, items in (("problems", [f"{p.key}: {p.message}" for p in plan.problems]), ("notes", plan.notes)):
        if items:
            lines.append(f"{title}:")
            lines += [f"  - {item}" for item in items]
    return "\n".join(lines)


def render_total_time(seconds: float) -> str:
    """The line closing a sync's summary: ``total time 1m04s`` (``3.2s`` under a minute)."""
    if seconds < 60:
        return f"total time {seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"total time {hours}h{minutes:02d}m{rest:02d}s" if hours else f"total time {minutes}m{rest:02d}s"


@dataclass
class Progress(LiveLine):
    cluster_width: int = 15  # column of the cluster name in plain lines (the longest name of the run)
    release_width: int = 0  # column of the release name (the longest of the run): the times align
    _running: dict[str, tuple[str, float]] = field(default_factory=dict)  # step id -> (label, start)

    def on_event(self, event: Event) -> None:
        step = event.step
        label = f"{step.cluster:<{self.cluster_width}} {step.release:<{self.release_width}}"
        if event.kind == "start":
            with self._lock:
                self._running[step.id] = (f"{step.release}@{step.cluster}", event.time)
            self._line(f"{'start':<9} {label}  {step.kind.value}".rstrip())
            return
        result = event.result
        assert result is not None
        with self._lock:
            self._running.pop(step.id, None)
        if result.outcome is Outcome.UNCHANGED:
            return
        text = f"{result.outcome.value:<9} {label}"
        if result.duration is not None:
            text += f"  {result.duration:.1f}s"
        if result.outcome in (Outcome.FAILED, Outcome.SKIPPED) and result.message:
            text += f"  {result.message.splitlines()[0]}"
        colour = {Outcome.FAILED: "red", Outcome.SKIPPED: "yellow"}.get(result.outcome, "green")
        self._line(self.console.style_err(text, colour))

    def _line(self, text: str) -> None:
        with self._lock:
            self._clear()
            self.console.err.write(self.console.masker.mask(text) + "\n")
            self._draw()
            self.console.err.flush()

    def status_text(self) -> str:
        """The live line: running releases, oldest first (empty when none runs)."""
        if not self._running:
            return ""
        now = time.monotonic()
        items = sorted(self._running.values(), key=lambda item: item[1])
        shown = [f"{label} {now - start:.0f}s" for label, start in items[:MAX_LIVE]]
        more = f" +{len(items) - MAX_LIVE} more" if len(items) > MAX_LIVE else ""
        return f"running: {', '.join(shown)}{more}"
