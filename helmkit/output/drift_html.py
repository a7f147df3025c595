"""The drift report as one self-contained HTML file (open it from a CI artifact, mail it).

No external resource of any kind: styles are inline, there is no script, and a
Content-Security-Policy (``default-src 'none'``) makes any browser refuse to fetch anything.
First an environment x cluster grid, each cell coloured by the worst finding on that cluster
(green: no drift), listing every kind of finding on it with its count, and linked to its
findings; then one section per release of an environment. A finding that is the same on several
clusters (same kind, object, summary, details and diff) is one block, "same on N clusters",
naming them. Each block gives the command that fixes it (``helmkit sync --env E --cluster C -l
name=R``; ``--prune`` for an orphan), and its masked diff with added lines green, removed lines
red and hunk headers blue.
Every text is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from helmkit.output.drift_table import summary_line
from helmkit.plan.drift import KINDS, DriftReport, Finding

COLOURS = {
    "ok": "#d8f3dc", "unreachable": "#adb5bd", "unhealthy": "#ffadad", "missing": "#ffc6a5",
    "spec-drift": "#ffe699", "live-drift": "#fdd9a0", "orphan": "#cfe2ff",
}
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#212529}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table.grid{border-collapse:collapse;margin:1rem 0}
table.grid th,table.grid td{border:1px solid #ced4da;padding:.4rem .7rem;text-align:left}
td.cell{min-width:9rem}td.cell small{display:block;color:#495057}
.legend span{display:inline-block;padding:.15rem .5rem;margin-right:.4rem;border:1px solid #ced4da}
.finding{border-left:.4rem solid #ced4da;padding:.3rem .8rem;margin:.6rem 0;background:#f8f9fa}
.kind{font-weight:600}.id{color:#6c757d;font-family:monospace}
pre{background:#fff;border:1px solid #dee2e6;padding:.6rem;overflow-x:auto;font-size:.85rem}
.baseline{font-size:.8rem;padding:.05rem .35rem;border-radius:.2rem;background:#e9ecef}
pre.diff span{display:block}pre.diff .add{background:#ccffd8;color:#055d20}
pre.diff .del{background:#ffd7d5;color:#82071e}pre.diff .hunk{background:#ddf4ff;color:#0550ae}
pre.diff .head{font-weight:600}pre.diff .chg{background:#fff8c5}
.where{color:#495057;font-size:.9rem}.fix{font-size:.9rem}.fix code{background:#e9ecef;padding:.05rem .3rem}
"""
LINE_CLASS = (("+++", "head"), ("---", "head"), ("+", "add"), ("-", "del"), ("@@", "hunk"), ("~", "chg"))


