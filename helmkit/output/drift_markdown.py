"""The drift report as Markdown (an issue, a chat message, a CI job summary).

A heading with the counts, an environment x cluster table of states, then one section per
release with findings: each finding as a bullet (kind, summary, baseline state), its details,
and its masked diff in a fenced ``diff`` block folded in a ``<details>``. Resolved findings (with a baseline) come last.
"""

from __future__ import annotations

import re

from helmkit.output.drift_table import summary_line
from helmkit.plan.drift import DriftReport

STATE_MARK = {"ok": "ok", "unreachable": "**unreachable**", "unhealthy": "**unhealthy**", "missing": "missing",
              "spec-drift": "spec-drift", "live-drift": "live-drift", "orphan": "orphan"}


def render_markdown(report: DriftReport) -> str:
    out = ["# helmkit drift report", "", summary_line(report), ""]
    if report.generated_at:
        out += [f"Generated {report.generated_at} for {', '.join(report.envs)}.", ""]
    if report.clusters:
        out += ["| environment | cluster | state | releases | findings |", "|---|---|---|---|---|"]
        for c in report.clusters:
            count = sum(1 for f in report.findings if f.env == c.env and f.cluster == c.cluster)
            out.append(f"| {c.env} | {c.cluster} | {STATE_MARK[report.cluster_state(c.env, c.cluster)]} | "
                       f"{c.releases} | {count} |")
        out.append("")
    for (env, cluster, release, namespace), findings in report.by_release().items():
        title = f"{env} / {cluster} / {release} (namespace {namespace})" if release else f"{env} / {cluster}"
        out += [f"## {title}", ""]
        for f in findings:
            mark = f" — {f.baseline}" if report.baseline is not None else ""
            out.append(f"- **{f.kind}**{mark}: {_inline(f.summary)} (`{f.id}`)")
            out.extend(f"  - {_inline(d)}" for d in f.details)
            if f.diff:
                lines = f.diff.rstrip("\n").splitlines()
                fence = "`" * max(3, max((len(run) for run in re.findall("`+", f.diff)), default=0) + 1)
                summary = f"diff of {_inline(f.subject or f.kind)} ({len(lines)} lines)"
                out += ["", f"  <details><summary>{summary}</summary>",
                        "", f"  {fence}diff", *[f"  {line}" for line in lines], f"  {fence}", "", "  </details>", ""]
        out.append("")
    if report.resolved:
        out += ["## Resolved since the baseline", ""]
        out.extend(f"- {r.kind}: {r.env} / {r.cluster} / {r.release or '-'}: {_inline(r.summary)} (`{r.id}`)"
                   for r in report.resolved)
        out.append("")
    if report.errors:
        out += ["## Errors", ""]
        out.extend(f"- {_inline(e)}" for e in report.errors)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _inline(text: str) -> str:
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")
