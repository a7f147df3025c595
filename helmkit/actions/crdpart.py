"""The ``crds/`` part of a rendering, shared by every rendering of a chart that includes the same CRDs.

``helm template --include-crds`` prints the files of the chart's ``crds/`` folders (its own and
those of the subcharts it renders), each behind ``---`` and its ``# Source:`` line, before the
templates' documents, and those files are never templated: the part is the same whatever the
values, the release, the namespace or the capabilities -- except which subcharts are rendered,
which their ``condition`` paths and the ``tags`` decide. kube-prometheus-stack prints 4.5 MB of
CRDs ahead of 0.66 MB of templates, in each of its renderings (a quarter of a rendering's CPU).

So the first rendering of a chart includes its CRDs and its ``crds/`` part is kept (in the render
cache) under a key made of the chart's digest, helm's version and the values at those paths only;
a later rendering with the same key asks helm for the templates alone and prefixes the kept part:
the same text, byte for byte, as helm's own. A chart whose layout is not read here (a packaged
subchart under ``charts/``, an unreadable ``Chart.yaml``) is rendered whole every time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.helm import HelmClient, TemplateRequest, values_yaml
from helmkit.plan.keptcrds import load_yaml
from helmkit.plan.rendering import Rendering, known_part, with_crds_part

FORMAT = 1


@dataclass
class CrdParts:
    """Renders through ``helm``, sharing the ``crds/`` part between renderings (one per run)."""

    helm: HelmClient
    cache: ContentCache
    helm_version: str
    digest: Callable[[Path], str]  # a chart's digest (the render key's)
    _paths: dict[Path, tuple[str, ...] | None] = field(default_factory=dict)
    _parts: dict[str, tuple[str, int]] = field(default_factory=dict)  # kept parts read this run
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def template(self, request: TemplateRequest, values: Mapping[str, Any], *, shared: bool) -> str:
        """helm's ``template`` output for ``request`` and ``values`` (on helm's stdin); ``shared``: the
        values may key the kept part (no resolved secret in them)."""
        text = values_yaml(dict(values))
        key = self.key(request.chart, values) if shared and request.include_crds else None
        if key is None:
            return self.helm.template(request, values=text)
        part = self._part(key)
        if part is not None:
            return with_crds_part(*part, self.helm.template(replace(request, include_crds=False), values=text))
        rendered = known_part(self.helm.template(request, values=text))
        if isinstance(rendered, Rendering):
            self.cache.put(key, rendered.crds.encode("utf-8"))
            with self._lock:
                self._parts[key] = (rendered.crds, rendered.crds_lines)
        return rendered

    def _part(self, key: str) -> tuple[str, int] | None:
        """The kept part under ``key`` and its line count, decoded once a run (one string object for
        all the renderings that share it)."""
        with self._lock:
            found = self._parts.get(key)
        if found is not None:
            return found
        kept = self.cache.get(key)
        if kept is None:
            return None
        text = kept.decode("utf-8")
        with self._lock:
            return self._parts.setdefault(key, (text, text.count("\n")))

    def key(self, chart: Path, values: Mapping[str, Any]) -> str | None:
        """The key of ``chart``'s ``crds/`` part with ``values``; None: the chart has no ``crds/``
        folder, or its layout is not read here."""
        with self._lock:
            known = chart in self._paths
            paths = self._paths.get(chart)
        if not known:
            paths = self._kept_paths(chart)
            with self._lock:
                self._paths[chart] = paths
        if paths is None:
            return None
        return content_key({"crds-part": FORMAT, "chart": self.digest(chart), "helm": self.helm_version,
                            "values": [[path, value_at(values, path)] for path in paths]})

    def _kept_paths(self, chart: Path) -> tuple[str, ...] | None:
        """:func:`deciding_paths`, kept in the cache under the chart's digest: each run's first
        rendering of an unchanged chart does not read its (and its subcharts') ``Chart.yaml`` again."""
        key = content_key({"crds-part-paths": FORMAT, "chart": self.digest(chart)})
        kept = self.cache.get(key)
        if kept is not None:
            try:
                found = json.loads(kept)
                if found is None or (isinstance(found, list) and all(isinstance(p, str) for p in found)):
                    return None if found is None else tuple(found)
            except ValueError:
                pass
        paths = deciding_paths(chart)
        self.cache.put(key, json.dumps(None if paths is None else list(paths)).encode())
        return paths


def deciding_paths(chart: Path) -> tuple[str, ...] | None:
    """The values paths that decide which subcharts of ``chart`` helm renders (their ``condition``
    paths, in the scope of the chart that names them, and ``tags``); None when the chart has no
    ``crds/`` folder or a layout not read here."""
    found: list[str] = ["tags"]
    has_crds = False

    def walk(folder: Path, meta: dict[str, Any], scope: str) -> bool:
        nonlocal has_crds
        has_crds = has_crds or (folder / "crds").is_dir()
        dependencies = meta.get("dependencies") or []
        if not isinstance(dependencies, list) or not all(isinstance(d, dict) for d in dependencies):
            return False
        aliases: dict[str, list[str]] = {}
        for dependency in dependencies:
            name = str(dependency.get("name") or "")
            aliases.setdefault(name, []).append(str(dependency.get("alias") or name))
            found.extend(scope + part.strip() for part in str(dependency.get("condition") or "").split(",")
                         if part.strip())
        below = folder / "charts"
        for child in sorted(below.iterdir()) if below.is_dir() else []:
            if child.name.endswith((".tgz", ".tar.gz")):
                return False  # a packaged subchart: its crds/ and dependencies are not read here
            if not child.is_dir():
                continue
            sub = _chart_meta(child)
            if sub is None:
                return False
            name = str(sub.get("name"))
            if not all(walk(child, sub, f"{scope}{alias}.") for alias in aliases.get(name, [name])):
                return False
        return True

    meta = _chart_meta(chart) if chart.is_dir() else None
    if meta is None or not walk(chart, meta, "") or not has_crds:
        return None
    return tuple(sorted(set(found)))


def _chart_meta(folder: Path) -> dict[str, Any] | None:
    """A chart folder's ``Chart.yaml`` as a mapping; None when it cannot be read as one."""
    try:
        meta = load_yaml((folder / "Chart.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return meta if isinstance(meta, dict) else None


def value_at(values: Mapping[str, Any], path: str) -> list[Any]:
    """What ``values`` hold at a dotted ``path``: ``["value", v]``, or where and why the walk ended."""
    node: Any = values
    for depth, part in enumerate(path.split(".")):
        if not isinstance(node, Mapping):
            return ["not-a-map", depth]
        if part not in node:
            return ["absent", depth]
        node = node[part]
        if node is None:
            return ["null", depth]
    return ["value", node]
