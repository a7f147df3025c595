"""``helmkit explain RELEASE --env E [--cluster C]``: merged fields and values with their origin.

Values are the effective ones (chart defaults, then every layer, then ``--set``); a key set
to null by a layer is shown as ``null`` at the layer that removed it. Without ``--cluster``,
an environment with one cluster uses it; otherwise the first cluster of the rollout is shown
and a note on stderr says how to pick another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.actions.validate import chart_defaults, effective_values
from helmkit.context import Context
from helmkit.errors import InputError, Location, Problem
from helmkit.model.charts import LocalChart, read_local_chart
from helmkit.model.instance import Origin, ReleaseInstance
from helmkit.model.layering import merge
from helmkit.model.repository import closest, load_repository
from helmkit.model.resolve import environment_of, resolve_environment
from helmkit.model.yamlfile import Path_
from helmkit.output.values_view import Entry, Explanation, render_explanation


@dataclass
class ExplainOptions:
    release: str
    env: str
    cluster: str | None = None
    fmt: str = "text"
    set_values: list[str] = field(default_factory=list)


def explain(ctx: Context, options: ExplainOptions) -> Explanation:
    repo = load_repository(ctx.repo)
    environment = environment_of(repo, options.env)
    notes: list[str] = []
    cluster = options.cluster
    if cluster is None:
        ordered = sorted(environment.clusters, key=lambda c: (c.cluster.wave, c.cluster.name))
        if not ordered:
            raise InputError(Problem(f"environment `{options.env}` has no clusters", environment.doc.location(())))
        cluster = ordered[0].cluster.name
        if len(ordered) > 1:
            notes.append(
                f"showing cluster {cluster}, the first of {len(ordered)} in {options.env}; "
                f"pick another with --cluster ({', '.join(c.cluster.name for c in ordered[1:])})"
            )
    if options.release not in repo.releases:
        raise InputError(Problem(
            f"unknown release `{options.release}`", Location("RELEASE"), closest(options.release, list(repo.releases))
        ))
    resolution = resolve_environment(
        repo, options.env, cluster=cluster, set_values=options.set_values, include_disabled=True
    )
    if resolution.problems:
        raise InputError(resolution.problems)
    instance = next(i for i in resolution.instances if i.name == options.release)
    chart: LocalChart | None = None
    if instance.chart.path is not None:
        try:
            chart = read_local_chart(instance.chart.path, repo.display(instance.chart.path))
        except InputError:
            chart = None
    explanation = Explanation(
        release=instance.name,
        env=instance.env,
        cluster=instance.cluster.name,
        chart=_chart_text(instance, repo.display),
        fields=_field_entries(instance, repo.display),
        values=_value_entries(chart, instance),
        notes=notes,
    )
    return explanation


def _chart_text(instance: ReleaseInstance, display: Callable[[Path], str]) -> str:
    chart = instance.chart
    if chart.path is not None:
        version = f" {chart.local_version}" if chart.local_version else ""
        return f"{display(chart.path)}{version} (local)"
    return f"{chart.repository_name}/{chart.name} {chart.version} ({chart.repository})"


def _field_entries(instance: ReleaseInstance, display: Callable[[Path], str]) -> list[Entry]:
    chart = instance.chart
    rows: list[tuple[str, Any]] = []
    if chart.path is not None:
        rows.append(("chart.path", display(chart.path)))
    else:
        rows += [("chart.repository", chart.repository_name), ("chart.name", chart.name)]
    if chart.version is not None:
        rows.append(("chart.version", chart.version))
    rows += [
        ("namespace", instance.namespace),
        ("enabled", instance.enabled),
        ("needs", instance.needs),
    ]
    rows += [(f"labels.{key}", value) for key, value in sorted(instance.labels.items())]
    rows += [
        ("wait", instance.wait),
        ("timeout", instance.timeout),
        ("atomic", instance.atomic),
        ("createNamespace", instance.create_namespace),
        ("historyMax", instance.history_max),
        ("crds", instance.crds),
    ]
    entries = []
    for name, value in rows:
        origin = instance.provenance.get(("$field", name)) or instance.provenance.get(("$field", name.split(".")[0]))
        entries.append(_entry(name, value, origin))
    return entries


def _value_entries(chart: LocalChart | None, instance: ReleaseInstance) -> list[Entry]:
    defaults, provenance = chart_defaults(chart)
    _, effective_prov = effective_values(chart, instance)
    merged = merge(defaults, instance.values, provenance, lambda p: effective_prov.get(p) or Origin("release"))
    entries: list[Entry] = []
    stack: list[tuple[Path_, Any]] = [((), merged)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict) and node:
            stack.extend(((*path, k), v) for k, v in sorted(node.items(), reverse=True))
            continue
        entries.append(_entry(_dotted(path), node, provenance.get(path)))
    return entries


def _dotted(path: Path_) -> str:
    return ".".join(str(p).replace(".", "\\.") for p in path)


def _entry(path: str, value: Any, origin: Origin | None) -> Entry:
    layer = origin.layer if origin else "defaults"
    location = str(origin.location) if origin and origin.location else "(built-in)"
    return Entry(path, value, layer, location)


def run_explain(ctx: Context, options: ExplainOptions) -> int:
    explanation = explain(ctx, options)
    for note in explanation.notes:
        ctx.console.info(f"note: {note}")
    ctx.console.print(render_explanation(explanation, options.fmt))
    return 0
