"""Who changed a field of a live object: its field managers, read from ``metadata.managedFields``.

A field a person changed with ``kubectl scale`` or ``kubectl set image`` is owned (``fieldsV1``) by
that tool's manager (``kubectl-scale``, ``kubectl-set``, ``kubectl-edit``...). A live-drift field is
found by its JSON pointer in the manifest's object: map keys are ``f:<name>``; a list item of a
keyed list is ``k:{"name":"web"}`` (its merge keys), of a set ``v:<value>``, else ``i:<index>``.
Helm's own managers are left out: they wrote what the manifest says, not the drift.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

HELM_MANAGERS = frozenset({"helm", "Helm", "helmkit"})


def field_managers(live: Mapping[str, Any], expected: Any, pointer: str) -> tuple[str, ...]:
    """Managers (not helm's) owning the field at ``pointer`` (of ``expected``) in ``live``, sorted."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    entries = (live.get("metadata") or {}).get("managedFields") or []
    owners: set[str] = set()
    for entry in entries:
        manager = str(entry.get("manager") or "")
        fields = entry.get("fieldsV1")
        if not manager or manager in HELM_MANAGERS or not isinstance(fields, dict):
            continue
        if _owns(fields, expected, tokens):
            owners.add(manager)
    return tuple(sorted(owners))


def _owns(fields: dict[str, Any], node: Any, tokens: list[str]) -> bool:
    current: Any = fields
    for token in tokens:
        if not isinstance(current, dict):
            return False
        if isinstance(node, list):
            try:
                item = node[int(token)]
            except (ValueError, IndexError):
                return False
            current, node = _list_entry(current, item, int(token)), item
        else:
            current = current.get(f"f:{token}")
            node = node.get(token) if isinstance(node, dict) else None
        if current is None:
            return False
    return True


def _list_entry(fields: dict[str, Any], item: Any, index: int) -> Any:
    for key, value in fields.items():
        if key.startswith("k:") and isinstance(item, dict):
            try:
                wanted = json.loads(key[2:])
            except ValueError:
                continue
            if isinstance(wanted, dict) and all(str(item.get(k)) == str(v) for k, v in wanted.items()):
                return value
        elif key.startswith("v:"):
            try:
                if json.loads(key[2:]) == item:
                    return value
            except ValueError:
                continue
    return fields.get(f"i:{index}")
