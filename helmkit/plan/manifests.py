"""Rendered manifests (``helm template`` output, a release's stored manifest) as keyed objects.

:func:`parse_manifest` splits a multi-document YAML stream, keeps the ``# Source:`` template of
each document, and keys every object by :class:`ObjectKey` (API group, kind, namespace, name).
The namespace of a namespaced object defaults to the release namespace; cluster-scoped kinds
have none. Hooks (``helm.sh/hook`` annotation) are kept apart from the release's objects, and
CustomResourceDefinitions are marked.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from helmkit.errors import InputError, Location, Problem
from helmkit.plan.keptcrds import KeptCrds, load_yaml
from helmkit.plan.rendering import HEADER, Rendering, crds_prefix, from_crds_folder, separators

HOOK_ANNOTATION = "helm.sh/hook"
MAX_NODES = 1_000_000  # per document, after alias expansion: an alias bomb stops here
MAX_DEPTH = 200
_CONTENT = re.compile(r"^[ \t]*[^#\s]", re.MULTILINE)  # a line that is neither blank nor a comment

# Built-in kinds without a namespace, by (group, kind).
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset({
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("policy", "PodSecurityPolicy"),
})


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Identity of an object in a cluster; the version is not part of it."""

    group: str
    kind: str
    namespace: str  # "" for cluster-scoped objects
    name: str

    def __str__(self) -> str:
        kind = f"{self.group}/{self.kind}" if self.group else self.kind
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"


@dataclass(frozen=True)
class ManifestObject:
    key: ObjectKey
    api_version: str
    body: dict[str, Any]
    source: str = ""  # template path from the "# Source:" comment
    hook_events: tuple[str, ...] = ()

    @property
    def is_hook(self) -> bool:
        return bool(self.hook_events)

    @property
    def is_crd(self) -> bool:
        return self.key.group == "apiextensions.k8s.io" and self.key.kind == "CustomResourceDefinition"


@dataclass
class Manifest:
    """The objects of one rendered release, hooks apart, in document order."""

    objects: dict[ObjectKey, ManifestObject] = field(default_factory=dict)
    hooks: list[ManifestObject] = field(default_factory=list)

    @property
    def crds(self) -> list[ManifestObject]:
        return [o for o in self.objects.values() if o.is_crd]

    def bodies(self) -> dict[ObjectKey, dict[str, Any]]:
        return {key: obj.body for key, obj in self.objects.items()}


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def is_namespaced(group: str, kind: str, extra_cluster_scoped: Iterable[tuple[str, str]] = ()) -> bool:
    return (group, kind) not in CLUSTER_SCOPED and (group, kind) not in set(extra_cluster_scoped)


def object_key(body: dict[str, Any], release_namespace: str,
               extra_cluster_scoped: Iterable[tuple[str, str]] = ()) -> ObjectKey:
    """The key of one object; namespaced objects without a namespace get ``release_namespace``."""
    api_version = str(body.get("apiVersion", ""))
    kind = str(body.get("kind", ""))
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    group = group_of(api_version)
    namespace = ""
    if is_namespaced(group, kind, extra_cluster_scoped):
        namespace = str((meta or {}).get("namespace") or release_namespace)
    return ObjectKey(group, kind, namespace, str((meta or {}).get("name", "")))


def parse_manifest(
    text: str,
    release_namespace: str,
    *,
    origin: str = "manifest",
    extra_cluster_scoped: Iterable[tuple[str, str]] = (),
    cache: DocumentCache | None = None,
) -> Manifest:
    """Parse a multi-document manifest. ``origin`` names it in errors (e.g. "helm template web")."""
    return parse_documents(split_documents(text), release_namespace, origin=origin,
                           extra_cluster_scoped=extra_cluster_scoped, cache=cache)


