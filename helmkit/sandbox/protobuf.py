"""Kubernetes protobuf bodies (``application/vnd.kubernetes.protobuf``) of a few kinds.

A body is the magic ``k8s\\x00`` followed by a ``runtime.Unknown`` message: 1 TypeMeta
(1 apiVersion, 2 kind), 2 raw (the object's own message), 3 contentEncoding, 4 contentType.
:func:`decode` turns Secret, ConfigMap, DeleteOptions and Status bodies into the dict the JSON
body of the same object gives; :func:`encode` writes Secret and ConfigMap. Field numbers follow
``k8s.io/api/core/v1/generated.proto`` and ``k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto``.
Unknown fields are skipped. The wire format itself is :mod:`helmkit.sandbox.protowire`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from helmkit.sandbox.protomessages import decode_message
from helmkit.sandbox.protowire import Fields, field_bytes, field_str, field_varint, int64, last, parse

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

# --------------------------------------------------------------------------------------------
# decoding helpers


def _str(value: bytes) -> str:
    return value.decode("utf-8")


def _set_str(out: dict[str, Any], name: str, fields: Fields, number: int, *, keep_empty: bool = False) -> None:
    value = last(fields, number)
    if value is not None and (value or keep_empty):
        out[name] = _str(value)


def _map(entries: list[bytes], convert: Callable[[bytes], Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for entry in entries:
        parsed = parse(entry)
        key = last(parsed, 1)
        value = last(parsed, 2)
        result[_str(key or b"")] = convert(value or b"")
    return result


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


# --------------------------------------------------------------------------------------------
# meta/v1 messages


def _time(data: bytes) -> str | None:
    fields = parse(data)
    seconds = int64(last(fields, 1) or 0)
    if seconds == 0 and not last(fields, 2):
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner_reference(data: bytes) -> dict[str, Any]:
    fields = parse(data)
    ref: dict[str, Any] = {}
    _set_str(ref, "apiVersion", fields, 5, keep_empty=True)
    _set_str(ref, "kind", fields, 1, keep_empty=True)
    _set_str(ref, "name", fields, 3, keep_empty=True)
    _set_str(ref, "uid", fields, 4, keep_empty=True)
    for name, number in (("controller", 6), ("blockOwnerDeletion", 7)):
        value = last(fields, number)
        if value is not None:
            ref[name] = bool(value)
    return ref


def _managed_fields_entry(data: bytes) -> dict[str, Any]:
    fields = parse(data)
    entry: dict[str, Any] = {}
    _set_str(entry, "manager", fields, 1)
    _set_str(entry, "operation", fields, 2)
    _set_str(entry, "apiVersion", fields, 3)
    time = last(fields, 4)
    if time is not None and (stamp := _time(time)) is not None:
        entry["time"] = stamp
    _set_str(entry, "fieldsType", fields, 6)
    fields_v1 = last(fields, 7)
    if fields_v1 is not None:
        raw = last(parse(fields_v1), 1)
        entry["fieldsV1"] = json.loads(raw) if raw else {}
    _set_str(entry, "subresource", fields, 8)
    return entry


def _object_meta(data: bytes) -> dict[str, Any]:
    fields = parse(data)
    meta: dict[str, Any] = {}
    for name, number in (("name", 1), ("generateName", 2), ("namespace", 3), ("selfLink", 4), ("uid", 5),
                         ("resourceVersion", 6)):
        _set_str(meta, name, fields, number)
    generation = last(fields, 7)
    if generation:
        meta["generation"] = int64(generation)
    for name, number in (("creationTimestamp", 8), ("deletionTimestamp", 9)):
        raw = last(fields, number)
        if raw is not None and (stamp := _time(raw)) is not None:
            meta[name] = stamp
    grace = last(fields, 10)
    if grace is not None:
        meta["deletionGracePeriodSeconds"] = int64(grace)
    for name, number in (("labels", 11), ("annotations", 12)):
        if number in fields:
            meta[name] = _map(fields[number], _str)
    if 13 in fields:
        meta["ownerReferences"] = [_owner_reference(item) for item in fields[13]]
    if 14 in fields:
        meta["finalizers"] = [_str(item) for item in fields[14]]
    if 17 in fields:
        meta["managedFields"] = [_managed_fields_entry(item) for item in fields[17]]
    return meta


def _list_meta(data: bytes) -> dict[str, Any]:
    fields = parse(data)
    meta: dict[str, Any] = {}
    for name, number in (("selfLink", 1), ("resourceVersion", 2), ("continue", 3)):
        _set_str(meta, name, fields, number)
    remaining = last(fields, 4)
    if remaining is not None:
        meta["remainingItemCount"] = int64(remaining)
    return meta


# --------------------------------------------------------------------------------------------
# kinds


def _optional_bool(out: dict[str, Any], name: str, fields: Fields, number: int) -> None:
    value = last(fields, number)
    if value is not None:
        out[name] = bool(value)


def _secret(fields: Fields, out: dict[str, Any]) -> None:
    if 2 in fields:
        out["data"] = _map(fields[2], _base64)
    _set_str(out, "type", fields, 3)
    if 4 in fields:
        out["stringData"] = _map(fields[4], _str)
    _optional_bool(out, "immutable", fields, 5)


def _config_map(fields: Fields, out: dict[str, Any]) -> None:
    if 2 in fields:
        out["data"] = _map(fields[2], _str)
    if 3 in fields:
        out["binaryData"] = _map(fields[3], _base64)
    _optional_bool(out, "immutable", fields, 4)


def _delete_options(fields: Fields, out: dict[str, Any]) -> None:
    grace = last(fields, 1)
    if grace is not None:
        out["gracePeriodSeconds"] = int64(grace)
    preconditions = last(fields, 2)
    if preconditions is not None:
        parsed = parse(preconditions)
        out["preconditions"] = {}
        _set_str(out["preconditions"], "uid", parsed, 1, keep_empty=True)
        _set_str(out["preconditions"], "resourceVersion", parsed, 2, keep_empty=True)
    _optional_bool(out, "orphanDependents", fields, 3)
    _set_str(out, "propagationPolicy", fields, 4, keep_empty=True)
    if 5 in fields:
        out["dryRun"] = [_str(item) for item in fields[5]]


def _status_cause(data: bytes) -> dict[str, Any]:
    fields = parse(data)
    cause: dict[str, Any] = {}
    for name, number in (("reason", 1), ("message", 2), ("field", 3)):
        _set_str(cause, name, fields, number)
    return cause


def _status(fields: Fields, out: dict[str, Any]) -> None:
    out["metadata"] = _list_meta(last(fields, 1) or b"")
    for name, number in (("status", 2), ("message", 3), ("reason", 4)):
        _set_str(out, name, fields, number)
    details = last(fields, 5)
    if details is not None:
        parsed = parse(details)
        out["details"] = {}
        for name, number in (("name", 1), ("group", 2), ("kind", 3), ("uid", 6)):
            _set_str(out["details"], name, parsed, number)
        if 4 in parsed:
            out["details"]["causes"] = [_status_cause(item) for item in parsed[4]]
        retry = last(parsed, 5)
        if retry:
            out["details"]["retryAfterSeconds"] = retry
    code = last(fields, 6)
    if code:
        out["code"] = int64(code)


def _namespace(fields: Fields, out: dict[str, Any]) -> None:
    spec = last(fields, 2)
    if spec is not None:
        finalizers = parse(spec).get(1, [])
        out["spec"] = {"finalizers": [_str(item) for item in finalizers]} if finalizers else {}


_WITH_METADATA = {"Secret": _secret, "ConfigMap": _config_map, "Namespace": _namespace}
_WITHOUT_METADATA = {"DeleteOptions": _delete_options, "Status": _status}
# kinds decoded from the field table of helmkit.sandbox.protoschema
GENERIC_KINDS = frozenset({
    "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Service", "ServiceAccount", "ResourceQuota", "Pod",
    "PersistentVolumeClaim", "Endpoints", "Job", "CronJob", "Role", "ClusterRole", "RoleBinding",
    "ClusterRoleBinding", "PriorityClass", "PodDisruptionBudget", "Ingress", "IngressClass", "NetworkPolicy",
})
SUPPORTED_KINDS = (*_WITH_METADATA, *_WITHOUT_METADATA, *sorted(GENERIC_KINDS))


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf request body; ``ValueError`` for malformed bodies or other kinds."""
    if not body.startswith(MAGIC):
        raise ValueError("protobuf: body does not start with the k8s\\0 magic prefix")
    unknown = parse(body[len(MAGIC) :])
    type_meta = parse(last(unknown, 1) or b"")
    api_version = _str(last(type_meta, 1) or b"")
    kind = _str(last(type_meta, 2) or b"")
    encoding = _str(last(unknown, 3) or b"")
    if encoding:
        raise ValueError(f"protobuf: content encoding {encoding!r} is not supported")
    raw = last(unknown, 2) or b""
    fields = parse(raw)
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    if kind in _WITH_METADATA:
        out["metadata"] = _object_meta(last(fields, 1) or b"")
        _WITH_METADATA[kind](fields, out)
    elif kind in _WITHOUT_METADATA:
        _WITHOUT_METADATA[kind](fields, out)
    elif kind in GENERIC_KINDS:
        out.update(decode_message(kind, raw, _object_meta))
    else:
        supported = ", ".join(SUPPORTED_KINDS)
        raise ValueError(f"protobuf: kind {kind or '(none)'!r} is not supported (supported: {supported})")
    return out


