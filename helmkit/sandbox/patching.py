"""The three patch types of the Kubernetes API: JSON merge patch, JSON patch and strategic merge patch.

Strategic merge patch (``application/strategic-merge-patch+json``) needs to know, for every list
of a built-in kind, whether it is merged by a key (``containers`` by ``name``, container ``ports``
by ``containerPort``...), merged as a set of primitives (``finalizers``) or replaced whole. Those
facts live in :data:`POD_SPEC` and friends below; :func:`list_rules_for` gives the tree for one
kind and is shared with server-side apply (:mod:`helmkit.sandbox.apply`).

Every function works on a deep copy: the inputs are never modified.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from helmkit.sandbox.catalog import builtin_type


class PatchError(Exception):
    """A patch that cannot be applied; ``status`` is the HTTP code to answer (422 or 400)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --------------------------------------------------------------------------------------------
# Field rules: where built-in kinds keep associative lists


@dataclass(frozen=True)
class ListRule:
    """How a list field merges: by ``keys`` (first one is the strategic patch merge key) or as a set."""

    keys: tuple[str, ...] = ()
    primitive_set: bool = False
    item: Struct | None = None

    @property
    def merge_key(self) -> str:
        return self.keys[0]


@dataclass(frozen=True)
class Struct:
    """The fields of an object that need a rule; any field not listed is a plain map or an atomic list."""

    fields: dict[str, Struct | ListRule] = field(default_factory=dict)

    def child(self, name: str) -> Struct | ListRule | None:
        return self.fields.get(name)


def _by(*keys: str, item: Struct | None = None) -> ListRule:
    return ListRule(keys=keys, item=item)


SET = ListRule(primitive_set=True)
EMPTY = Struct()
OBJECT_META = Struct({"finalizers": SET, "ownerReferences": _by("uid")})
CONTAINER = Struct(
    {
        "ports": _by("containerPort", "protocol"),
        "env": _by("name"),
        "volumeMounts": _by("mountPath"),
        "volumeDevices": _by("devicePath"),
    }
)
POD_SPEC = Struct(
    {
        "containers": _by("name", item=CONTAINER),
        "initContainers": _by("name", item=CONTAINER),
        "ephemeralContainers": _by("name", item=CONTAINER),
        "volumes": _by("name"),
        "imagePullSecrets": _by("name"),
        "hostAliases": _by("ip"),
        "topologySpreadConstraints": _by("topologyKey", "whenUnsatisfiable"),
        "resourceClaims": _by("name"),
        "schedulingGates": _by("name"),
    }
)
POD_TEMPLATE = Struct({"metadata": OBJECT_META, "spec": POD_SPEC})
CONDITIONS = _by("type")
STATUS = Struct({"conditions": CONDITIONS})


def _object(spec: Struct = EMPTY, status: Struct = STATUS, **extra: Struct | ListRule) -> Struct:
    return Struct({"metadata": OBJECT_META, "spec": spec, "status": status, **extra})


_WORKLOAD = _object(Struct({"template": POD_TEMPLATE}))
_KIND_RULES: dict[str, Struct] = {
    "Pod": _object(
        POD_SPEC,
        Struct({"conditions": CONDITIONS, "podIPs": _by("ip"), "hostIPs": _by("ip")}),
    ),
    "PodTemplate": _object(template=POD_TEMPLATE),
    "Deployment": _WORKLOAD,
    "ReplicaSet": _WORKLOAD,
    "StatefulSet": _WORKLOAD,
    "DaemonSet": _WORKLOAD,
    "ReplicationController": _WORKLOAD,
    "Job": _WORKLOAD,
    "CronJob": _object(Struct({"jobTemplate": Struct({"metadata": OBJECT_META, "spec": _WORKLOAD.fields["spec"]})})),
    "Service": _object(Struct({"ports": _by("port", "protocol")})),
    "ServiceAccount": _object(secrets=_by("name")),
    "Node": _object(status=Struct({"conditions": CONDITIONS, "addresses": _by("type")})),
    # admissionregistration/v1: `webhooks` is patchStrategy merge, patchMergeKey name.
    "ValidatingWebhookConfiguration": _object(webhooks=_by("name")),
    "MutatingWebhookConfiguration": _object(webhooks=_by("name")),
}
_GENERIC = _object()
_CUSTOM = Struct({"metadata": OBJECT_META})