def parse_documents(
    documents: Iterable[Document],
    release_namespace: str,
    *,
    origin: str = "manifest",
    extra_cluster_scoped: Iterable[tuple[str, str]] = (),
    cache: DocumentCache | None = None,
) -> Manifest:
    """The objects of ``documents`` (all of a manifest, or some of it); every problem at once."""
    extra = tuple(extra_cluster_scoped)
    manifest = Manifest()
    problems: list[Problem] = []
    for document in documents:
        if cache is not None:
            read = cache.read(document, release_namespace, origin, extra)
        else:
            read = _read(document, release_namespace, origin, extra)
        if read is None:
            continue
        if isinstance(read, Problem):
            problems.append(read)
            continue
        if read.is_hook:
            manifest.hooks.append(read)
            continue
        if read.key in manifest.objects:
            first = manifest.objects[read.key].source or origin
            problems.append(Problem(f"{read.key} is rendered twice (also by {first})",
                                    Location(document.source or origin, document.line),
                                    hint="two templates produce the same object; helm would refuse it"))
            continue
        manifest.objects[read.key] = read
    if problems:
        raise InputError(problems)
    return manifest


@dataclass
class DocumentCache:
    """The objects read from documents, for one run: a document read before (same template, same
    text, same release namespace -- the same chart on many clusters) is not read again, and its
    object is shared. Nobody changes a parsed object (masking and comparing work on copies)."""

    objects: dict[tuple[str, bytes, str, tuple[tuple[str, str], ...]], ManifestObject | None] = field(
        default_factory=dict)
    crds: dict[tuple[str, str], tuple[ManifestObject, ...]] = field(default_factory=dict)  # by (manifest, namespace)
    only_crds: dict[tuple[str, str], bool] = field(default_factory=dict)  # its crds/ hold v1 CRDs alone
    kept: KeptCrds | None = None  # large CRDs: read once across runs

    def read(self, document: Document, namespace: str, origin: str,
             extra: tuple[tuple[str, str], ...]) -> ManifestObject | Problem | None:
        digest = hashlib.blake2b(document.text.encode(), digest_size=16).digest()
        key = (document.source, digest, namespace, extra)
        if key in self.objects:
            return self.objects[key]
        result = _read(document, namespace, origin, extra, load=load_yaml if self.kept is None else self.kept.load)
        if not isinstance(result, Problem):
            self.objects[key] = result
        return result


def _read(document: Document, namespace: str, origin: str, extra: tuple[tuple[str, str], ...], *,
          load: Callable[[str], Any] = load_yaml) -> ManifestObject | Problem | None:
    """The object of one document, None for an empty one, or why it cannot be read."""
    where = Location(document.source or origin, document.line)
    try:
        body = load(document.text)
    except yaml.YAMLError as exc:
        return Problem(f"invalid YAML in {origin}: {getattr(exc, 'problem', None) or exc}",
                       _error_location(where, document, exc))
    except RecursionError:
        return Problem(f"a document of {origin} is nested too deeply", where)
    too_big = _too_big(body)
    if too_big:
        return Problem(f"a document of {origin} {too_big}", where,
                       hint="YAML aliases that expand without bound are refused")
    if body is None:
        return None
    if not isinstance(body, dict) or not body.get("kind") or not body.get("apiVersion"):
        return Problem(f"a document of {origin} is not a Kubernetes object (no apiVersion/kind)", where)
    meta = body.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        return Problem(f"a {body['kind']} of {origin} has no metadata.name", where)
    key = object_key(body, namespace, extra)
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    hook = str((annotations or {}).get(HOOK_ANNOTATION) or "")
    events = tuple(e.strip() for e in hook.split(",") if e.strip())
    return ManifestObject(key, str(body["apiVersion"]), body, document.source, events)


def _error_location(where: Location, document: Document, error: yaml.YAMLError) -> Location:
    """The line of a YAML error inside its document (the reader may point just past its end)."""
    mark = getattr(error, "problem_mark", None)
    if mark is None or not document.text_line:
        return where
    last = document.text_line + max(document.text.count("\n") - 1, 0)
    return Location(where.file, min(document.text_line + mark.line, last))


