"""JSON for the sandbox's replies and copies of its objects.

The sandbox answers with API objects of up to megabytes (release records, CRD schemas) on
every request helm makes. :func:`dumps` encodes them with msgspec (C; about seven times the
speed of ``json.dumps`` on kube-prometheus-stack's CRDs), :mod:`json` for what msgspec refuses
(integers beyond 64 bits); :func:`loads` decodes request bodies with msgspec too (twice the speed
of ``json.loads`` on the small bodies of most requests), with :mod:`json` for what msgspec refuses (``NaN``, lone
surrogates), so both read the same. :func:`json_copy` copies decoded JSON about twice as fast as
``copy.deepcopy``: it rebuilds only dicts and lists and shares the immutable leaves.
"""

from __future__ import annotations

import copy
import json
from typing import Any, TypeVar, cast

import msgspec

_IMMUTABLE = (str, int, float, bool, type(None))
T = TypeVar("T")


def dumps(value: Any) -> bytes:
    """Compact JSON (``separators=(",", ":")``), UTF-8."""
    try:
        return msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError, msgspec.MsgspecError):
        return json.dumps(value, separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    """Decoded JSON, as ``json.loads`` decodes it (``ValueError`` for what is not JSON)."""
    try:
        return msgspec.json.decode(data)
    except msgspec.MsgspecError:
        return json.loads(data)


def json_copy(value: T) -> T:
    """A deep copy of decoded JSON (anything else is copied by :func:`copy.deepcopy`)."""
    return cast(T, _copy(value))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)
