"""What helmkit reads of a local chart: ``Chart.yaml``, ``values.yaml`` and ``values.schema.json``.

Each is read with the same budgets as release files (the schema: at most 1 MiB of JSON).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmkit.errors import InputError, Location, Problem
from helmkit.model.yamlfile import YamlDocument, load_yaml

if TYPE_CHECKING:  # built on first use: only ``validate`` checks values, the others need not import jsonschema
    from helmkit.model.valuesschema import ValuesSchema

MAX_SCHEMA_BYTES = 1024 * 1024


@dataclass
class LocalChart:
    path: Path
    display: str  # relative to the repo root
    metadata: YamlDocument
    schema: dict[str, Any] | None
    schema_problem: Problem | None = None

    @cached_property
    def defaults(self) -> YamlDocument | None:
        """``values.yaml``, read on first use (raises :class:`InputError` when it cannot be loaded)."""
        values_file = self.path / "values.yaml"
        return load_yaml(values_file, f"{self.display}/values.yaml") if values_file.is_file() else None

    @cached_property
    def values_schema(self) -> ValuesSchema | None:
        """The checker of ``values.schema.json``, if the chart has a readable one."""
        if self.schema is None:
            return None
        from helmkit.model.valuesschema import ValuesSchema

        return ValuesSchema(self.schema, f"{self.display}/values.schema.json")

    @property
    def version(self) -> str | None:
        data = self.metadata.data if isinstance(self.metadata.data, dict) else {}
        version = data.get("version")
        return str(version) if version is not None else None


def read_local_chart(path: Path, display: str, *, defaults: bool = True) -> LocalChart:
    """Read ``Chart.yaml`` (required), ``values.yaml`` and ``values.schema.json`` (optional).

    With ``defaults=False``, ``values.yaml`` is read when :attr:`LocalChart.defaults` is first
    used (resolving a release needs only the chart's version; a large values.yaml costs a parse).
    """
    chart_file = path / "Chart.yaml"
    if not chart_file.is_file():
        raise InputError(Problem(f"chart {display} has no Chart.yaml", Location(display)))
    metadata = load_yaml(chart_file, f"{display}/Chart.yaml")
    chart = LocalChart(path, display, metadata, None)
    if defaults:
        _ = chart.defaults
    schema_file = path / "values.schema.json"
    if schema_file.is_file():
        shown = f"{display}/values.schema.json"
        try:
            if schema_file.stat().st_size > MAX_SCHEMA_BYTES:
                raise ValueError("larger than 1 MiB")
            schema = json.loads(schema_file.read_text(encoding="utf-8"))
            if not isinstance(schema, dict | bool):
                raise ValueError("not a JSON object")
            chart.schema = schema if isinstance(schema, dict) else {}
        except (OSError, ValueError) as exc:
            chart.schema_problem = Problem(f"cannot read the chart's values schema: {exc}", Location(shown))
    return chart
