"""Values helpers of :mod:`fleetgen`: helm's merge, helmkit's ``${...}`` interpolation, and the split
of a values tree into its static part and the part that must be resolved per cluster."""

from __future__ import annotations

import copy
import re
from typing import Any

Values = dict[str, Any]


def merge(low: Values, high: Values) -> Values:
    """Helm's rule: maps merge deeply, everything else (lists included) replaces."""
    out = copy.deepcopy(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def interpolate(value: Any, context: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\$\{([a-z.]+)\}", lambda m: context[m.group(1)], value)
    if isinstance(value, dict):
        return {k: interpolate(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    return value


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


def split_templated(values: Values) -> tuple[Values, Values]:
    """(static part, part with ``${...}`` strings); a list holding one templated string counts as templated."""
    static: Values = {}
    templated: Values = {}
    for key, value in values.items():
        if isinstance(value, dict):
            low, high = split_templated(value)
            if low:
                static[key] = low
            if high:
                templated[key] = high
        elif _templated(value):
            templated[key] = value
        else:
            static[key] = value
    return static, templated


def overlap(a: Values, b: Values, path: str = "") -> str | None:
    for key, value in a.items():
        if key in b:
            if isinstance(value, dict) and isinstance(b[key], dict):
                found = overlap(value, b[key], f"{path}/{key}")
                if found:
                    return found
            else:
                return f"{path}/{key}"
    return None