# --------------------------------------------------------------------------------------------
# encoding


def _encode_map(number: int, values: dict[str, Any], convert: Callable[[Any], bytes]) -> bytes:
    return b"".join(
        field_bytes(number, field_str(1, key) + field_bytes(2, convert(values[key]))) for key in sorted(values)
    )


def _encode_time(stamp: str) -> bytes:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return field_varint(1, int(moment.timestamp()))


_OWNER_FIELDS = (("kind", 1), ("name", 3), ("uid", 4), ("apiVersion", 5))


def _encode_object_meta(meta: dict[str, Any]) -> bytes:
    out = bytearray()
    for name, number in (("name", 1), ("generateName", 2), ("namespace", 3), ("selfLink", 4), ("uid", 5),
                         ("resourceVersion", 6)):
        if meta.get(name):
            out += field_str(number, str(meta[name]))
    if meta.get("generation"):
        out += field_varint(7, int(meta["generation"]))
    for name, number in (("creationTimestamp", 8), ("deletionTimestamp", 9)):
        if meta.get(name):
            out += field_bytes(number, _encode_time(str(meta[name])))
    if meta.get("deletionGracePeriodSeconds") is not None:
        out += field_varint(10, int(meta["deletionGracePeriodSeconds"]))
    for name, number in (("labels", 11), ("annotations", 12)):
        if name in meta:
            out += _encode_map(number, meta[name], lambda value: str(value).encode("utf-8"))
    for ref in meta.get("ownerReferences") or ():
        body = b"".join(field_str(number, ref.get(name, "")) for name, number in _OWNER_FIELDS)
        for name, number in (("controller", 6), ("blockOwnerDeletion", 7)):
            if ref.get(name) is not None:
                body += field_varint(number, int(bool(ref[name])))
        out += field_bytes(13, body)
    for finalizer in meta.get("finalizers") or ():
        out += field_str(14, finalizer)
    for entry in meta.get("managedFields") or ():
        body = b""
        for name, number in (("manager", 1), ("operation", 2), ("apiVersion", 3)):
            if entry.get(name):
                body += field_str(number, entry[name])
        if entry.get("time"):
            body += field_bytes(4, _encode_time(entry["time"]))
        if entry.get("fieldsType"):
            body += field_str(6, entry["fieldsType"])
        if "fieldsV1" in entry:
            raw = json.dumps(entry["fieldsV1"], separators=(",", ":"), sort_keys=True).encode("utf-8")
            body += field_bytes(7, field_bytes(1, raw))
        if entry.get("subresource"):
            body += field_str(8, entry["subresource"])
        out += field_bytes(17, body)
    return bytes(out)


