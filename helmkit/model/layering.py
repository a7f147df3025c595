"""Deep merge of layers with provenance, and the `--set` layer.

Rules (Helm's): maps merge deeply, lists replace, an explicit ``null`` replaces (and so removes,
once Helm coalesces with the chart defaults) whatever was below. Merges never mutate their
inputs: the data of one layer is shared by every cluster it applies to.

Provenance is a flat dict from the path of each merged leaf (a scalar, a list, an empty map or
a null) to its :class:`~helmkit.model.instance.Origin`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helmkit.errors import InputError, Location, Problem
from helmkit.model.instance import Origin
from helmkit.model.yamlfile import Path_, parse_yaml

OriginOf = Callable[[Path_], Origin]


def merge(
    base: dict[str, Any],
    overlay: dict[str, Any],
    provenance: dict[Path_, Origin],
    origin_of: OriginOf,
    prefix: Path_ = (),
) -> dict[str, Any]:
    """``overlay`` merged over ``base`` (a new dict); ``provenance`` is updated in place.

    ``origin_of`` gives the origin of a path relative to ``overlay``; ``prefix`` is where
    ``overlay`` sits in the merged tree.
    """
    result = dict(base)
    for key, value in overlay.items():
        path = (*prefix, key)
        old = result.get(key, _MISSING)
        if isinstance(value, dict) and isinstance(old, dict):
            if value:
                if not old:
                    provenance.pop(path, None)
                result[key] = merge(old, value, provenance, _shifted(origin_of, key), path)
            continue
        if old is not _MISSING:
            forget(provenance, path, old)
        result[key] = value
        record(provenance, path, value, _shifted(origin_of, key))
    return result


_MISSING: Any = object()


def _shifted(origin_of: OriginOf, key: str | int) -> OriginOf:
    def shifted(path: Path_) -> Origin:
        return origin_of((key, *path))

    return shifted


def record(provenance: dict[Path_, Origin], path: Path_, value: Any, origin_of: OriginOf, rel: Path_ = ()) -> None:
    """Record the origin of every leaf under ``value`` (at ``path``)."""
    if isinstance(value, dict) and value:
        for key, child in value.items():
            record(provenance, (*path, key), child, origin_of, (*rel, key))
    else:
        provenance[path] = origin_of(rel)


def forget(provenance: dict[Path_, Origin], path: Path_, old: Any) -> None:
    """Drop the provenance of everything that was at ``path``."""
    if isinstance(old, dict) and old:
        size = len(path)
        for key in [k for k in provenance if k[:size] == path]:
            del provenance[key]
    else:
        provenance.pop(path, None)


def coalesce(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` merged over ``base`` by the same rules as :func:`merge`, without provenance."""
    result = dict(base)
    for key, value in overlay.items():
        old = result.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            if value:
                result[key] = coalesce(old, value)
        else:
            result[key] = value
    return result


def without_nulls(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every null-valued key removed (what Helm keeps after coalescing).

    Maps without nulls inside are returned as they are (not copied).
    """
    result: dict[str, Any] = {}
    changed = False
    for key, value in values.items():
        if value is None:
            changed = True
            continue
        cleaned = without_nulls(value) if isinstance(value, dict) else value
        changed = changed or cleaned is not value
        result[key] = cleaned
    return result if changed else values


def parse_set(assignments: list[str]) -> tuple[dict[str, Any], dict[Path_, str]]:
    """``--set a.b=value`` assignments as one overlay map; values typed like YAML scalars.

    A dot inside a key is written ``\\.``. Returns the overlay and, per path, the assignment
    as written (for provenance).
    """
    overlay: dict[str, Any] = {}
    written: dict[Path_, str] = {}
    problems: list[Problem] = []
    for text in assignments:
        key, sep, raw = text.partition("=")
        parts = split_key(key)
        if not sep or not parts or any(not p for p in parts):
            problems.append(Problem(
                f"--set {text!r}: expected key.path=value", Location("--set"),
                "for example --set image.tag=1.4.2 (write a literal dot in a key as \\.)",
            ))
            continue
        value = _scalar(raw)
        node = overlay
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
        written[tuple(parts)] = key
    if problems:
        raise InputError(problems)
    return overlay, written


def split_key(key: str) -> list[str]:
    """The keys of a ``--set`` name: ``a.b\\.c`` -> ``[a, b.c]`` (a backslash escapes the next character)."""
    parts: list[str] = []
    current = ""
    escaped = False
    for char in key:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _scalar(raw: str) -> Any:
    if raw == "":
        return ""
    try:
        doc = parse_yaml(raw, "--set", max_depth=1, max_nodes=1)
    except InputError:
        return raw
    value = doc.data
    return value if value is None or isinstance(value, str | int | float | bool) else raw
