"""The ``crds/`` files helm installs with a chart, read from the chart's files instead of a rendering.

``crds/`` files are not templates: ``helm template --include-crds`` (and ``helm install``) emit
each one verbatim after a ``# Source: <chart>/crds/<file>`` line (``<chart>/charts/<sub>/crds/<file>``
for a subchart's), for the chart and every subchart it keeps. :func:`crd_manifest` writes that same
text from the chart folder or package, so a release settled by a verdict (never rendered) has its
chart's CRDs compared like a rendered one's (:mod:`helmkit.actions.livecheck`).

Subcharts are kept as helm's dependency processing keeps them: a subchart of ``charts/`` that
``Chart.yaml``'s ``dependencies`` list under a ``condition`` or ``tags`` is left out when the
values (the user's over the charts' ``values.yaml``) turn it off -- tags first, then the first
condition path that holds a boolean; an ``alias`` renames the subchart. Files with helm's manifest
extensions (``.yaml``, ``.yml``, ``.json``) are read. Not modelled: ``.helmignore``, and the version
range of a dependency (``helm dependency build`` put the matching version in ``charts/``).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CRD_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class _Chart:
    name: str
    meta: dict[str, Any]  # Chart.yaml
    values: dict[str, Any]  # values.yaml
    crds: tuple[tuple[str, str], ...]  # (path inside the chart, text) of crds/ files
    subcharts: tuple[_Chart, ...]

    def renamed(self, name: str) -> _Chart:
        return _Chart(name, self.meta, self.values, self.crds, self.subcharts)


@dataclass
class CrdFiles:
    """:func:`crd_manifest` for many releases: each chart's files are read once."""

    charts: dict[Path, _Chart | None] = field(default_factory=dict)
    made: dict[tuple[Path, str], str] = field(default_factory=dict)  # the same chart and values on many clusters

    def manifest(self, chart: Path, values: Mapping[str, Any]) -> str:
        if chart not in self.charts:
            self.charts[chart] = _load(chart)
        key = (chart, json.dumps(values, sort_keys=True, default=str))
        if key not in self.made:
            self.made[key] = _manifest(self.charts[chart], values)
        return self.made[key]


def crd_manifest(chart: Path, values: Mapping[str, Any]) -> str:
    """The ``crds/`` documents ``helm template --include-crds`` emits for ``chart`` with ``values``."""
    return _manifest(_load(chart), values)


def _manifest(chart: _Chart | None, values: Mapping[str, Any]) -> str:
    if chart is None:
        return ""
    parts: list[str] = []
    for source, text in _kept_crds(chart, _coalesce(chart, dict(values)), "", chart.name, process=True):
        parts.append(f"---\n# Source: {source}\n{text}\n")
    return "".join(parts)


def _kept_crds(chart: _Chart, cvals: dict[str, Any], path: str, full: str, *,
               process: bool) -> Iterator[tuple[str, str]]:
    for name, text in chart.crds:
        yield f"{full}/{name}", text
    dependencies = _dependencies(chart.meta)
    if not process or not dependencies:  # helm processes no dependency below a chart that lists none
        for sub in chart.subcharts:
            yield from _kept_crds(sub, cvals, "", f"{full}/charts/{sub.name}", process=False)
        return
    off = {_effective(dep) for dep in dependencies if not _enabled(dep, cvals, path)}
    for sub in _with_aliases(chart, dependencies):
        if sub.name not in off:
            yield from _kept_crds(sub, cvals, f"{path}{sub.name}.", f"{full}/charts/{sub.name}", process=True)


