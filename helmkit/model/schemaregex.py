"""``pattern`` and ``patternProperties`` of chart schemas, matched in linear time with RE2.

Python's ``re`` backtracks: ``"pattern": "^(a+)+$"`` against thirty ``a`` and a ``!`` takes
tens of seconds, and each more character doubles it, so a chart schema in a pull request could
hang pre-merge CI. Helm validates chart schemas with Go's ``regexp``, which is RE2: linear in
the input, and without lookarounds or backreferences. helmkit does the same with Google's RE2
(``google-re2``), for ``pattern``, ``patternProperties`` and the ``additionalProperties`` check
that depends on them.

A pattern RE2 cannot compile (a lookahead, a backreference, or one too large) is not silently
skipped: :class:`PatternError` stops the check and the caller reports it at the schema file --
helm would refuse the same schema.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import re2  # type: ignore[import-untyped]
from jsonschema import ValidationError, validators  # type: ignore[import-untyped]

MAX_PATTERN_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern


class PatternError(Exception):
    """A schema pattern that RE2 (and so helm) cannot use."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"{pattern!r}: {reason}")
        self.pattern = pattern
        self.reason = reason


class Re2Patterns:
    """Compiled patterns of one schema, shared by its validations (thread-safe)."""

    def __init__(self) -> None:
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._options = re2.Options()
        self._options.log_errors = False  # RE2 would write each compile error to stderr
        self._options.max_mem = MAX_PATTERN_MEMORY

    def search(self, pattern: str, text: str) -> bool:
        with self._lock:
            compiled = self._compiled.get(pattern)
        if compiled is None:
            try:
                compiled = re2.compile(pattern, options=self._options)
            except re2.error as exc:
                reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) \
                    else str(exc)
                raise PatternError(pattern, reason) from None
            with self._lock:
                self._compiled[pattern] = compiled
        return compiled.search(text) is not None

    def validator_class(self, base: Any) -> Any:
        """``base`` (a jsonschema validator class) with the pattern keywords matched by RE2."""
        return validators.extend(base, {
            "pattern": self._pattern,
            "patternProperties": self._pattern_properties,
            "additionalProperties": self._additional_properties,
        })

    def extras(self, instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
        """Keys of ``instance`` that neither ``properties`` nor ``patternProperties`` of ``schema`` cover."""
        properties = schema.get("properties") or {}
        patterns = list(schema.get("patternProperties") or {})
        return [key for key in instance if key not in properties
                and not any(self.search(pattern, str(key)) for pattern in patterns)]

    def _pattern(self, validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and not self.search(pattern, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    def _pattern_properties(self, validator: Any, patterns: dict[str, Any], instance: Any,
                            schema: Any) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        for pattern, subschema in patterns.items():
            for key, value in instance.items():
                if self.search(pattern, str(key)):
                    yield from validator.descend(value, subschema, path=key, schema_path=pattern)

    def _additional_properties(self, validator: Any, allowed: Any, instance: Any,
                               schema: Any) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        extras = self.extras(instance, schema)
        if validator.is_type(allowed, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], allowed, path=extra)
        elif not allowed and extras:
            names = ", ".join(repr(extra) for extra in sorted(extras, key=str))
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({names} {verb} unexpected)")
