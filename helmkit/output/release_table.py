"""``helmkit list`` output: releases x clusters as a table (:mod:`helmkit.output.table`) or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from helmkit.output.table import render_table

FORMATS = ("text", "json")
HEADERS = ("CLUSTER", "WAVE", "RELEASE", "NAMESPACE", "CHART", "VERSION", "ENABLED")


@dataclass(frozen=True)
class ReleaseRow:
    cluster: str
    wave: int
    release: str
    namespace: str
    chart: str
    version: str
    enabled: bool


def render_release_table(rows: list[ReleaseRow], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2)
    table = [
        (r.cluster, r.wave, r.release, r.namespace, r.chart, r.version, "yes" if r.enabled else "no") for r in rows
    ]
    return render_table(HEADERS, table)
