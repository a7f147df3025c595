"""Validation of helmkit's own files against the JSON Schemas in ``schemas/``.

The schemas are read from helmkit's own installation only (never from the release repository
or the network): a :class:`referencing.Registry` holds exactly them, so a ``$ref`` to anything
else cannot be resolved. Each error becomes a :class:`~helmkit.errors.Problem` at the file,
line and column of the offending key, with its JSON pointer, the layer, and a hint (an unknown
key suggests the closest known one).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmkit.adapters.cache import ContentCache, content_key
from helmkit.errors import InputError, Problem
from helmkit.model.yamlfile import Path_, YamlDocument

if TYPE_CHECKING:  # imported when a file is checked: a run whose files were all found valid before needs none
    import jsonschema  # type: ignore[import-untyped]

SCHEMA_FILES = ("helmkit", "release", "environment", "cluster", "gates")
_TYPE_NAMES = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
    "object": "a map", "array": "a list", "null": "empty",
}


def schema_dir() -> Path:
    """Where helmkit's schemas are: packaged data first, then the source checkout's ``schemas/``."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "data" / "schemas", package.parent / "schemas"):
        if (candidate / "release.schema.json").is_file():
            return candidate
    raise InputError("helmkit's JSON schemas are missing from its installation", hint="reinstall helmkit")


def json_pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@dataclass
class SchemaSet:
    """The validators of helmkit's file kinds, sharing one registry (built on the first check that needs them).

    ``check`` with ``known``: a document found valid is remembered there under a digest of the
    schemas and of its data, and not checked again while both stay the same (a problem is found
    again on every run: it is reported each time).
    """

    contents: dict[str, bytes]
    _validators: dict[str, jsonschema.protocols.Validator] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, folder: Path | None = None) -> SchemaSet:
        folder = folder or schema_dir()
        return cls({name: (folder / f"{name}.schema.json").read_bytes() for name in SCHEMA_FILES})

    @property
    def validators(self) -> dict[str, jsonschema.protocols.Validator]:
        if self._validators is None:
            import jsonschema
            import referencing
            from referencing.jsonschema import DRAFT202012

            schemas = {name: json.loads(text.decode("utf-8")) for name, text in self.contents.items()}
            registry: referencing.Registry[Any] = referencing.Registry().with_resources(
                (f"{name}.schema.json", DRAFT202012.create_resource(schema)) for name, schema in schemas.items()
            )
            self._validators = {
                name: jsonschema.Draft202012Validator(schema, registry=registry) for name, schema in schemas.items()
            }
        return self._validators

    def check(self, kind: str, doc: YamlDocument, layer: str, *, known: ContentCache | None = None) -> list[Problem]:
        """Problems of ``doc`` against the schema of ``kind`` (helmkit, release, environment, cluster)."""
        data = {} if doc.data is None else doc.data
        key = self._valid_key(kind, data) if known is not None else None
        if key is not None and known is not None and known.get(key) is not None:
            return []
        problems: list[Problem] = []
        for error in self.validators[kind].iter_errors(data):
            problems.extend(_problems(error, doc, layer))
        problems.sort(key=lambda p: (p.location.line or 0, p.location.column or 0) if p.location else (0, 0))
        if key is not None and known is not None and not problems:
            with contextlib.suppress(OSError):
                known.put(key, b"valid")
        return problems

    def _valid_key(self, kind: str, data: Any) -> str | None:
        plain = _plain(data)
        if plain is None:
            return None
        schemas = hashlib.sha256(b"\0".join(self.contents[name] for name in SCHEMA_FILES)).hexdigest()
        return content_key({"schema-check": 1, "schemas": schemas, "kind": kind, "data": plain})


def _plain(value: Any) -> Any:
    """``value`` as JSON with the type of every scalar kept (None if a map has a key that is not a string)."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return None
        items = {k: _plain(v) for k, v in value.items()}
        return None if any(v is None for v in items.values()) else {"map": items}
    if isinstance(value, list):
        entries = [_plain(v) for v in value]
        return None if any(v is None for v in entries) else {"list": entries}
    return {type(value).__name__: value if isinstance(value, str | int | float | bool) or value is None
            else str(value)}


def _problems(error: jsonschema.ValidationError, doc: YamlDocument, layer: str) -> list[Problem]:
    path: Path_ = tuple(error.absolute_path)
    field = str(path[-1]) if path else "document"
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(schema.get("properties", {}))
        problems = []
        for key in error.instance:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean `{close[0]}`?"
            elif known:
                hint = "known keys: " + ", ".join(known)
            else:
                hint = None
            where = (*path, key)
            problems.append(Problem(f"unknown key `{key}`", doc.location(where), hint, json_pointer(where), layer))
        if problems:
            return problems
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else str(error.message)
        return [Problem(f"missing required key `{missing}`", doc.location(path), None, json_pointer(path), layer)]
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected)
        got = _describe(error.instance)
        hint = "quote it: YAML reads unquoted numbers and yes/no/true/false as non-strings" if (
            "string" in expected and isinstance(error.instance, int | float | bool)) else None
        return [Problem(f"`{field}` must be {wanted}, not {got}", doc.location(path), hint, json_pointer(path), layer)]
    custom = schema.get("x-helmkit-message")
    if custom and error.validator in ("pattern", "maxLength", "minLength"):
        return [Problem(f"`{field}`: {error.instance!r} {custom}", doc.location(path), None, json_pointer(path), layer)]
    description = schema.get("description")
    return [Problem(
        f"`{field}`: {error.message}",
        doc.location(path),
        description if isinstance(description, str) else None,
        json_pointer(path),
        layer,
    )]


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return f"{value!r}"

