"""Server-side apply and ``metadata.managedFields``.

A field path is a tuple of FieldsV1 path elements, as the real ``fieldsV1`` format spells them:
``f:<name>`` for a map field, ``k:{"name":"app"}`` for the item of an associative list (merge
keys from :func:`helmkit.sandbox.patching.list_rules_for`), ``v:<json>`` for a value of a set
list (``finalizers``). A manager's field set is a set of such paths; ``fieldsV1`` is the same set
as a tree, with ``.`` marking a path that is owned itself and also has owned children.

Managers are told apart by name *and* operation (``helm`` applying and ``helm`` updating are two
managers), as on a real server. Lists without a merge key are atomic: one leaf.
"""

from __future__ import annotations

import json
from typing import Any

from helmkit.sandbox.jsoncodec import json_copy
from helmkit.sandbox.patching import ListRule, Struct, list_rules_for

Path = tuple[str, ...]

_IGNORED_TOP = {"apiVersion", "kind", "status"}
_IGNORED_META = {
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "selfLink", "managedFields", "generateName",
}
_KEY_DEFAULTS = {"protocol": "TCP"}


class ApplyConflict(Exception):
    """Fields the apply would change are owned by other managers; ``conflicts`` is (manager, path) pairs."""

    def __init__(self, conflicts: list[tuple[str, str]], *, api_version: str) -> None:
        self.conflicts = conflicts
        by_manager: dict[str, list[str]] = {}
        for manager, path in conflicts:
            by_manager.setdefault(manager, []).append(path)
        count = len(conflicts)
        if count == 1:
            manager, path = conflicts[0]
            detail = f'conflict with "{manager}" using {api_version}: {path}'
        else:
            detail = "\n".join(
                f'conflicts with "{manager}" using {api_version}:\n' + "\n".join(f"- {path}" for path in paths)
                for manager, paths in by_manager.items()
            )
        self.message = f"Apply failed with {count} conflict{'s' if count != 1 else ''}: {detail}"
        super().__init__(self.message)


# --------------------------------------------------------------------------------------------
# paths


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _item_key(item: dict[str, Any], rule: ListRule) -> dict[str, Any]:
    key = {}
    for name in rule.keys:
        if name in item:
            key[name] = item[name]
        elif name in _KEY_DEFAULTS:
            key[name] = _KEY_DEFAULTS[name]
    return key


def _is_keyed(value: list[Any], rule: ListRule | None) -> bool:
    return bool(rule and rule.keys and all(isinstance(item, dict) for item in value))


def _child_rules(rules: Struct | None, name: str) -> Struct | ListRule | None:
    return rules.child(name) if rules else None


def field_set(obj: dict[str, Any], rules: Struct, *, map_markers: bool = False) -> set[Path]:
    """The paths of ``obj`` a manager owns when it sets all of it (identity and status excluded).

    With ``map_markers`` maps of plain strings (labels, annotations, data) are owned themselves
    too, as the field sets of Update operations record them.
    """
    paths: set[Path] = set()
    top = {k: v for k, v in obj.items() if k not in _IGNORED_TOP}
    if isinstance(top.get("metadata"), dict):
        top["metadata"] = {k: v for k, v in top["metadata"].items() if k not in _IGNORED_META}
        if not top["metadata"]:
            del top["metadata"]
    _walk_map(top, rules, (), paths, map_markers)
    return paths


def _walk_map(value: dict[str, Any], rules: Struct | None, path: Path, out: set[Path], markers: bool) -> None:
    if path and (not value or (markers and all(isinstance(v, str) for v in value.values()))):
        out.add(path)
    for name, child in value.items():
        _walk(child, _child_rules(rules, name), (*path, f"f:{name}"), out, markers)


def _walk(value: Any, rule: Struct | ListRule | None, path: Path, out: set[Path], markers: bool) -> None:
    if isinstance(value, dict):
        _walk_map(value, rule if isinstance(rule, Struct) else None, path, out, markers)
    elif isinstance(value, list) and isinstance(rule, ListRule) and rule.primitive_set:
        out.update((*path, f"v:{_dumps(item)}") for item in value)
        if not value:
            out.add(path)
    elif isinstance(value, list) and isinstance(rule, ListRule) and _is_keyed(value, rule) and value:
        for item in value:
            item_path = (*path, f"k:{_dumps(_item_key(item, rule))}")
            out.add(item_path)
            for name, child in item.items():
                _walk(child, _child_rules(rule.item, name), (*item_path, f"f:{name}"), out, markers)
    else:
        out.add(path)


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """The ``fieldsV1`` tree of a set of paths."""
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = tree
        for element in path:
            node = node[element]
        if any(key != "." for key in node):
            node["."] = {}
    return tree


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    """The set of paths a ``fieldsV1`` tree describes."""
    paths: set[Path] = set()
    for key, sub in tree.items():
        if key == ".":
            paths.add(prefix)
        elif isinstance(sub, dict) and sub:
            paths |= from_fields_v1(sub, (*prefix, key))
        else:
            paths.add((*prefix, key))
    return paths


