"""``helmkit explain`` output: each merged field and value leaf with its layer and file:line.

Text is four aligned columns (path, value, layer, location); JSON is
``{release, env, cluster, chart, fields: [...], values: [...]}`` where each entry is
``{path, value, layer, location}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_VALUE_WIDTH = 60


@dataclass
class Entry:
    path: str
    value: Any
    layer: str
    location: str


@dataclass
class Explanation:
    release: str
    env: str
    cluster: str
    chart: str
    fields: list[Entry] = field(default_factory=list)
    values: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def show_value(value: Any) -> str:
    if isinstance(value, str) and value and value.strip() == value and "\n" not in value:
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_WIDTH else text[: MAX_VALUE_WIDTH - 1] + "…"


def render_explanation(explanation: Explanation, fmt: str) -> str:
    if fmt == "json":
        def entries(items: list[Entry]) -> list[dict[str, Any]]:
            return [{"path": e.path, "value": e.value, "layer": e.layer, "location": e.location} for e in items]

        return json.dumps({
            "release": explanation.release,
            "env": explanation.env,
            "cluster": explanation.cluster,
            "chart": explanation.chart,
            "fields": entries(explanation.fields),
            "values": entries(explanation.values),
        }, indent=2, ensure_ascii=False)
    lines = [
        f"release {explanation.release} · env {explanation.env} · cluster {explanation.cluster}",
        f"chart {explanation.chart}",
        "",
    ]
    for title, items in (("fields", explanation.fields), ("values", explanation.values)):
        lines.append(title)
        lines.extend(_table(items) or ["  (none)"])
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def _table(items: list[Entry]) -> list[str]:
    if not items:
        return []
    rows = [(e.path, show_value(e.value), e.layer, e.location) for e in items]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        f"  {p.ljust(widths[0])}  {v.ljust(widths[1])}  {lay.ljust(widths[2])}  {loc}".rstrip()
        for p, v, lay, loc in rows
    ]
