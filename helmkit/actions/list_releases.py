"""``helmkit list --env E``: releases x clusters (chart, version, namespace, enabled)."""

from __future__ import annotations

from dataclasses import dataclass, field

from helmkit.context import Context
from helmkit.errors import InputError
from helmkit.model.repository import load_repository
from helmkit.model.resolve import resolve_environment
from helmkit.model.selectors import parse_selector
from helmkit.output.release_table import ReleaseRow, render_release_table


@dataclass
class ListOptions:
    env: str
    cluster: str | None = None
    selector: str | None = None
    fmt: str = "text"
    set_values: list[str] = field(default_factory=list)


def release_rows(ctx: Context, options: ListOptions) -> list[ReleaseRow]:
    repo = load_repository(ctx.repo)
    selector = parse_selector(options.selector, allow_empty=ctx.allow_no_matching_release) if options.selector else None
    resolution = resolve_environment(
        repo, options.env, cluster=options.cluster, selector=selector, set_values=options.set_values,
        include_disabled=True,
    )
    if resolution.problems:
        raise InputError(resolution.problems)
    rows = []
    for instance in resolution.instances:
        chart = instance.chart
        if chart.path is not None:
            chart_text = repo.display(chart.path)
            version = chart.local_version or ""
        else:
            chart_text = f"{chart.repository_name}/{chart.name}"
            version = chart.version or ""
        rows.append(ReleaseRow(
            instance.cluster.name, instance.cluster.wave, instance.name, instance.namespace, chart_text, version,
            instance.enabled,
        ))
    return rows


def run_list(ctx: Context, options: ListOptions) -> int:
    rows = release_rows(ctx, options)
    ctx.console.print(render_release_table(rows, options.fmt))
    return 0
