"""What a chart's files say before helm renders it: the CRDs it ships, and what its output can depend on.

A chart is a directory or a packaged ``.tgz``; its subcharts are folders or packages under
``charts/`` (packages inside a package are read too).

:func:`chart_traits` reads the template actions (``{{ ... }}``) of the chart and its subcharts:
whether they call a generator function, whether they read ``.Release.IsUpgrade``/``IsInstall``,
and which API versions they test. A chart that only ever tests literal API versions
(``.Capabilities.APIVersions.Has "policy/v1"``) renders the same with just the served ones of
those literals as with the whole served set; one that reads ``.Capabilities.APIVersions``
otherwise (a variable, ``toJson``, a helper taking the version as an argument) needs the whole
set. Rendering passes only what the output can depend on, so the render cache stays warm when a
cluster gains an unrelated API or a release goes from install to upgrade.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.treedigest import TreeDigests
from helmkit.plan.keptcrds import KeptCrds, load_yaml
from helmkit.plan.manifests import split_documents

# Template functions whose result differs on every render (sprig's and helm's).
GENERATORS = ("randAlphaNum", "randAlpha", "randNumeric", "randAscii", "randBytes", "randInt", "genCA",
              "genCAWithKey", "genPrivateKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert",
              "genSignedCertWithKey", "uuidv4", "now", "htpasswd", "bcrypt", "encryptAES", "shuffle")
_GENERATOR = re.compile(r"\b(?:" + "|".join(GENERATORS) + r")\b")
_ACTION = re.compile(r"\{\{.*?\}\}", re.S)
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_PHASE = re.compile(r"\b(?:IsUpgrade|IsInstall)\b|\.Release\s*[|)}]|\$\.Release\b(?!\.)")
_LOOKUP = re.compile(r"\blookup\b")
_API_USE = re.compile(r"APIVersions|\.Capabilities\b(?!\.)")
_API_LITERAL = re.compile(r"APIVersions\.Has\s+(?:\"([^\"]+)\"|`([^`]+)`)")
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")


def crd_api_versions(chart: Path, load: Callable[[str], Any] = load_yaml) -> set[str]:
    """``group/version`` and ``group/version/Kind`` of the CRDs in a chart's ``crds/`` folder(s);
    ``load`` reads one YAML document (:class:`~helmkit.plan.keptcrds.KeptCrds` keeps large CRDs)."""
    apis: set[str] = set()
    for _, text in _texts(chart, lambda name: "crds/" in name and name.endswith((".yaml", ".yml"))):
        for document in split_documents(text):
            try:
                apis.update(crd_apis(load(document.text)))
            except yaml.YAMLError:
                continue
    return apis


@dataclass(frozen=True)
class ChartTraits:
    generates: bool = False  # calls a function that differs on every render
    release_phase: bool = False  # reads .Release.IsUpgrade or .Release.IsInstall
    api_literals: frozenset[str] | None = frozenset()  # API versions it tests; None: any of them
    looks_up: bool = False  # calls ``lookup``: its output depends on objects in the cluster


def traits_to_json(traits: ChartTraits) -> str:
    literals = None if traits.api_literals is None else sorted(traits.api_literals)
    return json.dumps([traits.generates, traits.release_phase, literals, traits.looks_up])


def traits_from_json(text: str) -> ChartTraits | None:
    """Traits kept by :func:`traits_to_json`; None for anything else."""
    try:
        generates, phase, literals, looks_up = json.loads(text)
    except (ValueError, TypeError):
        return None
    return ChartTraits(bool(generates), bool(phase), None if literals is None else frozenset(map(str, literals)),
                       bool(looks_up))


TRAITS_FORMAT = 1


@dataclass
class KeptTraits:
    """The traits of charts for one run, kept in ``cache`` under each chart's digest: the templates
    of a chart that did not change are not scanned again (kube-prometheus-stack: 1.8 MB of them)."""

    cache: ContentCache
    digests: TreeDigests
    known: dict[Path, ChartTraits] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def of(self, chart: Path) -> ChartTraits:
        with self.guard:
            found = self.known.get(chart)
        if found is None:
            try:
                key = content_key({"chart-traits": TRAITS_FORMAT, "chart": self.digests.digest(chart)})
            except OSError:
                return chart_traits(chart)  # unreadable: scanning says what can be said
            kept = self.cache.get(key)
            found = traits_from_json(kept.decode("utf-8", errors="replace")) if kept is not None else None
            if found is None:
                found = chart_traits(chart)
                self.cache.put(key, traits_to_json(found).encode())
            with self.guard:
                self.known[chart] = found
        return found


def kept_traits(state_dir: Path) -> KeptTraits:
    """Chart traits kept where rendering keeps them (``.helmkit/cache``)."""
    return KeptTraits(ContentCache(state_dir / "cache" / "render"), TreeDigests(state_dir / "cache" / "tree-digests"))


def kept_crds(state_dir: Path) -> KeptCrds:
    """Large CRDs read once, kept where rendering keeps what it reads of charts."""
    return KeptCrds(ContentCache(state_dir / "cache" / "render"))


def chart_traits(chart: Path) -> ChartTraits:
    """What the templates of a chart and its subcharts can make their output depend on."""
    generates = phase = looks_up = False
    literals: set[str] = set()
    dynamic = False
    for _, text in _texts(chart, _is_template):
        for action in (_COMMENT.sub("", a) for a in _ACTION.findall(text)):
            generates = generates or bool(_GENERATOR.search(action))
            phase = phase or bool(_PHASE.search(action))
            looks_up = looks_up or bool(_LOOKUP.search(action))
            found = [a or b for a, b in _API_LITERAL.findall(action)]
            literals.update(found)
            dynamic = dynamic or len(_API_USE.findall(action)) > len(found)
    return ChartTraits(generates, phase, None if dynamic else frozenset(literals), looks_up)


def _is_template(name: str) -> bool:
    return "templates/" in name and name.endswith(TEMPLATE_SUFFIXES)


def _texts(chart: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    if chart.is_dir():
        for path in sorted(chart.rglob("*")):
            name = path.relative_to(chart).as_posix()
            if path.is_file() and wanted(name):
                yield name, path.read_text(encoding="utf-8", errors="replace")
            elif path.is_file() and name.endswith(".tgz") and "charts/" in name:
                with path.open("rb") as handle:
                    yield from _package_texts(handle, wanted)
    elif chart.is_file() and tarfile.is_tarfile(chart):
        with chart.open("rb") as handle:
            yield from _package_texts(handle, wanted)


def _package_texts(handle: IO[bytes], wanted: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    try:
        with tarfile.open(fileobj=handle, mode="r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                data = tar.extractfile(member)
                if data is None:
                    continue
                inner = member.name.split("/", 1)[-1]  # without the chart's own folder
                if wanted(inner):
                    yield member.name, data.read().decode("utf-8", errors="replace")
                elif inner.endswith(".tgz") and "charts/" in inner:
                    yield from _package_texts(io.BytesIO(data.read()), wanted)
    except (tarfile.TarError, OSError, EOFError):
        return


def crd_apis(doc: Any) -> set[str]:
    """``group/version`` and ``group/version/Kind`` of a CRD document (nothing for another document)."""
    if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
        return set()
    spec = doc.get("spec") or {}
    group = spec.get("group")
    kind = (spec.get("names") or {}).get("kind")
    versions = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict)]
    if spec.get("version"):
        versions.append(spec["version"])
    apis: set[str] = set()
    for version in versions:
        if isinstance(group, str) and isinstance(version, str):
            apis.add(f"{group}/{version}")
            if isinstance(kind, str):
                apis.add(f"{group}/{version}/{kind}")
    return apis