def supports_strategic(api_version: str, kind: str) -> bool:
    """True for built-in kinds; a real server answers 415 to a strategic patch of a custom resource."""
    return builtin_type(api_version, kind) is not None


def list_rules_for(api_version: str, kind: str) -> Struct:
    """The field rules of one kind (custom resources only know their metadata lists)."""
    if not supports_strategic(api_version, kind):
        return _CUSTOM
    return _KIND_RULES.get(kind, _GENERIC)


def _sub_struct(rules: Struct | None, name: str) -> Struct | None:
    child = rules.child(name) if rules else None
    return child if isinstance(child, Struct) else None


def _list_rule(rules: Struct | None, name: str) -> ListRule | None:
    child = rules.child(name) if rules else None
    return child if isinstance(child, ListRule) else None


# --------------------------------------------------------------------------------------------
# RFC 7386 JSON merge patch


def merge_patch(doc: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch: maps merge, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --------------------------------------------------------------------------------------------
# RFC 6902 JSON patch


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer {path!r}", status=400)
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], part: str, *, for_add: bool) -> int:
    if for_add and part == "-":
        return len(container)
    if not part.isdigit() or (part != "0" and part.startswith("0")):
        raise PatchError(f"invalid array index {part!r}")
    index = int(part)
    limit = len(container) if for_add else len(container) - 1
    if index > limit:
        raise PatchError(f"array index {index} out of range")
    return index


