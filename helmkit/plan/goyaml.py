"""Rendered manifests read as helm reads them.

Helm reads a rendered manifest with ``sigs.k8s.io/yaml``: go-yaml v2 (``go.yaml.in/yaml/v2``)
decodes each document into Go values, which become JSON, which the API server receives. PyYAML's
own rules are YAML 1.1's and differ (``=`` is the ``value`` tag it cannot construct, ``1:20`` is
a base-60 number, ``y``/``n`` are strings, ``1e3`` is a string, timestamps become ``datetime``).
:class:`HelmYamlLoader` keeps PyYAML's C scanner and parser and replaces the resolver and the
constructors with go-yaml v2's rules (``resolve.go`` and ``decode.go`` of v2.4), then turns the
result into what its JSON holds:

- plain scalars: ``""``, ``~``, ``null``/``Null``/``NULL`` are null; ``y Y yes Yes YES true True
  TRUE on On ON`` are true, ``n N no No NO false False FALSE off Off OFF`` false; ``.inf``,
  ``-.inf``, ``.nan`` (and case variants) floats; a scalar starting with a digit or a sign is an
  integer as Go's ``strconv.ParseInt(s, 0, 64)`` reads it once ``_`` are removed (``0777`` octal,
  ``0o17``, ``0x1F``, ``0b101``, ``+12``), else an unsigned one, else a float when it matches
  ``[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?`` (``1e3``, ``09``); one starting with
  ``.`` a float when it parses as one. Everything else is a string: ``=``, ``<<`` as a value,
  ``1:20``, timestamps (go-yaml hands timestamps to an untyped target as their text).
- quoted scalars and ``!!str`` are strings; ``!!int``/``!!float``/``!!bool``/``!!null``/
  ``!!timestamp`` resolve the text as above and fail when it is something else (``!!float``
  accepts an integer); ``!!binary`` is the base64-decoded bytes as text (invalid UTF-8
  replaced, as Go's JSON encoder does); any other tag (``!foo``, ``!!set``, ``!!omap``) is ignored:
  a scalar is its text, a sequence a list, a mapping a map.
- merge keys (plain ``<<``): the merged map's keys are set where ``<<`` stands, so a later key
  wins over them and an earlier one loses; in a list of maps earlier maps win.
- map keys become strings (``true``, ``1``, floats in Go's shortest float32 form); a null or
  collection key is an error, as in ``sigs.k8s.io/yaml``.
- numbers become what they are after the JSON round trip through the API server: a float with an
  integral value below 1e21 is an integer of its shortest digits (``1e3`` is 1000), an integer
  beyond int64 becomes a float first (``12345678901234567890`` comes back as
  12345678901234567000).
"""

from __future__ import annotations

import base64
import math
import re
import struct
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_PREFIX = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_PREFIX + n for n in ("str", "int", "float", "bool", "null"))
TIMESTAMP, BINARY, MERGE, MAP, SEQ = (_PREFIX + n for n in ("timestamp", "binary", "merge", "map", "seq"))
_RESOLVABLE = frozenset({INT, FLOAT, BOOL, NULL, TIMESTAMP})

_WORDS: dict[str, tuple[str, Any]] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), (BOOL, True)),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), (BOOL, False)),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), (NULL, None)),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), (FLOAT, math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), (FLOAT, math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), (FLOAT, -math.inf)),
}
_HINT: dict[str, str] = {**dict.fromkeys("yYnNtTfFoO~", "M"), "+": "S", "-": "S", ".": ".",
                         **dict.fromkeys("0123456789", "D")}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
                        r"([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]{1,9})?(Z|[-+][0-9]{2}:[0-9]{2})?)?")
_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789"),
           16: frozenset("0123456789abcdefABCDEF")}
_BASES = {"x": 16, "o": 8, "b": 2}
INT64 = 2**63


def resolve_scalar(text: str, tag: str = "") -> tuple[str, Any]:
    """(tag, value) of a scalar as go-yaml v2 resolves it; ``tag`` is an explicit tag, "" for a
    plain scalar. Raises ValueError when the text is not what the explicit tag says."""
    if tag == STR:
        return STR, text
    if tag == TIMESTAMP and _TIMESTAMP.fullmatch(text):
        return TIMESTAMP, text
    resolved, value = _resolve_plain(text)
    if tag in ("", resolved):
        return resolved, value
    if tag == FLOAT and resolved == INT:
        return FLOAT, float(value)
    raise ValueError(f"cannot decode !!{resolved.removeprefix(_PREFIX)} `{text}` "
                     f"as a !!{tag.removeprefix(_PREFIX)}")


