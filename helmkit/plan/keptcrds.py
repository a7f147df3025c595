"""Large CRDs read from YAML once: their objects kept as JSON under the digest of their text.

A chart's CRDs are megabytes of YAML (kube-prometheus-stack: 4.7 MB), and PyYAML builds their
objects in Python: about a second for kube-prometheus-stack's, and a run read them twice (the
API versions they add, before rendering; the CRDs a sync creates or a diff compares), one after
the other, before anything else could start. :class:`KeptCrds` reads a large CRD document once:
its object goes to the content cache as JSON, under the digest of the document's text without
its leading comment lines (helm's ``# Source:`` line is all that tells a rendered ``crds/``
document from the chart's file), and is decoded from there afterwards (msgspec, a few
milliseconds). Only ``CustomResourceDefinition`` documents of at least :data:`LARGE` characters
are kept: chart files, never rendered values. Nobody changes a loaded object: callers share it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import yaml

from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.fastjson import loads
from helmkit.plan.goyaml import HelmYamlLoader

LARGE = 16 * 1024  # characters: a smaller document is read as it is
FORMAT = 1


def load_yaml(text: str) -> Any:
    """One YAML document with helm's YAML rules."""
    return yaml.load(text, Loader=HelmYamlLoader)  # noqa: S506 -- a safe loader


def meaningful(text: str) -> str:
    """``text`` without its leading blank and comment lines and its trailing blank ones: what a
    YAML reader makes of it does not change."""
    lines = text.rstrip().split("\n")
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith("#")):
        start += 1
    return "\n".join(lines[start:])


@dataclass
class KeptCrds:
    """:meth:`load` reads YAML; a large CRD read before (in this run, or in the cache) is not read again."""

    cache: ContentCache | None = None
    known: dict[str, Any] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def load(self, text: str) -> Any:
        """The object of one YAML document (``yaml.YAMLError`` as :func:`load_yaml` raises it)."""
        if len(text) < LARGE or "CustomResourceDefinition" not in text:
            return load_yaml(text)
        digest = hashlib.blake2b(meaningful(text).encode(), digest_size=20).hexdigest()
        key = content_key({"crd-yaml": FORMAT, "text": digest})
        with self.guard:
            if key in self.known:
                return self.known[key]
        body = self._kept(key)
        if body is None:
            body = load_yaml(text)
            self._keep(key, body)
        with self.guard:
            self.known[key] = body
        return body

    def _kept(self, key: str) -> Any:
        data = self.cache.get(key) if self.cache is not None else None
        if data is None:
            return None
        try:
            return loads(data)
        except ValueError:
            return None

    def _keep(self, key: str, body: Any) -> None:
        if self.cache is None or not isinstance(body, dict) or body.get("kind") != "CustomResourceDefinition":
            return
        try:
            data = json.dumps(body, separators=(",", ":")).encode()
        except (TypeError, ValueError):
            return
        if loads(data) == body:  # what JSON cannot hold (NaN, a float key) is read again next time
            self.cache.put(key, data)
