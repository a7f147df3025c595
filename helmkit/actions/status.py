"""``helmkit status --env E``: clusters x releases as Helm has them, and whether each is in sync.

Columns: cluster, release, namespace, chart (deployed name-version), revision, Helm status,
last deployed, and helmkit's status (:class:`helmkit.plan.status.Status`: ``in-sync``,
``out-of-sync``, ``not-installed``, ``failed``, ``pending``, ``orphan``...). An unreachable cluster
is one row saying so, a release whose manifest cannot be read is a row with status ``error``
(its template and line follow the table), and the exit code is then 1.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from helmkit.actions.gaterecord import read_records, render_records
from helmkit.actions.livestate import Assessment, AssessOptions, assess
from helmkit.actions.unreachable import report_unreachable
from helmkit.context import Context
from helmkit.errors import EXIT_ERROR, EXIT_OK
from helmkit.output.table import render_table
from helmkit.plan.status import Status

HEADERS = ["cluster", "release", "namespace", "chart", "revision", "helm status", "last deployed", "status"]


@dataclass(frozen=True)
class StatusOptions:
    env: str
    cluster: str | None = None
    selector: str | None = None
    fmt: str = "text"
    set_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusRow:
    cluster: str
    release: str
    namespace: str
    chart: str
    revision: int | None
    helm_status: str
    last_deployed: str
    status: str
    reason: str = ""


def status(ctx: Context, options: StatusOptions) -> int:
    assessment = assess(ctx, AssessOptions(options.env, options.cluster, options.selector, options.set_values,
                                           verdicts="all"))
    rows = status_rows(assessment)
    if options.fmt == "json":
        ctx.console.print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        ctx.console.print(render_status_table(rows))
        reachable = [c for c in assessment.clusters if c.name not in assessment.unreachable]
        if gates := render_records(read_records(ctx, reachable)):
            ctx.console.print("\n" + gates)
    report_unreachable(ctx, assessment.unreachable)
    for instance, error in assessment.render_errors:
        ctx.console.info(f"{instance.key}: " + error.render().removeprefix("error: "))
    unreadable = [item for item in assessment.releases if item.state.status is Status.ERROR]
    for item in unreadable:
        ctx.console.info(f"error: {item.state.key}: cannot read its manifest: " + "; ".join(item.state.reasons))
    return EXIT_ERROR if assessment.unreachable or assessment.render_errors or unreadable else EXIT_OK


def status_rows(assessment: Assessment) -> list[StatusRow]:
    rows: list[StatusRow] = []
    by_cluster: dict[str, list[StatusRow]] = {}
    for item in assessment.releases:
        state, record = item.state, item.deployed
        chart = f"{record.chart_name}-{record.chart_version}" if record is not None else ""
        by_cluster.setdefault(state.cluster, []).append(StatusRow(
            state.cluster, state.name, state.namespace, chart, record.revision if record else None,
            record.status if record else "", _short_time(record.last_deployed) if record else "",
            state.status.value, "; ".join(state.reasons),
        ))
    for cluster in assessment.clusters:
        error = assessment.unreachable.get(cluster.name)
        if error is not None:
            rows.append(StatusRow(cluster.name, "", "", "", None, "", "", "unreachable",
                                  error.message.removeprefix(f"cluster {cluster.name}: ")))
        rows += sorted(by_cluster.get(cluster.name, []), key=lambda r: (r.release, r.namespace))
    return rows


def render_status_table(rows: list[StatusRow]) -> str:
    table = [[r.cluster, r.release, r.namespace, r.chart, "" if r.revision is None else r.revision, r.helm_status,
              r.last_deployed, r.status] for r in rows]
    return render_table(HEADERS, table)


def _short_time(text: str) -> str:
    """``2026-11-26T14:03:07.123456789Z`` -> ``2026-11-26 14:03:07``."""
    return text.replace("T", " ")[:19] if text else ""