def _resolve_plain(text: str) -> tuple[str, Any]:
    hint = _HINT.get(text[:1], "N" if not text else "")
    if not hint:
        return STR, text
    word = _WORDS.get(text)
    if word is not None:
        return word
    if hint == "." and _DOT_FLOAT.fullmatch(text):
        return _finite(text, text)
    if hint in ("D", "S"):
        plain = text.replace("_", "")
        number = _go_int(plain)
        if number is not None:
            return INT, number
        if _YAML_FLOAT.fullmatch(plain):
            return _finite(plain, text)
    return STR, text


def _finite(number: str, text: str) -> tuple[str, Any]:
    value = float(number)
    return (FLOAT, value) if not math.isinf(value) else (STR, text)  # Go: out of range, so a string


def _go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, else ``strconv.ParseUint(text, 0, 64)``, or None."""
    sign, body = 1, text
    if body[:1] in ("+", "-"):
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base, digits = 10, body
    if len(body) > 1 and body[0] == "0":
        base = _BASES.get(body[1].lower(), 8)
        digits = body[2:] if base != 8 or body[1] in "oO" else body[1:]
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    value = sign * int(digits, base)
    if -INT64 <= value < INT64 or (text[0].isdigit() and value < 2 * INT64):
        return value
    return None


def json_number(value: float) -> int | float:
    """A float as the API server gives it back: Go's JSON encoder writes an integral float below
    1e21 as its shortest decimal digits without a point, which read back as an integer."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return int(value) if abs(value) < 2**53 else int(Decimal(repr(value)))
    return value


def go_float_key(value: float) -> str:
    """A float map key as ``sigs.k8s.io/yaml`` writes it: ``strconv.FormatFloat(v, 'g', -1, 32)``."""
    if math.isnan(value):
        return ".nan"
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    for digits in range(1, 10):
        text = f"{single:.{digits - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    exponent = text.partition("e")[2]
    power = int(exponent)
    if power < -4 or power >= 6:
        return text
    return f"{single:.{max(digits - 1 - power, 0)}f}"


def _construct(loader: HelmYamlLoader, node: Node) -> Any:
    if isinstance(node, ScalarNode):
        value = _scalar(node)
        if isinstance(value, float) or (isinstance(value, int) and value >= INT64):
            return json_number(float(value))  # an unsigned 64-bit integer comes back from JSON as a float
        return value
    if isinstance(node, SequenceNode):
        return _sequence(loader, node)
    assert isinstance(node, MappingNode)
    return _mapping(loader, node)


def _scalar(node: ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == STR:
        return text
    if tag in _RESOLVABLE:
        try:
            return resolve_scalar(text, tag)[1]
        except ValueError as exc:
            raise ConstructorError(None, None, str(exc), node.start_mark) from None
    if tag == BINARY:
        try:
            data = base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
        except ValueError:
            raise ConstructorError(None, None, "!!binary value contains invalid base64 data",
                                   node.start_mark) from None
        return data.decode("utf-8", errors="replace")
    return text  # merge, value, local and unknown tags: the text itself


def _sequence(loader: HelmYamlLoader, node: SequenceNode) -> Iterator[list[Any]]:
    data: list[Any] = []
    yield data
    data.extend(loader.construct_object(child) for child in node.value)


def _mapping(loader: HelmYamlLoader, node: MappingNode) -> Iterator[dict[str, Any]]:
    data: dict[str, Any] = {}
    yield data
    _fill(loader, node, data)


def _fill(loader: HelmYamlLoader, node: MappingNode, data: dict[str, Any]) -> None:
    for key_node, value_node in node.value:
        if key_node.tag == MERGE and isinstance(key_node, ScalarNode) and key_node.value == "<<":
            _merge(loader, value_node, data)
            continue
        data[_key(key_node)] = loader.construct_object(value_node)


def _merge(loader: HelmYamlLoader, node: Node, data: dict[str, Any]) -> None:
    if isinstance(node, MappingNode):
        _fill(loader, node, data)
        return
    if isinstance(node, SequenceNode) and all(isinstance(child, MappingNode) for child in node.value):
        for child in reversed(node.value):  # earlier maps take precedence
            _fill(loader, child, data)
        return
    raise ConstructorError(None, None, "map merge requires map or sequence of maps as the value", node.start_mark)


def _key(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        raise ConstructorError(None, None, "invalid map key: a map or a list", node.start_mark)
    key = _scalar(node)
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return go_float_key(key)
    raise ConstructorError(None, None, "unsupported map key: null", node.start_mark)


class HelmYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's C loader with go-yaml v2's resolver and constructors (see the module docstring)."""

    yaml_constructors: ClassVar[dict[Any, Any]] = dict.fromkeys(
        (None, STR, MAP, SEQ, INT, FLOAT, BOOL, NULL, TIMESTAMP, BINARY, MERGE), _construct)
    yaml_multi_constructors: ClassVar[dict[Any, Any]] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return STR
            return MERGE if value == "<<" else _resolve_plain(value)[0]  # a plain << key merges
        return SEQ if kind is SequenceNode else MAP