def _too_big(body: Any) -> str:
    """Why a loaded document is refused (its size counting every alias expansion), or ""."""
    sizes: dict[int, int] = {}  # id of a shared container -> its expanded size

    def size(node: Any, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _Refused(f"is nested more than {MAX_DEPTH} levels deep")
        if not isinstance(node, dict | list):
            return 1
        known = sizes.get(id(node))
        if known is not None:
            return known
        children = node.values() if isinstance(node, dict) else node
        total = 1 + sum(size(child, depth + 1) for child in children)
        if total > MAX_NODES:
            raise _Refused(f"has more than {MAX_NODES} nodes")
        sizes[id(node)] = total
        return total

    try:
        size(body, 0)
    except _Refused as exc:
        return str(exc)
    return ""


class _Refused(Exception):
    pass


@dataclass(frozen=True)
class Document:
    """One YAML document of a manifest: its text, first line and ``# Source:`` template."""

    line: int
    source: str
    text: str
    text_line: int = 0  # the line of the text's first character (the separator's, after the first document)

    @property
    def from_crds_folder(self) -> bool:
        return from_crds_folder(self.source)


def split_documents(text: str) -> list[Document]:
    """The documents of ``text`` that hold more than comments, each with its template.

    Helm prints every template document behind its own ``---`` and ``# Source: <path>`` line, and
    each file of a ``crds/`` folder once behind one such line: the documents that follow in that
    file have no header, and when the file opens with a comment and ``---`` the header stands in a
    document of comments only. So a document without a header carries the template of the one
    before it (comment-only documents included). Only a header on a document's first line counts.
    """
    documents: list[Document] = []
    source = ""
    position, line, first_line = 0, 1, 1  # where the current document starts, that line, its first line
    for end in [*separators(text), len(text)]:
        chunk = text[position:end]
        header = HEADER.match(chunk)
        if header is not None:
            source = header.group(1).strip()
        if _CONTENT.search(chunk):
            documents.append(Document(first_line, source, chunk if chunk.endswith("\n") else chunk + "\n",
                                      line))
        if end == len(text):
            break
        line += text.count("\n", position, end)
        first_line = line + 1
        position = end + 3  # the rest of the separator's line belongs to the next document ("--- {a: 1}")
    return documents


def template_documents(text: str) -> list[Document]:
    """The documents of ``text`` but those of ``crds/`` folders. helm prints these first: they are
    stepped over, not split (kube-prometheus-stack: 4.5 MB of them ahead of 0.7 MB of templates)."""
    prefix = crds_prefix(text)
    first = HEADER.match(text, 3) if text.startswith("---") else None
    if not prefix or first is None or not from_crds_folder(first.group(1).strip()):
        return [d for d in split_documents(text) if not d.from_crds_folder]
    lines = text.crds_lines if isinstance(text, Rendering) else prefix.count("\n")
    return [replace(d, line=d.line + lines, text_line=d.text_line + lines)
            for d in split_documents(text[len(prefix):]) if not d.from_crds_folder]


def differing_documents(desired: str, deployed: str) -> tuple[list[Document], list[Document]]:
    """The template documents of two manifests that differ in text: (desired ones, deployed ones).

    Helm records the exact text it rendered, so a document whose text (template header included)
    is in both is the same objects on both sides and needs no parse: identical texts pair off,
    each at most once. Documents of a ``crds/`` folder are left out on both sides (a release
    record holds only its templates' output). Hooks are not told apart here: a parse does that.
    """
    wanted, have = template_documents(desired), template_documents(deployed)
    unmatched = Counter(d.text for d in have)
    only_wanted: list[Document] = []
    for document in wanted:
        if unmatched[document.text] > 0:
            unmatched[document.text] -= 1
        else:
            only_wanted.append(document)
    only_have: list[Document] = []
    for document in have:
        if unmatched[document.text] > 0:
            unmatched[document.text] -= 1
            only_have.append(document)
    return only_wanted, only_have