def path_text(path: Path) -> str:
    """A path as conflict messages print it: ``.spec.containers[name="app"].image``."""
    text = ""
    for element in path:
        kind, body = element[:2], element[2:]
        if kind == "f:":
            text += f".{body}"
        elif kind == "k:":
            key = json.loads(body)
            text += "[" + ",".join(f"{name}={_dumps(value)}" for name, value in key.items()) + "]"
        elif kind == "v:":
            text += f"[={body}]"
        else:
            text += f"[{body}]"
    return text


_MISSING = object()


def _lookup(obj: Any, path: Path) -> Any:
    """The value at ``path``, or ``_MISSING``."""
    current = obj
    for element in path:
        kind, body = element[:2], element[2:]
        if kind == "f:" and isinstance(current, dict) and body in current:
            current = current[body]
        elif kind == "k:" and isinstance(current, list):
            key = json.loads(body)
            current = next((item for item in current if _matches(item, key)), _MISSING)
        elif kind == "v:" and isinstance(current, list):
            value = json.loads(body)
            current = value if value in current else _MISSING
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def _matches(item: Any, key: dict[str, Any]) -> bool:
    if not isinstance(item, dict):
        return False
    return all(item.get(name, _KEY_DEFAULTS.get(name)) == value for name, value in key.items())


def _remove(obj: dict[str, Any], path: Path) -> None:
    parent = _lookup(obj, path[:-1])
    kind, body = path[-1][:2], path[-1][2:]
    if kind == "f:" and isinstance(parent, dict):
        parent.pop(body, None)
    elif kind == "k:" and isinstance(parent, list):
        key = json.loads(body)
        parent[:] = [item for item in parent if not _matches(item, key)]
    elif kind == "v:" and isinstance(parent, list):
        value = json.loads(body)
        parent[:] = [item for item in parent if item != value]


# --------------------------------------------------------------------------------------------
# managed fields entries


def _entries(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not obj:
        return []
    return [dict(entry) for entry in (obj.get("metadata") or {}).get("managedFields") or []]


def _entry_paths(entry: dict[str, Any]) -> set[Path]:
    tree = entry.get("fieldsV1")
    return from_fields_v1(tree) if isinstance(tree, dict) else set()


def _is(entry: dict[str, Any], manager: str, operation: str) -> bool:
    return entry.get("manager") == manager and entry.get("operation") == operation and not entry.get("subresource")


def _entry(manager: str, operation: str, api_version: str, now: str, paths: set[Path]) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(paths),
    }


def _write_entries(
    obj: dict[str, Any], entries: list[dict[str, Any]], sets: list[set[Path]], live_paths: set[Path]
) -> None:
    present = {path[:end] for path in live_paths for end in range(1, len(path) + 1)}
    kept = []
    for entry, paths in zip(entries, sets, strict=True):
        owned = paths & present
        if owned:
            entry["fieldsV1"] = to_fields_v1(owned)
            kept.append(entry)
    metadata = obj.setdefault("metadata", {})
    if kept:
        metadata["managedFields"] = kept
    else:
        metadata.pop("managedFields", None)


# --------------------------------------------------------------------------------------------
# server-side apply


def _merge(live: Any, applied: Any, rule: Struct | ListRule | None) -> Any:
    if isinstance(live, dict) and isinstance(applied, dict):
        struct = rule if isinstance(rule, Struct) else None
        result = dict(live)
        for name, value in applied.items():
            result[name] = _merge(live.get(name, _MISSING), value, _child_rules(struct, name))
        return result
    if isinstance(live, list) and isinstance(applied, list) and isinstance(rule, ListRule):
        if rule.primitive_set:
            return live + [item for item in applied if item not in live]
        if _is_keyed(live, rule) and _is_keyed(applied, rule):
            result_list = list(live)
            for item in applied:
                key = _item_key(item, rule)
                index = next((i for i, old in enumerate(result_list) if _matches(old, key)), None)
                if index is None:
                    result_list.append(json_copy(item))
                else:
                    result_list[index] = _merge(result_list[index], item, rule.item)
            return result_list
    return json_copy(applied)


def _prune_empty(obj: dict[str, Any], path: Path, owned: set[Path]) -> None:
    """Drop maps left empty by a removal, walking up while nobody owns them."""
    parent_path = path[:-1]
    while parent_path and parent_path[-1].startswith("f:") and parent_path not in owned:
        value = _lookup(obj, parent_path)
        if value != {}:
            return
        _remove(obj, parent_path)
        parent_path = parent_path[:-1]


