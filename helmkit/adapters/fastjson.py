"""JSON decoding for the large documents helmkit reads: API list responses and Helm release records.

:func:`loads` decodes with msgspec (C, about twice the speed of the standard library on API
responses), falling back to :mod:`json` for what msgspec refuses but Go accepts (numbers beyond
a float's range). :func:`loads_release` decodes a Helm release record into only the fields
helmkit reads: the chart's templates and files (megabytes of CRDs and dashboards in a record)
are scanned past, never built into Python objects.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec


def canonical(value: Any) -> bytes:
    """``value`` as compact JSON with sorted keys, for digests (msgspec: about ten times the speed of
    ``json.dumps(sort_keys=True)`` on megabytes of CRD schemas); what it cannot encode (keys that are
    not strings) goes through :mod:`json`, values it does not know as ``str()``."""
    try:
        return msgspec.json.encode(value, order="sorted")
    except (TypeError, msgspec.EncodeError):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def loads(data: bytes | str) -> Any:
    """Like :func:`json.loads`; raises ValueError on invalid JSON."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


class _Chart(msgspec.Struct):
    metadata: Any = None  # decoded loosely below: only its three fields are kept


class _Record(msgspec.Struct):
    name: Any = None
    namespace: Any = None
    version: Any = None
    info: Any = None
    chart: _Chart | None = None
    config: Any = None
    manifest: Any = None
    hooks: Any = None
    apply_method: Any = None


def loads_release(data: bytes) -> Any:
    """The fields of a Helm release record helmkit reads, as :func:`json.loads` would give them."""
    try:
        record = msgspec.json.decode(data, type=_Record)
    except msgspec.ValidationError:
        return loads(data)  # valid JSON of another shape: let the caller judge it
    doc: dict[str, Any] = {}
    for field in _Record.__struct_fields__:
        value = getattr(record, field)
        if field == "chart":
            metadata = value.metadata if value is not None else None
            value = {"metadata": {k: v for k, v in metadata.items() if k in ("name", "version", "appVersion")}
                     } if isinstance(metadata, dict) else None
        if value is not None:
            doc[field] = value
    return doc
