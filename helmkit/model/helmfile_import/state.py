"""helmfile's evaluated state, as ``helmfile --environment E build`` prints it.

``helmfile build`` renders the helmfile's Go templates (``{{ .Values.x }}``, ``.Environment.Name``,
``requiredEnv``, ``env``, ``bases``, ``---`` documents, release templates and YAML anchors) and prints
one YAML document per state file, each after a ``#  Source: PATH`` comment. Values files stay paths
(a ``.gotmpl`` one is rendered later, by helmfile again); inline values maps are already rendered.
This module reads that text into plain typed records; nothing here runs a process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helmkit.errors import InputError

_SOURCE = re.compile(r"^#\s+Source:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class HfRelease:
    """One entry of a state file's ``releases``, with the evaluated fields helmkit translates."""

    name: str
    namespace: str
    chart: str
    kube_context: str
    spec: dict[str, Any]  # everything helmfile printed for the release (for the not-translated list)
    index: int  # position in its state file's releases

    @property
    def installed(self) -> bool:
        return self.spec.get("installed", True) is not False

    @property
    def version(self) -> str | None:
        version = self.spec.get("version")
        return str(version) if version not in (None, "") else None

    @property
    def labels(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.spec.get("labels") or {}).items()}

    @property
    def values(self) -> list[Any]:
        return list(self.spec.get("values") or [])


@dataclass(frozen=True)
class HfState:
    """One evaluated state file (one document of ``helmfile build``) for one environment."""

    env: str
    source: Path  # the state file helmfile read (absolute)
    data: dict[str, Any]
    releases: tuple[HfRelease, ...] = ()
    state_values: dict[str, Any] = field(default_factory=dict)  # .Values of its templates

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    @property
    def helm_defaults(self) -> dict[str, Any]:
        return dict(self.data.get("helmDefaults") or {})

    @property
    def repositories(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.data.get("repositories") or [] if isinstance(r, dict)]

    @property
    def environment(self) -> dict[str, Any]:
        envs = self.data.get("environments") or {}
        spec = envs.get(self.env) if isinstance(envs, dict) else None
        return dict(spec) if isinstance(spec, dict) else {}


def parse_build(text: str, env: str, cwd: Path) -> list[HfState]:
    """The documents of ``helmfile build`` output, each with its source file (relative to ``cwd``)."""
    sources = [cwd / m.group(1) for m in _SOURCE.finditer(text)]
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise InputError(f"cannot read the output of helmfile build: {exc}") from None
    if len(sources) != len(docs):
        sources = [cwd / "helmfile.yaml"] * len(docs)
    states = []
    for source, doc in zip(sources, docs, strict=True):
        if not isinstance(doc, dict):
            raise InputError(f"helmfile build printed a document that is not a map for {source}")
        states.append(_state(env, source.resolve(), doc))
    return states


def _state(env: str, source: Path, doc: dict[str, Any]) -> HfState:
    defaults = doc.get("helmDefaults") or {}
    envs = doc.get("environments") or {}
    env_spec = envs.get(env) if isinstance(envs, dict) else None
    env_context = env_spec.get("kubeContext") if isinstance(env_spec, dict) else None
    releases = []
    for index, spec in enumerate(doc.get("releases") or []):
        if not isinstance(spec, dict):
            continue
        releases.append(HfRelease(
            name=str(spec.get("name") or ""),
            namespace=str(spec.get("namespace") or ""),
            chart=str(spec.get("chart") or ""),
            kube_context=str(spec.get("kubeContext") or defaults.get("kubeContext") or env_context or ""),
            spec=dict(spec),
            index=index,
        ))
    rendered = doc.get("renderedvalues")
    return HfState(env, source, doc, tuple(releases), dict(rendered) if isinstance(rendered, dict) else {})


def condition_holds(condition: str, state_values: dict[str, Any]) -> bool:
    """helmfile's ``condition: a.b.enabled``: the release is installed when that state value is true."""
    node: Any = state_values
    for part in condition.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return node is True


def need_name(need: str) -> tuple[str | None, str]:
    """``name``, ``ns/name`` or ``context/ns/name``: (the kube context or None, the release name)."""
    parts = need.split("/")
    context = "/".join(parts[:-2]) if len(parts) >= 3 else None
    return (context or None), parts[-1]


def discover_environments(text: str, base_dir: Path | None = None) -> tuple[str, ...]:
    """The keys of the top-level ``environments:`` of a helmfile's text (templates may surround them)
    and of the plain files its ``bases:`` name."""
    found: list[str] = []
    if base_dir is not None:
        for base in _bases(text):
            path = base_dir / base
            if "{{" not in base and path.is_file():
                found += [e for e in discover_environments(path.read_text(encoding="utf-8")) if e not in found]
    inside, indent = False, None
    for line in text.splitlines():
        if re.match(r"^environments\s*:\s*$", line):
            inside, indent = True, None
            continue
        if not inside or not line.strip() or line.lstrip().startswith(("#", "{{")):
            continue
        width = len(line) - len(line.lstrip(" "))
        if width == 0:
            inside = False
            continue
        indent = indent if indent is not None else width
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*:", line)
        if width == indent and match and match.group(1) not in found:
            found.append(match.group(1))
    return tuple(found)


def _bases(text: str) -> list[str]:
    """The entries of a top-level ``bases:`` list."""
    match = re.search(r"^bases\s*:\s*\n((?:[ \t]*-[^\n]*\n?)+)", text, re.MULTILINE)
    if match is None:
        return []
    return [line.strip()[1:].strip().strip("\"'") for line in match.group(1).splitlines() if line.strip()]
