"""Release instances -> helmkit's layers: release base, environment override, cluster override.

A field (or the values: ``valuesFiles`` with ``values``, kept together so their order holds) goes to
the lowest layer where every instance below it agrees: the release base when all environments and
clusters agree, else each environment's file, else each cluster's file. A release missing from an
environment or cluster is ``enabled: false`` there. Base fields equal to ``helmkit.yaml``'s defaults
are left out. The result is exact: merging the layers gives back every instance's fields and values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helmkit.model.helmfile_import.setvalues import deep_merge

VALUES = "values"  # the unit name of valuesFiles + values


@dataclass
class Placed:
    """One instance's translated fields and values, ready to be layered."""

    env: str
    cluster: str
    release: str
    fields: dict[str, Any]
    values_files: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    def unit(self, key: str) -> Any:
        if key == VALUES:
            return {"valuesFiles": self.values_files, "values": self.values}
        return self.fields.get(key, _MISSING)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def compose_values(entries: list[str | dict[str, Any]], set_values: list[dict[str, Any]],
                   as_file: Callable[[int, dict[str, Any]], str]) -> tuple[list[str], dict[str, Any]]:
    """helmfile's ordered values list (files, maps) + ``set`` as helmkit's ``valuesFiles`` + ``values``.

    helmkit applies a layer's files before its inline values, so a map followed by a file is written
    as a file itself (``as_file(position, map)`` names it); the maps after the last file, then the
    ``set`` values, are the inline ``values``.
    """
    last_file = max((i for i, e in enumerate(entries) if isinstance(e, str)), default=-1)
    files: list[str] = []
    inline: dict[str, Any] = {}
    for position, entry in enumerate(entries):
        if isinstance(entry, str):
            files.append(entry)
        elif position < last_file:
            files.append(as_file(position, entry))
        else:
            inline = deep_merge(inline, entry)
    for values in set_values:
        inline = deep_merge(inline, values)
    return files, inline


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _agreed(instances: list[Placed], key: str) -> tuple[bool, Any]:
    seen = {_key(i.unit(key)) for i in instances}
    first = instances[0].unit(key)
    return len(seen) == 1 and first is not _MISSING, first


def _put(layer: dict[str, Any], key: str, value: Any) -> None:
    if key == VALUES:
        if value["valuesFiles"]:
            layer["valuesFiles"] = value["valuesFiles"]
        if value["values"]:
            layer["values"] = value["values"]
    else:
        layer[key] = value


def _chart_override(base_chart: dict[str, Any], chart: dict[str, Any]) -> dict[str, Any]:
    """A chart that replaces the base's (charts merge as maps: the base's other keys become null)."""
    override: dict[str, Any] = {k: None for k in base_chart if k not in chart}
    override.update(chart)
    return override


def layer_release(instances: list[Placed], clusters: dict[str, list[str]], defaults: dict[str, Any]
                  ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    """(base, env -> override, (env, cluster) -> override) for the instances of one release."""
    keys = sorted({k for i in instances for k in i.fields} | {VALUES}, key=_order)
    base: dict[str, Any] = {"name": instances[0].release}
    env_layers: dict[str, dict[str, Any]] = {}
    cluster_layers: dict[tuple[str, str], dict[str, Any]] = {}
    base_chart = instances[0].fields["chart"]
    base["chart"] = base_chart
    for key in keys:
        agreed, value = _agreed(instances, key)
        if agreed:
            if key == "chart" or (key != VALUES and defaults.get(key, _MISSING) == value):
                continue
            _put(base, key, value)
            continue
        for env in clusters:
            in_env = [i for i in instances if i.env == env]
            if not in_env:
                continue
            agreed, value = _agreed(in_env, key)
            if agreed:
                value = _chart_override(base_chart, value) if key == "chart" else value
                _put(env_layers.setdefault(env, {}), key, value)
                continue
            for instance in in_env:
                value = instance.unit(key)
                if value is _MISSING:
                    value = defaults.get(key)
                    if value is None:
                        continue
                value = _chart_override(base_chart, value) if key == "chart" else value
                _put(cluster_layers.setdefault((env, instance.cluster), {}), key, value)
    for env, names in clusters.items():
        present = {i.cluster for i in instances if i.env == env}
        if not present:
            env_layers.setdefault(env, {})["enabled"] = False
            continue
        for cluster in names:
            if cluster not in present:
                cluster_layers.setdefault((env, cluster), {})["enabled"] = False
    return base, env_layers, cluster_layers


_FIELD_ORDER = ("name", "chart", "namespace", "enabled", "needs", "labels", "wait", "timeout", "atomic",
                "createNamespace", "historyMax", VALUES)


def _order(key: str) -> int:
    return _FIELD_ORDER.index(key) if key in _FIELD_ORDER else len(_FIELD_ORDER)
