"""Label and field selectors as the API server parses them from the query string.

Label selector grammar: comma-separated requirements, each one of ``k=v``, ``k==v``, ``k!=v``,
``k in (a,b)``, ``k notin (a,b)``, ``k`` (exists) and ``!k`` (does not exist).
Field selectors allow ``=``, ``==`` and ``!=`` on dotted paths (``metadata.name``, ``type``...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helmkit.sandbox.status import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        return not present or value not in self.values  # notin


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current.clear()
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(text: str) -> list[Requirement]:
    requirements: list[Requirement] = []
    for part in _split_top(text or ""):
        for op in ("!=", "==", "="):
            if op in part and "(" not in part:
                key, _, value = part.partition(op)
                requirements.append(Requirement(key.strip(), "!=" if op == "!=" else "=", (value.strip(),)))
                break
        else:
            match = _SET_RE.match(part)
            if not match:
                raise bad_request(f"unable to parse requirement: {part!r}")
            negated, key, op, values = match.groups()
            if op:
                if negated:
                    raise bad_request(f"unable to parse requirement: {part!r}")
                items = tuple(v.strip() for v in values.split(",") if v.strip())
                requirements.append(Requirement(key, op, items))
            else:
                requirements.append(Requirement(key, "!exists" if negated else "exists"))
    return requirements


def parse_field_selector(text: str) -> list[tuple[str, str, str]]:
    """``[(path, op, value)]`` with op ``=`` or ``!=``."""
    result: list[tuple[str, str, str]] = []
    for part in _split_top(text or ""):
        for op in ("!=", "==", "="):
            if op in part:
                key, _, value = part.partition(op)
                result.append((key.strip(), "!=" if op == "!=" else "=", value.strip()))
                break
        else:
            raise bad_request(f"invalid field selector: {part!r}")
    return result


def field_value(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for key in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(key)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def matcher(label_selector: str | None, field_selector: str | None) -> Matcher | None:
    """A predicate for objects, or None when both selectors are empty."""
    labels = parse_label_selector(label_selector or "")
    fields = parse_field_selector(field_selector or "")
    if not labels and not fields:
        return None

    def matches(obj: dict[str, Any]) -> bool:
        if labels:
            obj_labels = obj.get("metadata", {}).get("labels") or {}
            if not all(r.matches(obj_labels) for r in labels):
                return False
        for path, op, value in fields:
            equal = field_value(obj, path) == value
            if equal != (op == "="):
                return False
        return True

    return matches
