"""Decode the protobuf messages of :mod:`helmkit.sandbox.protoschema` into the JSON form of the object.

Go's protobuf encoding writes every non-pointer field, set or not, so a decoded empty string,
zero or false is dropped (JSON would omit it) unless the field is a pointer whose zero value
means something (:data:`ZERO_KEPT`: ``replicas: 0``, ``suspend: false``...). Messages are kept
even when empty (``resources: {}``), as Go's JSON writes them; embedded structs are inlined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from helmkit.sandbox.protoschema import SCHEMA
from helmkit.sandbox.protowire import int64, iter_fields, parse

ObjectMetaDecoder = Callable[[bytes], dict[str, Any]]

# pointer fields whose zero value is meaningful (a present 0/false/"" is kept)
ZERO_KEPT = frozenset({
    "replicas", "revisionHistoryLimit", "progressDeadlineSeconds", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "automountServiceAccountToken", "enableServiceLinks", "shareProcessNamespace",
    "hostUsers", "setHostnameAsFQDN", "priority", "runAsUser", "runAsGroup", "runAsNonRoot", "readOnlyRootFilesystem",
    "privileged", "allowPrivilegeEscalation", "fsGroup", "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes",
    "completions", "parallelism", "ttlSecondsAfterFinished", "suspend", "manualSelector", "startingDeadlineSeconds",
    "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "partition", "optional", "defaultMode", "mode",
    "expirationSeconds", "allocateLoadBalancerNodePorts", "minReplicas", "value",
})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # s, i, b, q, o, ObjectMeta / LabelSelector / another message name
    repeated: bool = False
    inline: bool = False
    map_of: str | None = None  # "s" or "q" for maps


def _parse_schema(text: str) -> dict[str, dict[int, FieldSpec]]:
    messages: dict[str, dict[int, FieldSpec]] = {}
    current: dict[int, FieldSpec] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        words = line.split()
        if not line.startswith(" "):
            current = messages.setdefault(words.pop(0), {})
        for word in words:
            number, name, code = word.split(":", 2)
            inline = code.startswith("^")
            code = code.lstrip("^")
            repeated = code.endswith("*")
            code = code.rstrip("*")
            map_of = code[1:] if code.startswith("M") else None
            current[int(number)] = FieldSpec(name, code.lstrip(".") if map_of is None else "", repeated, inline,
                                             map_of)
    return messages


MESSAGES: Mapping[str, Mapping[int, FieldSpec]] = MappingProxyType(_parse_schema(SCHEMA))


def _quantity(data: bytes) -> str:
    return bytes(parse(data).get(1, [b""])[-1]).decode()


def _int_or_string(data: bytes) -> int | str:
    fields = parse(data)
    if (fields.get(1) or [0])[-1] == 1:
        return bytes((fields.get(3) or [b""])[-1]).decode()
    return int64((fields.get(2) or [0])[-1])


def _scalar(code: str, value: Any) -> Any:
    if code == "s":
        return bytes(value).decode()
    if code == "i":
        return int64(value)
    if code == "b":
        return bool(value)
    if code == "q":
        return _quantity(value)
    if code == "o":
        return _int_or_string(value)
    raise ValueError(f"protobuf: unknown field type {code!r}")


def _ints(values: list[Any]) -> list[int]:
    result: list[int] = []
    for value in values:
        if isinstance(value, int):
            result.append(int64(value))
        else:  # packed
            result.extend(int64(v) for _, _, v in iter_fields(_packed_as_fields(bytes(value))))
    return result


def _packed_as_fields(data: bytes) -> bytes:
    """Packed varints re-framed as field-1 varints, so the wire reader can walk them."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        end = pos
        while data[end] & 0x80:
            end += 1
        out += b"\x08" + data[pos : end + 1]
        pos = end + 1
    return bytes(out)


def decode_message(name: str, data: bytes, object_meta: ObjectMetaDecoder) -> dict[str, Any]:
    """The JSON form of message ``name`` (a :data:`MESSAGES` entry) encoded in ``data``."""
    spec = MESSAGES[name]
    out: dict[str, Any] = {}
    for number, values in parse(data).items():
        field = spec.get(number)
        if field is None:
            continue
        if field.map_of is not None:
            entries = {}
            for entry in values:
                parsed = parse(entry)
                key = bytes((parsed.get(1) or [b""])[-1]).decode()
                entries[key] = _scalar(field.map_of, (parsed.get(2) or [b""])[-1])
            out[field.name] = entries
        elif field.repeated:
            if field.type == "i":
                out[field.name] = _ints(values)
            else:
                out[field.name] = [_value(field, item, object_meta) for item in values]
        elif field.inline:
            out.update(_value(field, values[-1], object_meta))
        else:
            value = _value(field, values[-1], object_meta)
            if value in ("", 0, False) and not isinstance(value, dict) and field.type != "o" \
                    and field.name not in ZERO_KEPT:
                continue
            out[field.name] = value
    return out


def _value(field: FieldSpec, value: Any, object_meta: ObjectMetaDecoder) -> Any:
    if field.type == "ObjectMeta":
        return object_meta(bytes(value))
    if field.type in MESSAGES:
        return decode_message(field.type, bytes(value), object_meta)
    return _scalar(field.type, value)
