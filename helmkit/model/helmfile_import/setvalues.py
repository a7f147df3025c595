"""helmfile ``set:`` entries as the values helm's ``--set`` makes of them.

helmfile passes each entry as ``--set name=value`` (``values: [a, b]`` as ``name={a,b}``), after
every values file. helm types the text: ``true``/``false`` (any case) are booleans, ``null`` removes
the key, a decimal integer without a leading zero is an integer, anything else stays a string
(``1.5`` and ``007`` too); ``setString`` entries (newer helmfiles, ``--set-string``) stay strings.
A dot in a name separates keys unless written ``\\.``.
"""

from __future__ import annotations

import re
from typing import Any

from helmkit.model.layering import split_key

_INT = re.compile(r"^[+-]?[1-9][0-9]*$")
_INT64 = 2**63


def typed(text: str) -> Any:
    """What helm's ``--set`` makes of ``text``."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if _INT.match(text) and -_INT64 <= int(text) < _INT64:
        return int(text)
    return text


def key_path(name: str) -> list[str] | None:
    """The keys of a ``--set`` name (``a.b\\.c`` -> ``[a, b.c]``); None for list indexes (``a[0]``)."""
    if "[" in name or not name:
        return None
    keys = split_key(name)
    return None if any(k == "" for k in keys) else keys


def as_text(value: Any) -> str:
    """helmfile reads ``value:`` into a string: YAML ``true`` is ``true``, ``3`` is ``3``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def set_entry_values(entry: dict[str, Any], *, as_string: bool = False) -> dict[str, Any] | None:
    """The values one ``set`` entry writes, as a nested map; None when it cannot be translated.

    ``as_string``: a ``setString`` entry (newer helmfiles; ``--set-string``), never typed."""
    if entry.get("file"):
        return None
    keys = key_path(str(entry.get("name") or ""))
    if keys is None:
        return None
    kind = as_text if as_string else (lambda v: typed(as_text(v)))
    items = entry.get("values")
    value: Any = [kind(v) for v in items] if items else kind(entry.get("value"))
    result: dict[str, Any] = {}
    node = result
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return result


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base``: maps merge, anything else replaces (nulls are kept: helm removes them)."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result
