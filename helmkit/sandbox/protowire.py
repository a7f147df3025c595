"""The protobuf wire format: read a message into its fields, write fields back.

Only what the Kubernetes bodies of :mod:`helmkit.sandbox.protobuf` need: varints, 64- and 32-bit
fixed values and length-delimited bytes. :func:`parse` gives every field number its values in
order (ints for varints, bytes for the others); the ``field_*`` writers give one encoded field.
Malformed data raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

VARINT = 0
FIXED64 = 1
BYTES = 2
FIXED32 = 5


Fields = dict[int, list[Any]]


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("protobuf: truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("protobuf: varint too long")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field: ints for varints, bytes for the others."""
    pos = 0
    while pos < len(data):
        tag, pos = _read_varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("protobuf: invalid field number 0")
        value: Any
        if wire == VARINT:
            value, pos = _read_varint(data, pos)
        elif wire == FIXED64:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == BYTES:
            length, pos = _read_varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == FIXED32:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"protobuf: unsupported wire type {wire}")
        if pos > len(data):
            raise ValueError("protobuf: truncated message")
        yield number, wire, value


def parse(data: bytes) -> Fields:
    parsed: Fields = {}
    for number, _wire, value in iter_fields(data):
        parsed.setdefault(number, []).append(value)
    return parsed


def int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def last(fields: Fields, number: int) -> Any:
    values = fields.get(number)
    return values[-1] if values else None


def varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, value: bytes) -> bytes:
    return varint(number << 3 | BYTES) + varint(len(value)) + value


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3 | VARINT) + varint(value)


def field_str(number: int, value: str) -> bytes:
    return field_bytes(number, value.encode("utf-8"))
