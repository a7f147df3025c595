"""Live drift: what Helm deployed compared with what is actually in the cluster.

:func:`live_drift` compares the objects of a release's deployed manifest (Helm's record) with
the live objects of the cluster, **on the fields the manifest sets only**. Everything the API
server or a controller adds (``status``, ``metadata.uid``, ``managedFields``, defaulted fields
such as ``spec.strategy``, extra labels) is not looked at; a field the manifest sets and the
live object lacks or holds with another value is drift. A ``null``, empty map, empty list or
empty string in the manifest equals a missing live field (the API server drops them), and an
empty value of a field the API server defaults when empty (``imagePullPolicy: ""``, a Service
``type: ""``, a probe's ``periodSeconds: 0``: the table of :mod:`helmkit.sandbox.defaults`) is
compared with the value the server fills in.

Maps are compared key by key (the manifest's keys). Lists that Kubernetes merges by a key
(:data:`helmkit.plan.diffmodel.KEYED_LISTS`: containers by ``name``...) are compared item by
item under that key; other lists are compared whole when their lengths differ, else by position.
Numbers compare as numbers (``2`` equals ``2.0``), and resource quantities (under ``requests``,
``limits``, ``hard``, ``capacity``, ``overhead``) by value, since the API server canonicalizes them
(``cpu: 0.5`` is stored as ``500m``, ``cpu: 1`` as ``"1"``). A ``null`` in the manifest sets nothing.

Secrets: both sides are masked first (:func:`helmkit.plan.masking.mask_object`: Secret
``data``/``stringData`` become digest masks of the decoded values), so a changed Secret value
shows as two different masks and never as its value.

Ignore rules (Argo CD style, from ``helmkit.yaml`` ``ignoreDifferences``): each rule names a
``kind`` and optionally ``group``, ``name``, ``namespace`` and ``release``, and a list of
``jsonPointers``. A field is ignored when a pointer of a matching rule is the field's pointer or
one of its parents. Pointers index list items by their position in the manifest
(``/spec/template/spec/containers/0/image``); ``~1`` escapes ``/`` (RFC 6901).

Paths shown to people use the diff model's format (``spec.template.spec.containers[name=web].image``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from helmkit.adapters.masking import Digest, MaskKey
from helmkit.model.schemas import json_pointer
from helmkit.plan.diffmodel import list_merge_key, merge_key_value, path_segment
from helmkit.plan.fieldmanagers import field_managers
from helmkit.plan.manifests import ObjectKey
from helmkit.plan.masking import is_secret, mask_object
from helmkit.sandbox import defaulting

ObjectState = Literal["modified", "missing"]
_ABSENT: Any = object()


@dataclass(frozen=True)
class IgnoreRule:
    """Fields the live check ignores for objects that match ``kind`` (and the optional filters)."""

    kind: str
    pointers: tuple[str, ...]
    group: str | None = None
    name: str | None = None
    namespace: str | None = None
    release: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, release: str | None = None) -> IgnoreRule:
        """A rule as written in ``ignoreDifferences`` (``release`` narrows it to one release)."""
        return cls(
            kind=str(data.get("kind", "")),
            pointers=tuple(str(p) for p in data.get("jsonPointers") or ()),
            group=str(data["group"]) if data.get("group") is not None else None,
            name=str(data["name"]) if data.get("name") is not None else None,
            namespace=str(data["namespace"]) if data.get("namespace") is not None else None,
            release=str(data["release"]) if data.get("release") is not None else release,
        )

    def applies(self, key: ObjectKey, release: str) -> bool:
        return (self.kind == key.kind
                and (self.group is None or self.group == key.group)
                and (self.name is None or self.name == key.name)
                and (self.namespace is None or self.namespace == key.namespace)
                and (self.release is None or self.release == release))


@dataclass(frozen=True)
class LiveField:
    """One field the manifest sets whose live value differs.

    ``op`` is ``change`` (the live value differs) or ``remove`` (the live object lacks it).
    ``expected`` is Helm's value, ``live`` the cluster's (both masked). ``managers``: who changed it
    (field managers other than helm's, :mod:`helmkit.plan.fieldmanagers`), e.g. ``kubectl-scale``.
    """

    op: Literal["change", "remove"]
    path: str
    pointer: str
    expected: Any = None
    live: Any = None
    managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectDrift:
    """A deployed object that is gone from the cluster or differs from Helm's record."""

    key: ObjectKey
    api_version: str
    state: ObjectState
    fields: tuple[LiveField, ...] = ()
    owner_note: str = ""  # set when the live object says it belongs to another release

    def describe(self) -> str:
        if self.state == "missing":
            return f"{_key_text(self.key, self.api_version)} is missing from the cluster"
        if not self.fields:
            return f"{_key_text(self.key, self.api_version)}: {self.owner_note}"
        names = ", ".join(f.path for f in self.fields[:5])
        more = f" and {len(self.fields) - 5} more" if len(self.fields) > 5 else ""
        text = f"{_key_text(self.key, self.api_version)} changed at {names}{more}"
        return f"{text} ({self.owner_note})" if self.owner_note else text


@dataclass(frozen=True)
class UnhealthyObject:
    """A workload of the release whose controller reports fewer ready replicas than wanted."""

    key: ObjectKey
    api_version: str
    problem: str  # e.g. "1/3 replicas available"


@dataclass
class ReleaseLiveDiff:
    """The live drift of one release: objects missing or changed, the fields ignored, and the
    workloads that are not healthy."""

    release: str
    namespace: str
    objects: list[ObjectDrift] = field(default_factory=list)
    ignored: int = 0  # differing fields left out by ignore rules
    unhealthy: list[UnhealthyObject] = field(default_factory=list)
    clean: list[ObjectKey] = field(default_factory=list)  # not one field differs, healthy (now or before)

    @property
    def drifted(self) -> bool:
        return bool(self.objects)


def parse_rules(entries: Iterable[Mapping[str, Any]]) -> list[IgnoreRule]:
    return [IgnoreRule.from_mapping(entry) for entry in entries if isinstance(entry, Mapping)]


def live_drift(
    release: str,
    namespace: str,
    deployed: Mapping[ObjectKey, tuple[str, dict[str, Any]]],
    live: Mapping[ObjectKey, dict[str, Any]],
    *,
    rules: Sequence[IgnoreRule] = (),
    secret_values: Iterable[str] = (),
    digest: Digest | None = None,
    known_clean: Callable[[ObjectKey, str, dict[str, Any], dict[str, Any]], bool] | None = None,
) -> ReleaseLiveDiff:
    """Compare ``deployed`` (key -> (apiVersion, body) from Helm's manifest) with ``live`` objects.

    ``live`` may hold objects of other releases; only the keys of ``deployed`` are looked up.
    ``known_clean(key, apiVersion, body, live object)`` may vouch that a pair was found clean before.
    """
    secrets = list(secret_values)
    digest_of = digest or MaskKey.ephemeral().digest
    result = ReleaseLiveDiff(release, namespace)
    for key in sorted(deployed):
        api_version, body = deployed[key]
        current = live.get(key)
        if current is None:
            result.objects.append(ObjectDrift(key, api_version, "missing"))
            continue
        if known_clean is not None and known_clean(key, api_version, body, current):
            result.clean.append(key)  # found clean before, and neither side changed since
            continue
        expected = _normalized(_masked(_with_server_defaults(api_version, key.kind, body), secrets, digest_of))
        actual = _normalized(_masked(current, secrets, digest_of))
        found: list[LiveField] = []
        _compare(expected, actual, [], [], found)
        obj_rules = [r for r in rules if r.applies(key, release)]
        kept = [replace(f, managers=field_managers(current, expected, f.pointer)) if f.op == "change" else f
                for f in found if not _ignored(f.pointer, obj_rules)]
        result.ignored += len(found) - len(kept)
        note = _owner_note(current, release, namespace)
        if kept or note:
            result.objects.append(ObjectDrift(key, api_version, "modified", tuple(kept), note))
        problem = workload_problem(current)
        if problem:
            result.unhealthy.append(UnhealthyObject(key, api_version, problem))
        elif not found and not note:
            result.clean.append(key)
    return result


def workload_problem(obj: Mapping[str, Any]) -> str | None:
    """Why a Deployment, StatefulSet or DaemonSet is not healthy, from its status; None when it is
    (or while its controller has not yet observed the latest spec: a rollout in progress)."""
    kind = obj.get("kind")
    if kind not in ("Deployment", "StatefulSet", "DaemonSet") or not str(obj.get("apiVersion", "")).startswith("apps/"):
        return None
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    generation = _int((meta or {}).get("generation"), 0)
    if _int((status or {}).get("observedGeneration"), 0) < generation:
        return None
    if kind == "DaemonSet":
        wanted = _int((status or {}).get("desiredNumberScheduled"), 0)
        have = _int((status or {}).get("numberAvailable"), 0)
        return f"{have}/{wanted} pods available" if have < wanted else None
    wanted = _int((spec or {}).get("replicas"), 1)
    field_name = "availableReplicas" if kind == "Deployment" else "readyReplicas"
    have = _int((status or {}).get(field_name), 0)
    return f"{have}/{wanted} replicas {'available' if kind == 'Deployment' else 'ready'}" if have < wanted else None


def _same_quantity(a: Any, b: Any) -> bool:
    """``cpu: 0.5`` and ``500m``, ``memory: 1Gi`` and ``1073741824``: the server canonicalizes quantities."""
    first, second = _quantity(a), _quantity(b)
    return first is not None and first == second


def _quantity(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    suffix = match.group(2)
    if suffix.startswith(("e", "E")):
        return number * (Decimal(10) ** int(suffix[1:]))
    return number * _SUFFIX[suffix]


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _masked(obj: dict[str, Any], secrets: list[str], digest: Digest) -> dict[str, Any]:
    """Masked copy when there is anything to mask; the object itself otherwise (never changed here)."""
    return mask_object(obj, secrets, digest=digest) if secrets or is_secret(obj) else obj


def _compare(expected: Any, actual: Any, path: list[str], pointer: list[str], out: list[LiveField]) -> None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            if actual is _ABSENT and _empty(expected):
                return
            _add(out, path, pointer, expected, actual)
            return
        for key in sorted(expected, key=str):
            value = expected[key]
            child = actual.get(key, _ABSENT)
            _compare(value, child, [*path, path_segment(str(key))], [*pointer, str(key)], out)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            if actual is _ABSENT and not expected:
                return
            _add(out, path, pointer, expected, actual)
            return
        merge_key = list_merge_key(path[-1].lstrip(".") if path else "", expected, actual)
        if merge_key is not None:
            by_key = {merge_key_value(item[merge_key]): item for item in actual}
            for index, item in enumerate(expected):
                selector = f"[{merge_key}={merge_key_value(item[merge_key])}]"
                other = by_key.get(merge_key_value(item[merge_key]), _ABSENT)
                _compare(item, other, [*path, selector], [*pointer, str(index)], out)
            return
        if len(expected) != len(actual):
            _add(out, path, pointer, expected, actual)
            return
        for index, (item, other) in enumerate(zip(expected, actual, strict=True)):
            _compare(item, other, [*path, f"[{index}]"], [*pointer, str(index)], out)
        return
    if expected is None:
        return  # null in a manifest means "not set": the server leaves or defaults the field
    if actual is _ABSENT:
        if _empty(expected):
            return
        _add(out, path, pointer, expected, _ABSENT)
        return
    if _same_leaf(expected, actual):
        return
    if len(path) >= 2 and path[-2].lstrip(".") in QUANTITY_PARENTS and _same_quantity(expected, actual):
        return
    _add(out, path, pointer, expected, actual)


def _with_server_defaults(api_version: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The manifest object with each empty value the API server replaces by its default replaced the
    same way (``imagePullPolicy: ""`` becomes ``IfNotPresent`` for ``nginx:1.27``, a probe's
    ``periodSeconds: 0`` becomes 10), from the server's table (:mod:`helmkit.sandbox.defaults`);
    allocated values (a Service's ``clusterIP: ""``) become "not set". Nothing else is added."""
    group, _, version = api_version.rpartition("/")
    if defaulting.type_of(group, version, kind) is None or not isinstance(body.get("metadata"), dict):
        return body
    filled = defaulting.apply(group, version, kind, copy.deepcopy(body), None)
    result: dict[str, Any] = _fill_empty(body, filled, skip=_FREE_FORM)
    return result


def _fill_empty(node: Any, filled: Any, skip: frozenset[str] = frozenset()) -> Any:
    if isinstance(node, dict) and isinstance(filled, dict):
        result: dict[str, Any] = {}
        for key, value in node.items():
            other = filled.get(key, _ABSENT)
            if key in skip:
                result[key] = value
            elif _is_empty_leaf(value) and key in _ALLOCATED:
                result[key] = None
            elif _is_empty_leaf(value) and other is not _ABSENT and not _is_empty_leaf(other):
                result[key] = other
            else:
                result[key] = _fill_empty(value, other)
        return result
    if isinstance(node, list) and isinstance(filled, list) and len(node) == len(filled):
        return [_fill_empty(item, other) for item, other in zip(node, filled, strict=True)]
    return node


def _is_empty_leaf(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, str | int) and value in ("", 0)


def _add(out: list[LiveField], path: list[str], pointer: list[str], expected: Any, actual: Any) -> None:
    text = "".join(path).lstrip(".") or "(object)"
    where = json_pointer(pointer)
    if actual is _ABSENT:
        out.append(LiveField("remove", text, where, expected, None))
    else:
        out.append(LiveField("change", text, where, expected, actual))


def _normalized(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop what never counts as drift: the server's status and bookkeeping metadata."""
    body = {k: v for k, v in obj.items() if k != "status"}
    meta = body.get("metadata")
    if isinstance(meta, dict):
        body["metadata"] = {k: v for k, v in meta.items() if k not in _SERVER_METADATA}
    return body


_FREE_FORM = frozenset({"metadata", "data", "stringData", "binaryData"})
_ALLOCATED = frozenset({"clusterIP", "nodePort", "healthCheckNodePort"})
QUANTITY_PARENTS = frozenset({"requests", "limits", "hard", "capacity", "overhead"})
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))((?:[eE][+-]?\d+)|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")
_SUFFIX = {"": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10) ** 3,
           "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15,
           "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
           "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60}
_SERVER_METADATA = frozenset({"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                              "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences"})


def _owner_note(live: Mapping[str, Any], release: str, namespace: str) -> str:
    meta = live.get("metadata") if isinstance(live.get("metadata"), dict) else {}
    annotations = (meta or {}).get("annotations") if isinstance((meta or {}).get("annotations"), dict) else {}
    owner = (annotations or {}).get("meta.helm.sh/release-name")
    owner_ns = (annotations or {}).get("meta.helm.sh/release-namespace")
    if owner is None or (owner == release and owner_ns in (None, namespace)):
        return ""
    return f"the live object belongs to release {owner_ns}/{owner}"


def _ignored(pointer: str, rules: Sequence[IgnoreRule]) -> bool:
    for rule in rules:
        for ignored in rule.pointers:
            if ignored in ("", "/") or pointer == ignored or pointer.startswith(ignored.rstrip("/") + "/"):
                return True
    return False


def _empty(value: Any) -> bool:
    return value is None or value in ({}, [], "")


def _same_leaf(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _key_text(key: ObjectKey, api_version: str) -> str:
    return f"{api_version}/{key.kind} {key.namespace}/{key.name}" if key.namespace else \
        f"{api_version}/{key.kind} {key.name}"