def render_html(report: DriftReport) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>helmkit drift report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>helmkit drift report</h1>",
        f"<p>{escape(summary_line(report))}</p>",
    ]
    if report.generated_at:
        parts.append(f"<p>Generated {escape(report.generated_at)} for {escape(', '.join(report.envs))}.</p>")
    parts.append(_legend())
    parts.append(_grid(report))
    anchored: set[tuple[str, str]] = set()
    for (env, release, namespace), groups in _grouped(report).items():
        title = f"{env} / {release} (namespace {namespace})" if release else f"{env} / clusters"
        parts.append(f"<section><h2>{escape(title)}</h2>")
        for members in groups:
            anchors = ""
            for f in members:
                if (f.env, f.cluster) not in anchored:
                    anchored.add((f.env, f.cluster))
                    anchors += f'<span id="{_anchor(f.env, f.cluster)}"></span>'
            parts.append(_finding(report, members, anchors))
        parts.append("</section>")
    if report.resolved:
        parts.append("<h2>Resolved since the baseline</h2><ul>")
        parts.extend(f"<li>{escape(r.kind)}: {escape(r.env)} / {escape(r.cluster)} / {escape(r.release or '-')}: "
                     f"{escape(r.summary)}</li>" for r in report.resolved)
        parts.append("</ul>")
    if report.errors:
        parts.append("<h2>Errors</h2><ul>" + "".join(f"<li>{escape(e)}</li>" for e in report.errors) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _finding(report: DriftReport, members: list[Finding], anchors: str) -> str:
    f = members[0]
    clusters = [m.cluster for m in members]
    badge = f' <span class="baseline">{escape(f.baseline)}</span>' if report.baseline is not None else ""
    where = (f"same on {len(clusters)} clusters: " if len(clusters) > 1 else "on cluster ") + ", ".join(clusters)
    out = [f'<div class="finding" data-kind="{escape(f.kind)}" style="border-left-color:{COLOURS[f.kind]}">'
           f'{anchors}<span class="kind">{escape(f.kind)}</span>{badge}: {escape(f.summary)} '
           f'<span class="id">{escape(f.id)}</span><div class="where">{escape(where)}</div>']
    if f.details:
        out.append("<ul>" + "".join(f"<li>{escape(d)}</li>" for d in f.details) + "</ul>")
    fix = fix_command(f, clusters)
    if fix:
        out.append(f'<div class="fix">fix: <code>{escape(fix)}</code></div>')
    if f.diff:
        out.append(_diff(f.diff))
    out.append("</div>")
    return "".join(out)


def fix_command(finding: Finding, clusters: list[str]) -> str:
    """The command that brings the release back to git (empty for an unreachable cluster)."""
    if finding.kind == "unreachable" or not finding.release:
        return ""
    scope = f" --cluster {clusters[0]}" if len(clusters) == 1 else ""
    if finding.kind == "orphan":
        return f"helmkit sync --env {finding.env}{scope} --prune"
    return f"helmkit sync --env {finding.env}{scope} -l name={finding.release}"


def _diff(text: str) -> str:
    lines = []
    for line in text.rstrip("\n").splitlines():
        stripped = line.lstrip(" ")
        css = next((name for prefix, name in LINE_CLASS if stripped.startswith(prefix)), "")
        lines.append(f'<span class="{css}">{escape(line) or " "}</span>' if css else
                     f"<span>{escape(line) or ' '}</span>")
    return '<pre class="diff">' + "".join(lines) + "</pre>"


def _grouped(report: DriftReport) -> dict[tuple[str, str, str], list[list[Finding]]]:
    """Per (env, release, namespace): the findings, those alike on several clusters together."""
    sections: dict[tuple[str, str, str], dict[tuple[object, ...], list[Finding]]] = {}
    for f in report.findings:
        alike = (f.kind, f.subject, f.summary, f.details, f.diff, f.baseline)
        sections.setdefault((f.env, f.release, f.namespace), {}).setdefault(alike, []).append(f)
    return {key: list(groups.values()) for key, groups in sections.items()}


def _legend() -> str:
    items = "".join(f'<span style="background:{colour}">{escape(state)}</span>' for state, colour in COLOURS.items())
    return f'<p class="legend">{items}</p>'


def _grid(report: DriftReport) -> str:
    by_env: dict[str, list[str]] = {}
    for scan in report.clusters:
        by_env.setdefault(scan.env, []).append(scan.cluster)
    width = max((len(clusters) for clusters in by_env.values()), default=0)
    rows = [f'<table class="grid"><thead><tr><th>environment</th><th colspan="{max(width, 1)}">clusters</th>'
            "</tr></thead><tbody>"]
    for env, clusters in by_env.items():
        cells = []
        for cluster in clusters:
            state = report.cluster_state(env, cluster)
            kinds = [f.kind for f in report.findings if f.env == env and f.cluster == cluster]
            count = len(kinds)
            name = f'<a href="#{_anchor(env, cluster)}">{escape(cluster)}</a>' if count else escape(cluster)
            listed = "".join(f"<small>{escape(kind)}: {kinds.count(kind)}</small>" for kind in KINDS if kind in kinds)
            cells.append(f'<td class="cell" style="background:{COLOURS[state]}" data-state="{escape(state)}">'
                         f"{name}<small>{escape(state)}, {count} finding{'s' if count != 1 else ''}</small>"
                         f"{listed}</td>")
        cells += ["<td></td>"] * (width - len(clusters))
        rows.append(f"<tr><th>{escape(env)}</th>{''.join(cells)}</tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _anchor(env: str, cluster: str) -> str:
    """An id made of safe characters only (names are DNS-1123, but never trust that in HTML)."""
    return "c-" + "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in f"{env}--{cluster}")