def _resolve(doc: Any, tokens: list[str]) -> Any:
    current = doc
    for token in tokens:
        if isinstance(current, dict):
            if token not in current:
                raise PatchError(f"path /{'/'.join(tokens)} does not exist")
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, for_add=False)]
        else:
            raise PatchError(f"path /{'/'.join(tokens)} does not exist")
    return current


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, for_add=True), value)
    else:
        raise PatchError(f"cannot add at /{'/'.join(tokens)}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> tuple[Any, Any]:
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _resolve(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path /{'/'.join(tokens)} does not exist")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, last, for_add=False))
    raise PatchError(f"path /{'/'.join(tokens)} does not exist")


def json_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply an RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations", status=400)
    result = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation {op!r}", status=400)
        name = op["op"]
        tokens = _pointer(op["path"])
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation {name!r} needs a value", status=400)
        if name == "add":
            result = _add(result, tokens, copy.deepcopy(op["value"]))
        elif name == "remove":
            result, _ = _remove(result, tokens)
        elif name == "replace":
            result, _ = _remove(result, tokens) if tokens else (result, None)
            result = _add(result, tokens, copy.deepcopy(op["value"]))
        elif name in ("move", "copy"):
            source = _pointer(op.get("from"))
            if name == "move":
                if tokens[: len(source)] == source and tokens != source:
                    raise PatchError("cannot move a value into one of its children")
                result, value = _remove(result, source)
            else:
                value = copy.deepcopy(_resolve(result, source))
            result = _add(result, tokens, value)
        elif name == "test":
            if _resolve(result, tokens) != op["value"]:
                raise PatchError(f"test operation failed at {op['path']}")
        else:
            raise PatchError(f"unknown JSON patch operation {name!r}", status=400)
    return result


# --------------------------------------------------------------------------------------------
# Kubernetes strategic merge patch

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_ORDER_PREFIX = "$setElementOrder/"
_DELETE_PRIMITIVE_PREFIX = "$deleteFromPrimitiveList/"


def strategic_merge_patch(
    doc: dict[str, Any], patch: dict[str, Any], *, api_version: str, kind: str
) -> dict[str, Any]:
    """Apply a strategic merge patch; custom resources get JSON merge patch semantics."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object", status=400)
    if not supports_strategic(api_version, kind):
        result = merge_patch(doc, patch)
        return result if isinstance(result, dict) else {}
    merged = _merge_map(copy.deepcopy(doc), patch, list_rules_for(api_version, kind))
    return merged if merged is not None else {}


def _merge_map(original: dict[str, Any], patch: dict[str, Any], rules: Struct | None) -> dict[str, Any] | None:
    """Merge ``patch`` into ``original`` (modified in place); None means the map was deleted."""
    directive = patch.get(_DIRECTIVE)
    if directive == "delete":
        return None
    if directive == "replace":
        return _merge_map({}, {k: v for k, v in patch.items() if k != _DIRECTIVE}, rules)
    if directive not in (None, "merge"):
        raise PatchError(f"unknown patch directive {directive!r}")
    retain = patch.get(_RETAIN_KEYS)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError("$retainKeys must be a list")
        for key in [k for k in original if k not in retain]:
            del original[key]
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVE_PREFIX):
            name = key[len(_DELETE_PRIMITIVE_PREFIX) :]
            if isinstance(original.get(name), list) and isinstance(value, list):
                original[name] = [item for item in original[name] if item not in value]
            continue
        if key.startswith("$"):
            continue
        if value is None:
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(value, dict):
            merged = _merge_map(current if isinstance(current, dict) else {}, value, _sub_struct(rules, key))
            if merged is None:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, list):
            original[key] = _merge_list(current if isinstance(current, list) else [], value, _list_rule(rules, key))
        else:
            original[key] = copy.deepcopy(value)
    for key, order in patch.items():
        if key.startswith(_ORDER_PREFIX) and isinstance(order, list):
            name = key[len(_ORDER_PREFIX) :]
            if isinstance(original.get(name), list):
                original[name] = _set_order(original[name], order, _list_rule(rules, name))
    return original


def _strip(value: Any, rules: Struct | None) -> Any:
    """A patch value with every directive removed, as it would be stored when nothing merges into it."""
    if isinstance(value, dict):
        merged = _merge_map({}, {k: v for k, v in value.items() if k != _DIRECTIVE}, rules)
        return merged if merged is not None else {}
    return copy.deepcopy(value)


def _merge_list(original: list[Any], patch: list[Any], rule: ListRule | None) -> list[Any]:
    if rule is None:
        return [_strip(item, None) for item in patch if not _is_directive_item(item)]
    if rule.primitive_set:
        result = list(original)
        for item in patch:
            if item not in result:
                result.append(copy.deepcopy(item))
        return result
    if any(isinstance(item, dict) and item.get(_DIRECTIVE) == "replace" for item in patch):
        return [_strip(item, rule.item) for item in patch if not _is_directive_item(item)]
    key = rule.merge_key
    result = [copy.deepcopy(item) for item in original]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"list items merged by {key!r} must be objects")
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        position = next((i for i, old in enumerate(result) if _has_key(old, key, item[key])), None)
        if item.get(_DIRECTIVE) == "delete":
            result = [old for old in result if not _has_key(old, key, item[key])]
        elif position is None:
            result.append(_strip(item, rule.item))
        else:
            merged = _merge_map(result[position], item, rule.item)
            if merged is None:
                del result[position]
            else:
                result[position] = merged
    return result


def _has_key(item: Any, key: str, value: Any) -> bool:
    return isinstance(item, dict) and item.get(key) == value


def _is_directive_item(item: Any) -> bool:
    return isinstance(item, dict) and set(item) == {_DIRECTIVE}


def _set_order(items: list[Any], order: list[Any], rule: ListRule | None) -> list[Any]:
    """Order ``items`` as ``order`` lists them; items it does not name keep their place at the end."""

    def identity(item: Any) -> Any:
        if rule is not None and rule.keys and isinstance(item, dict):
            return item.get(rule.merge_key)
        return item

    wanted = [identity(entry) for entry in order]
    ranked = [item for item in items if identity(item) in wanted]
    ranked.sort(key=lambda item: wanted.index(identity(item)))
    return ranked + [item for item in items if identity(item) not in wanted]
