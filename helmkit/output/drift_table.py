"""The drift report as a terminal table (the default on stdout).

One row per finding, sorted by environment, cluster, release and kind, then a line counting
findings per kind and, with a baseline, new / still present / resolved. Example::

    ENV   CLUSTER  RELEASE  KIND        BASELINE  SUMMARY
    prod  prod-1   web      live-drift  new       apps/v1/Deployment web/web changed at spec.replicas

    2 findings: 1 live-drift, 1 missing (2 clusters, 0 unreachable)

A fleet without drift prints ``no drift (2 clusters, 0 unreachable)``.
"""

from __future__ import annotations

from helmkit.output.table import render_table as table
from helmkit.plan.drift import DriftReport


def render_table(report: DriftReport, *, width: int | None = None) -> str:
    """The table; ``width`` (a terminal's) shortens only the summary column, piped output is whole."""
    lines: list[str] = []
    if report.findings:
        rows = [
            [f.env, f.cluster, f.release or "-", f.kind, f.baseline if report.baseline is not None else "",
             _one_line(f.summary)]
            for f in report.findings
        ]
        headers = ["ENV", "CLUSTER", "RELEASE", "KIND", "BASELINE" if report.baseline is not None else "", "SUMMARY"]
        if report.baseline is None:
            rows = [row[:4] + row[5:] for row in rows]
            headers = headers[:4] + headers[5:]
        lines.append(table(headers, rows, width=width))
        lines.append("")
    lines.append(summary_line(report))
    if report.baseline is not None:
        present = sum(1 for f in report.findings if f.baseline == "present")
        line = f"baseline {report.baseline}: {len(report.new)} new, {present} still present, " \
               f"{len(report.resolved)} resolved"
        if report.unchecked:
            line += f", {report.unchecked} unchecked"
        lines.append(line)
        lines.extend(f"  resolved: {r.env} {r.cluster} {r.release or '-'} {r.kind}: {_one_line(r.summary)}"
                     for r in report.resolved)
    lines.extend(f"error: {error}" for error in report.errors)
    return "\n".join(lines) + "\n"


def summary_line(report: DriftReport) -> str:
    scanned = len(report.clusters)
    unreachable = sum(1 for c in report.clusters if not c.reachable)
    where = f"{scanned} cluster{'s' if scanned != 1 else ''}, {unreachable} unreachable"
    if not report.findings:
        return f"no drift ({where})"
    counts = ", ".join(f"{n} {kind}" for kind, n in report.counts().items() if n)
    noun = "finding" if len(report.findings) == 1 else "findings"
    return f"{len(report.findings)} {noun}: {counts} ({where})"


def _one_line(text: str) -> str:
    return " ".join(text.split())