def _from_base64(value: Any) -> bytes:
    return base64.b64decode(str(value))


def _encode_secret(obj: dict[str, Any]) -> bytes:
    out = field_bytes(1, _encode_object_meta(obj.get("metadata") or {}))
    if "data" in obj:
        out += _encode_map(2, obj["data"], _from_base64)
    if obj.get("type"):
        out += field_str(3, obj["type"])
    if "stringData" in obj:
        out += _encode_map(4, obj["stringData"], lambda value: str(value).encode("utf-8"))
    if obj.get("immutable") is not None:
        out += field_varint(5, int(bool(obj["immutable"])))
    return out


def _encode_config_map(obj: dict[str, Any]) -> bytes:
    out = field_bytes(1, _encode_object_meta(obj.get("metadata") or {}))
    if "data" in obj:
        out += _encode_map(2, obj["data"], lambda value: str(value).encode("utf-8"))
    if "binaryData" in obj:
        out += _encode_map(3, obj["binaryData"], _from_base64)
    if obj.get("immutable") is not None:
        out += field_varint(4, int(bool(obj["immutable"])))
    return out


_ENCODERS = {"Secret": _encode_secret, "ConfigMap": _encode_config_map}


def encode(obj: dict[str, Any]) -> bytes:
    """The protobuf body of a Secret or ConfigMap; ``ValueError`` for other kinds."""
    kind = str(obj.get("kind", ""))
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        raise ValueError(f"protobuf: cannot encode kind {kind or '(none)'!r} (supported: Secret, ConfigMap)")
    type_meta = field_str(1, str(obj.get("apiVersion", "v1"))) + field_str(2, kind)
    unknown = field_bytes(1, type_meta) + field_bytes(2, encoder(obj)) + field_str(4, CONTENT_TYPE)
    return MAGIC + unknown