def server_side_apply(
    live: dict[str, Any] | None, applied: dict[str, Any], *, manager: str, force: bool, now: str
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` (an apply-patch body) to ``live`` (None: create)."""
    api_version = str(applied.get("apiVersion", ""))
    rules = list_rules_for(api_version, str(applied.get("kind", "")))
    body = {k: v for k, v in json_copy(applied).items() if k != "status"}
    if isinstance(body.get("metadata"), dict):
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k not in _IGNORED_META - {"name", "namespace"}}
    applied_paths = field_set(body, rules)
    if live is None:
        result = body
        _write_entries(result, [_entry(manager, "Apply", api_version, now, applied_paths)], [applied_paths],
                       field_set(result, rules))
        return result

    entries = _entries(live)
    sets = [_entry_paths(entry) for entry in entries]
    mine = next((i for i, entry in enumerate(entries) if _is(entry, manager, "Apply")), None)
    conflicts: list[tuple[str, str]] = []
    for index, (entry, paths) in enumerate(zip(entries, sets, strict=True)):
        if index == mine:
            continue
        for path in sorted(applied_paths & paths):
            if path[-1].startswith(("k:", "v:")):
                continue
            current = _lookup(live, path)
            if current is not _MISSING and not isinstance(current, dict) and current != _lookup(body, path):
                if force:
                    paths.discard(path)
                else:
                    conflicts.append((str(entry.get("manager", "")), path_text(path)))
    if conflicts:
        raise ApplyConflict(conflicts, api_version=api_version)

    result = _merge(json_copy(live), body, rules)
    if not isinstance(result, dict):  # pragma: no cover - both sides are maps
        raise TypeError("apply produced a non-object")
    others = set().union(*(paths for i, paths in enumerate(sets) if i != mine))
    previous = sets[mine] if mine is not None else set()
    removed: list[Path] = []
    for path in sorted(previous - applied_paths, key=len):
        if any(path[: len(done)] == done for done in removed):
            continue
        if any(other[: len(path)] == path for other in others):
            continue
        _remove(result, path)
        removed.append(path)
        _prune_empty(result, path, others | applied_paths)

    new_entry = _entry(manager, "Apply", api_version, now, applied_paths)
    if mine is None:
        entries.append(new_entry)
        sets.append(applied_paths)
    else:
        entries[mine] = new_entry
        sets[mine] = applied_paths
    _write_entries(result, entries, sets, field_set(result, rules, map_markers=True))
    return result


# --------------------------------------------------------------------------------------------
# create / update / patch


def _changed_leaf(old: dict[str, Any], new: dict[str, Any], path: Path) -> bool:
    if path[-1].startswith(("k:", "v:")):
        return False
    value = _lookup(new, path)
    return not isinstance(value, dict) and _lookup(old, path) != value


def record_update(old: dict[str, Any] | None, new: dict[str, Any], *, manager: str, now: str) -> dict[str, Any]:
    """``new`` with managedFields updated for a non-apply write by ``manager`` (operation Update).

    The manager gets the fields it set or changed, taken away from every other manager. A write
    that changes ``metadata.managedFields`` itself is honoured as sent (an empty list clears them).
    ``new`` is left as it is; the result shares all but its top level and ``metadata`` with it
    (only managedFields are written).
    """
    result = dict(new)
    if isinstance(result.get("metadata"), dict):
        result["metadata"] = dict(result["metadata"])
    sent = (result.get("metadata") or {}).get("managedFields")
    if old is not None and sent is not None and sent != (old.get("metadata") or {}).get("managedFields"):
        if not sent:
            result["metadata"].pop("managedFields", None)
        return result
    api_version = str(new.get("apiVersion", ""))
    rules = list_rules_for(api_version, str(new.get("kind", "")))
    new_paths = field_set(result, rules, map_markers=True)
    if old is None:
        changed = new_paths
        entries: list[dict[str, Any]] = []
    else:
        old_paths = field_set(old, rules, map_markers=True)
        changed = {p for p in new_paths if p not in old_paths or _changed_leaf(old, result, p)}
        entries = _entries(old)
    sets = [_entry_paths(entry) - changed for entry in entries]
    mine = next((i for i, entry in enumerate(entries) if _is(entry, manager, "Update")), None)
    if mine is not None:
        if changed:
            sets[mine] = sets[mine] | changed
            entries[mine].update(time=now, apiVersion=api_version)
    elif changed:
        entries.append(_entry(manager, "Update", api_version, now, changed))
        sets.append(changed)
    _write_entries(result, entries, sets, new_paths)
    return result
