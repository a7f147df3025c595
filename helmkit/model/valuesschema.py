"""Checking effective values against a chart's ``values.schema.json``, fast and safely.

The schema is used with a registry holding only itself: a ``$ref`` to anything else (network,
other files) is reported, never fetched; a schema that recurses without end is reported too.

A fleet checks the same chart's values hundreds of times with small differences (cluster
names interpolated here and there). :meth:`ValuesSchema.errors` therefore validates a map
against a schema with ``properties`` in two parts: the map's own keywords (``required``,
``additionalProperties``...) with each property schema replaced by ``true``, and each property
value against its own subschema, memoised by the value's content. The result is the same set
of errors as a plain validation, while each distinct subtree is validated once per run.

``pattern`` and ``patternProperties`` are matched with RE2, in linear time, as helm does
(:mod:`helmkit.model.schemaregex`); a pattern RE2 cannot compile is reported at the schema.

Each error points at the layer and file:line that set the offending value: an unexpected key
(``additionalProperties``) at that key, not at its parent map; an error on a whole map
(``required``, ``type``...) at the most specific layer that wrote into it, not at the chart's
defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT7

from helmkit.errors import Location, Problem
from helmkit.model.instance import Origin
from helmkit.model.schemaregex import PatternError, Re2Patterns
from helmkit.model.schemas import json_pointer
from helmkit.model.yamlfile import Path_

SchemaError = tuple[Path_, str]  # (path in the values, message)
LAYER_RANK = {"chart": 0, "defaults": 1, "release": 2, "environment": 3, "cluster": 4, "set": 5}


class ValuesSchema:
    """One chart's values schema with its validator and memo (one per run)."""

    def __init__(self, schema: dict[str, Any], shown: str) -> None:
        self.schema = schema
        self.shown = shown
        registry: referencing.Registry[Any] = referencing.Registry().with_resource(
            "values.schema.json", DRAFT7.create_resource(schema)
        )
        self.patterns = Re2Patterns()
        validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        self.validator = self.patterns.validator_class(validator_class)(schema, registry=registry)
        self._memo: dict[tuple[int, str], list[SchemaError]] = {}
        self._by_identity: dict[tuple[int, int], tuple[Any, list[SchemaError]]] = {}
        self._shells: dict[int, Any] = {}
        self._keep: list[Any] = []  # keeps memoised schemas alive so their ids stay unique

    def errors(self, values: Any) -> list[SchemaError]:
        """Every error of ``values``; raises Unresolvable or RecursionError for a broken schema."""
        return self._errors(self.schema, values)

    def _errors(self, schema: Any, value: Any) -> list[SchemaError]:
        # Layering shares unchanged subtrees between instances: try the object itself first.
        same = self._by_identity.get((id(schema), id(value)))
        if same is not None and same[0] is value:
            return same[1]
        key = (id(schema), json.dumps(value, sort_keys=True, default=str))
        found = self._memo.get(key)
        if found is not None:
            self._by_identity[(id(schema), id(value))] = (value, found)
            return found
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if isinstance(value, dict) and isinstance(properties, dict) and "$id" not in schema:
            shell = self._shell(schema, properties)
            found = self._plain(shell, value)
            for name, subschema in properties.items():
                if name in value:
                    found.extend(((name, *path), message) for path, message in self._errors(subschema, value[name]))
        else:
            found = self._plain(schema, value)
        found.sort(key=lambda item: [str(p) for p in item[0]])
        self._memo[key] = found
        self._by_identity[(id(schema), id(value))] = (value, found)
        self._keep.append(schema)
        return found

    def _plain(self, schema: Any, value: Any) -> list[SchemaError]:
        found: list[SchemaError] = []
        for error in self.validator.evolve(schema=schema).iter_errors(value):
            path = tuple(error.absolute_path)
            if error.validator == "additionalProperties" and error.validator_value is False \
                    and isinstance(error.instance, dict) and isinstance(error.schema, dict):
                # one error per unexpected key, at that key: its own layer and line
                found += [((*path, key), f"Additional properties are not allowed ({key!r} was unexpected)")
                          for key in self.patterns.extras(error.instance, error.schema)]
            else:
                found.append((path, error.message))
        return found

    def _shell(self, schema: dict[str, Any], properties: dict[str, Any]) -> Any:
        shell = self._shells.get(id(schema))
        if shell is None:
            shell = self._shells[id(schema)] = {**schema, "properties": dict.fromkeys(properties, True)}
        return shell

    def problems(self, values: Any, provenance: Callable[[], dict[Path_, Origin]], where: str) -> list[Problem]:
        """The errors as problems at the file:line of each offending leaf (``provenance`` is computed on demand)."""
        try:
            errors = self.errors(values)
        except referencing.exceptions.Unresolvable as exc:
            return [Problem(
                f"the chart's values schema has a $ref helmkit does not follow: {exc.ref}", Location(self.shown),
                "helmkit never fetches schemas from the network or other files; inline the definition",
            )]
        except RecursionError:
            return [Problem(
                "the chart's values schema refers to itself without end", Location(self.shown),
                "remove the $ref loop",
            )]
        except PatternError as exc:
            return [Problem(
                f"the chart's values schema has a pattern that RE2 cannot use: {exc}", Location(self.shown),
                "helm matches schema patterns with Go's RE2 too: write it without lookarounds or backreferences",
            )]
        if not errors:
            return []
        origins = provenance()
        problems = []
        for path, message in errors:
            origin = closest_origin(origins, path)
            problems.append(Problem(
                f"{where}: value {json_pointer(path) or '/'} does not match the chart's values schema: {message}",
                origin.location if origin and origin.location else Location(self.shown),
                f"see {self.shown}", json_pointer(path), origin.layer if origin else "chart",
            ))
        return problems


def closest_origin(provenance: dict[Path_, Origin], path: Path_) -> Origin | None:
    """The origin of ``path``, else of its closest parent, else of the leaf below it from the most
    specific layer (a map that an environment wrote into points at the environment, not the chart)."""
    probe = path
    while True:
        origin = provenance.get(probe)
        if origin is not None:
            return origin
        if not probe:
            break
        probe = probe[:-1]
    size = len(path)
    below = [o for k, o in provenance.items() if k[:size] == path]
    if not below:
        return None
    best = max(LAYER_RANK.get(o.layer, 0) for o in below)
    return next(o for o in below if LAYER_RANK.get(o.layer, 0) == best)
