"""Rendered manifests (``helm template`` output, a release's stored manifest) as keyed objects.

:func:`parse_manifest` splits a multi-document YAML stream, keeps the ``# Source:`` template of
each document, and keys every object by :class:`ObjectKey` (API group, kind, namespace, name).
The namespace of a namespaced object defaults to the release namespace; cluster-scoped kinds
have none. Hooks (``helm.sh/hook`` annotation) are kept apart from the release's objects, and
CustomResourceDefinitions are marked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from helmkit.errors import InputError, Location, Problem

HOOK_ANNOTATION = "helm.sh/hook"
MAX_NODES = 1_000_000  # per document, after alias expansion: an alias bomb stops here
MAX_DEPTH = 200
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SOURCE_PREFIX = "# Source: "
_SEPARATOR = re.compile(r"^---(\s.*)?$")

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
) -> Manifest:
    """Parse a multi-document manifest. ``origin`` names it in errors (e.g. "helm template web")."""
    extra = tuple(extra_cluster_scoped)
    manifest = Manifest()
    problems: list[Problem] = []
    for start_line, source, chunk in _documents(text):
        where = Location(source or origin, start_line)
        try:
            body = yaml.load(chunk, Loader=_LOADER)  # noqa: S506 -- a safe loader
        except yaml.YAMLError as exc:
            problems.append(Problem(f"invalid YAML in {origin}: {getattr(exc, 'problem', exc)}", where))
            continue
        except RecursionError:
            problems.append(Problem(f"a document of {origin} is nested too deeply", where))
            continue
        too_big = _too_big(body)
        if too_big:
            problems.append(Problem(f"a document of {origin} {too_big}", where,
                                    hint="YAML aliases that expand without bound are refused"))
            continue
        if body is None:
            continue
        if not isinstance(body, dict) or not body.get("kind") or not body.get("apiVersion"):
            problems.append(Problem(f"a document of {origin} is not a Kubernetes object (no apiVersion/kind)", where))
            continue
        meta = body.get("metadata")
        if not isinstance(meta, dict) or not meta.get("name"):
            problems.append(Problem(f"a {body['kind']} of {origin} has no metadata.name", where))
            continue
        key = object_key(body, release_namespace, extra)
        annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        hook = str((annotations or {}).get(HOOK_ANNOTATION) or "")
        events = tuple(e.strip() for e in hook.split(",") if e.strip())
        obj = ManifestObject(key, str(body["apiVersion"]), body, source, events)
        if obj.is_hook:
            manifest.hooks.append(obj)
            continue
        if key in manifest.objects:
            first = manifest.objects[key].source or origin
            problems.append(Problem(f"{key} is rendered twice (also by {first})", where,
                                    hint="two templates produce the same object; helm would refuse it"))
            continue
        manifest.objects[key] = obj
    if problems:
        raise InputError(problems)
    return manifest


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


def _documents(text: str) -> list[tuple[int, str, str]]:
    """(first line number, source template, text) of each YAML document of ``text``."""
    docs: list[tuple[int, str, str]] = []
    lines: list[str] = []
    start = 1
    source = ""

    def flush() -> None:
        if any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            docs.append((start, source, "\n".join(lines) + "\n"))  # keep a closing block scalar's newline

    for number, line in enumerate(text.splitlines(), start=1):
        if _SEPARATOR.match(line):
            flush()
            lines, start, source = [], number + 1, ""
            rest = line[3:].strip()
            if rest:
                lines.append(rest)
            continue
        if line.startswith(SOURCE_PREFIX) and not source:
            source = line[len(SOURCE_PREFIX):].strip()
        lines.append(line)
    flush()
    return docs