def _dependencies(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = meta.get("dependencies")
    return [d for d in found if isinstance(d, dict) and d.get("name")] if isinstance(found, list) else []


def _effective(dependency: Mapping[str, Any]) -> str:
    return str(dependency.get("alias") or dependency["name"])


def _with_aliases(chart: _Chart, dependencies: list[dict[str, Any]]) -> list[_Chart]:
    """The subcharts helm keeps before conditions: unlisted ones, and one copy per listed dependency."""
    listed = {str(d["name"]) for d in dependencies}
    kept = [sub for sub in chart.subcharts if sub.name not in listed]
    for dependency in dependencies:
        match = next((sub for sub in chart.subcharts if sub.name == dependency["name"]), None)
        if match is not None:
            kept.append(match.renamed(_effective(dependency)))
    return kept


def _enabled(dependency: Mapping[str, Any], cvals: Mapping[str, Any], path: str) -> bool:
    enabled = True
    tags = cvals.get("tags")
    if isinstance(tags, dict):
        found = [tags[t] for t in dependency.get("tags") or [] if isinstance(tags.get(t), bool)]
        enabled = True in found or not found
    for condition in str(dependency.get("condition") or "").strip().split(","):
        value = _path_value(cvals, path + condition) if condition else None
        if isinstance(value, bool):
            return value
    return enabled


def _path_value(values: Mapping[str, Any], path: str) -> Any:
    *tables, key = path.split(".")
    current: Any = values
    for name in tables:
        current = current.get(name) if isinstance(current, dict) else None
    value = current.get(key) if isinstance(current, dict) else None
    return None if isinstance(value, dict) else value


def _coalesce(chart: _Chart, values: dict[str, Any]) -> dict[str, Any]:
    """helm's coalesced values: the given ones over the chart's, each subchart's under its name."""
    merged = _merge(values, chart.values)
    for sub in _with_aliases(chart, _dependencies(chart.meta)):
        own = merged.get(sub.name, {})
        if isinstance(own, dict):
            merged[sub.name] = _coalesce(sub, own)
    return merged


def _merge(top: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if value is None:
            merged.pop(key, None)  # helm: null removes a default
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(value, merged[key])
        else:
            merged[key] = value
    return merged


# -- reading a chart folder or package ------------------------------------------------------------


def _load(chart: Path) -> _Chart | None:
    files: dict[str, bytes] = {}
    if chart.is_dir():
        for path in sorted(chart.rglob("*")):
            name = path.relative_to(chart).as_posix()
            if path.is_file() and _wanted(name):
                files[name] = path.read_bytes()
        return _build(files)
    try:
        return _build(_package_files(chart.read_bytes()))
    except (OSError, tarfile.TarError, EOFError):
        return None


def _wanted(name: str) -> bool:
    """Chart.yaml, values.yaml, crds/ files and packages of subcharts, at any depth of charts/."""
    parts = name.split("/")
    while len(parts) > 2 and parts[0] == "charts":
        parts = parts[2:]
    if len(parts) == 2 and parts[0] == "charts":
        return parts[1].endswith(".tgz")
    return parts[0] == "crds" or parts in (["Chart.yaml"], ["values.yaml"])


def _package_files(data: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            inner = member.name.split("/", 1)[-1]  # without the chart's own folder
            handle = tar.extractfile(member) if member.isfile() and _wanted(inner) else None
            if handle is not None:
                files[inner] = handle.read()
    return files


def _build(files: dict[str, bytes]) -> _Chart | None:
    meta = _mapping(files.get("Chart.yaml"))
    if not meta.get("name"):
        return None
    crds = tuple((name, data.decode("utf-8", errors="replace")) for name, data in sorted(files.items())
                 if name.startswith("crds/") and name.endswith(CRD_SUFFIXES))
    nested: dict[str, dict[str, bytes]] = {}
    subcharts: list[_Chart] = []
    for name, data in sorted(files.items()):
        if not name.startswith("charts/"):
            continue
        rest = name.removeprefix("charts/")
        if "/" in rest:
            folder, inner = rest.split("/", 1)
            nested.setdefault(folder, {})[inner] = data
        elif rest.endswith(".tgz"):
            try:
                sub = _build(_package_files(data))
            except (tarfile.TarError, OSError, EOFError):
                sub = None
            if sub is not None:
                subcharts.append(sub)
    subcharts += [sub for sub in (_build(inner) for inner in nested.values()) if sub is not None]
    return _Chart(str(meta["name"]), meta, _mapping(files.get("values.yaml")), crds, tuple(subcharts))


def _mapping(data: bytes | None) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        document = yaml.safe_load(data.decode("utf-8", errors="replace"))
    except yaml.YAMLError:
        return {}
    return json.loads(json.dumps(document, default=str)) if isinstance(document, dict) else {}
