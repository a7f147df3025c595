"""How ``helmkit diff`` shows what sync would change.

Text form, per release that differs (releases in sync are only counted)::

    ~ prod-us-east-1 payments (namespace payments): out-of-sync +0 ~1 -0
      chart version 2.3.0 -> 2.4.0
      values changed at replicaCount
      --- deployed values
      +++ desired values
      @@ -1,3 +1,3 @@
      -replicaCount: 2
      +replicaCount: 3
      # ~ apps/Deployment payments/payments
      --- deployed apps/Deployment payments/payments
      +++ desired apps/Deployment payments/payments
      ...

The leading symbol says what sync does: ``+`` install, ``~`` upgrade, ``-`` uninstall (prune),
``!`` needs a person (pending, foreign). The counts are objects added, changed and removed
(:func:`helmkit.plan.diffmodel.render_summary`); hooks are listed apart as ``(hook)``. A closing
line counts releases per status. Unreachable clusters and releases that could not be rendered
are listed last. On a TTY, ``+``/``-``/``@@`` lines are coloured.

``json`` gives the same data as one object; ``markdown`` suits a pull-request comment (one
heading per release, the diff in a fenced ``diff`` block).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helmkit.plan.diffmodel import DEFAULT_CONTEXT, ObjectChange, render_summary, render_unified, to_json

Style = Callable[[str, str], str]

OP_SYMBOL = {
    "not-installed": "+", "out-of-sync": "~", "failed": "~", "orphan": "-", "disabled-installed": "-",
    "pending": "!", "foreign": "!",
}


@dataclass
class ReleaseDiff:
    """What differs for one release on one cluster (all values already masked)."""

    cluster: str
    release: str
    namespace: str
    status: str
    differs: bool
    reasons: tuple[str, ...] = ()
    changes: list[ObjectChange] = field(default_factory=list)
    hook_changes: list[ObjectChange] = field(default_factory=list)
    chart: tuple[str, str] | None = None  # (deployed, desired) "name version"
    values_diff: str = ""  # unified diff of deployed vs desired values

    @property
    def summary(self) -> str:
        return render_summary(self.changes)


@dataclass
class DiffReport:
    env: str
    releases: list[ReleaseDiff]
    unreachable: dict[str, str] = field(default_factory=dict)  # cluster -> message
    errors: list[str] = field(default_factory=list)  # render errors, one message each

    @property
    def differs(self) -> bool:
        return any(r.differs for r in self.releases)

    def counts(self) -> Counter[str]:
        return Counter(r.status for r in self.releases)


def render_text(report: DiffReport, *, context: int = DEFAULT_CONTEXT, style: Style | None = None) -> str:
    paint = style or (lambda text, _colour: text)
    lines: list[str] = []
    for diff in report.releases:
        if not diff.differs:
            continue
        symbol = OP_SYMBOL.get(diff.status, "~")
        head = f"{symbol} {diff.cluster} {diff.release} (namespace {diff.namespace}): {diff.status} {diff.summary}"
        lines.append(head)
        lines += [f"  {reason}" for reason in diff.reasons]
        lines += [f"  {line}" for line in _body(diff, context).splitlines()]
    counts = report.counts()
    total = sum(counts.values())
    if total:
        parts = ", ".join(f"{counts[s]} {s}" for s in sorted(counts))
        lines.append(f"{report.env}: {total} releases: {parts}")
    elif not report.unreachable:  # releases were selected: their clusters could not be read
        lines.append(f"{report.env}: no releases selected")
    for cluster, message in sorted(report.unreachable.items()):
        lines.append(paint(f"error: cluster {cluster}: {message.removeprefix(f'cluster {cluster}: ')}", "red"))
    lines += [paint(f"not rendered: {error}", "red") for error in report.errors]
    return "\n".join(_colour(line, paint) for line in lines) + "\n"


def render_markdown(report: DiffReport, *, context: int = DEFAULT_CONTEXT) -> str:
    parts = [f"## helmkit diff: {report.env}", ""]
    differing = [d for d in report.releases if d.differs]
    if not differing:
        parts.append("No changes.")
    for diff in differing:
        parts.append(f"### {diff.cluster} / {diff.release} — {diff.status} ({diff.summary})")
        parts += [f"- {reason}" for reason in diff.reasons]
        body = _body(diff, context)
        if body:
            parts += ["", "```diff", body.rstrip("\n"), "```"]
        parts.append("")
    counts = report.counts()
    if counts:
        parts.append("| status | releases |")
        parts.append("| --- | --- |")
        parts += [f"| {status} | {counts[status]} |" for status in sorted(counts)]
    if report.unreachable:
        parts += ["", "**Unreachable clusters**", ""]
        parts += [f"- {cluster}: {message}" for cluster, message in sorted(report.unreachable.items())]
    if report.errors:
        parts += ["", "**Not rendered**", ""]
        parts += [f"- {error}" for error in report.errors]
    return "\n".join(parts).rstrip("\n") + "\n"


def render_json(report: DiffReport) -> str:
    data: dict[str, Any] = {
        "env": report.env,
        "differs": report.differs,
        "releases": [
            {
                "cluster": d.cluster, "release": d.release, "namespace": d.namespace, "status": d.status,
                "differs": d.differs, "summary": d.summary, "reasons": list(d.reasons),
                "chart": {"deployed": d.chart[0], "desired": d.chart[1]} if d.chart else None,
                "valuesDiff": d.values_diff, "objects": to_json(d.changes), "hooks": to_json(d.hook_changes),
            }
            for d in report.releases
        ],
        "unreachable": [{"cluster": c, "message": m} for c, m in sorted(report.unreachable.items())],
        "errors": list(report.errors),
    }
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def _body(diff: ReleaseDiff, context: int) -> str:
    text = diff.values_diff  # a chart change is among the reasons
    text += render_unified(diff.changes, context=context)
    if diff.hook_changes:
        hooks = render_unified(diff.hook_changes, context=context)
        text += "".join(line.replace("# ", "# (hook) ", 1) if line.startswith("# ") else line
                        for line in hooks.splitlines(keepends=True))
    return text


def _colour(line: str, paint: Style) -> str:
    stripped = line[2:] if line.startswith("  ") else line
    if stripped.startswith(("+++", "---")):
        return paint(line, "bold")
    if stripped.startswith("+"):
        return paint(line, "green")
    if stripped.startswith("-"):
        return paint(line, "red")
    if stripped.startswith("@@"):
        return paint(line, "cyan")
    return line
