"""Label selectors: ``-l key=value,key!=value,key,!key``.

Every release instance has the implicit labels ``name``, ``namespace``, ``chart``, ``env`` and
``cluster`` besides its own ``labels``.

A selector that matches no release is an error (a typo must not turn ``sync`` into a silent no-op):
:func:`no_match_error` names the closest label values. ``--allow-no-matching-release`` (helmfile's
flag) parses the selector with ``allow_empty=True``, and an empty selection is then accepted.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from helmkit.errors import InputError, Location, Problem

_KEY = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "exists", "!exists"
    value: str = ""

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op == "=":
            return labels.get(self.key) == self.value
        return labels.get(self.key) != self.value


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...]
    text: str = ""
    allow_empty: bool = False  # --allow-no-matching-release

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


class NoMatchingRelease(InputError):
    """A selector matched no release instance (``--allow-no-matching-release`` accepts that)."""

    def __init__(self, problem: Problem, selector: Selector, labels: list[Mapping[str, str]]) -> None:
        super().__init__(problem)
        self.selector = selector
        self.labels = labels  # the labels of every instance looked at, for a wider message


def parse_selector(text: str, *, allow_empty: bool = False) -> Selector:
    """Parse ``k=v,k!=v,k,!k`` (``==`` is the same as ``=``); raise InputError if malformed."""
    requirements: list[Requirement] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        if "!=" in part:
            key, value = part.split("!=", 1)
            requirement = Requirement(key.strip(), "!=", value.strip())
        elif "=" in part:
            key, value = part.split("==", 1) if "==" in part else part.split("=", 1)
            requirement = Requirement(key.strip(), "=", value.strip())
        elif part.startswith("!"):
            requirement = Requirement(part[1:].strip(), "!exists")
        else:
            requirement = Requirement(part, "exists")
        if not _KEY.match(requirement.key) or "=" in requirement.value or "!" in requirement.value:
            raise InputError(Problem(
                f"selector {text!r}: cannot read {part!r}", Location("--selector"),
                "write key=value, key!=value, key or !key, separated by commas",
            ))
        requirements.append(requirement)
    if not requirements:
        raise InputError(Problem("empty selector", Location("--selector"), "for example -l tier=platform"))
    return Selector(tuple(requirements), text, allow_empty)


def no_match_error(selector: Selector, labels: Iterable[Mapping[str, str]], scope: str) -> NoMatchingRelease:
    """The error for ``selector`` matching nothing in ``scope``, naming the closest label values."""
    labels = list(labels)
    values: dict[str, set[str]] = {}
    for found in labels:
        for key, value in found.items():
            values.setdefault(key, set()).add(value)
    hints = [hint for r in selector.requirements if (hint := _closest(r, values)) is not None]
    hints.append("(--allow-no-matching-release accepts an empty selection)")
    return NoMatchingRelease(Problem(
        f"selector `{selector.text}` matches no release in {scope}", Location("--selector"), " ".join(hints),
    ), selector, labels)


def _closest(requirement: Requirement, values: Mapping[str, set[str]]) -> str | None:
    if requirement.op in ("exists", "!exists") and requirement.key not in values:
        near = difflib.get_close_matches(requirement.key, sorted(values), n=3)
        return f"no release has the label `{requirement.key}`" + (
            f"; did you mean {' or '.join(f'`{k}`' for k in near)}?" if near else ".")
    if requirement.op != "=":
        return None
    known = values.get(requirement.key)
    if known is None:
        near = difflib.get_close_matches(requirement.key, sorted(values), n=3)
        return f"no release has the label `{requirement.key}`" + (
            f"; did you mean {' or '.join(f'`{k}={requirement.value}`' for k in near)}?" if near else
            f"; label keys: {', '.join(sorted(values))}.")
    if requirement.value in known:
        return None
    near = difflib.get_close_matches(requirement.value, sorted(known), n=3, cutoff=0.5)
    if near:
        return f"did you mean {' or '.join(f'`{requirement.key}={v}`' for v in near)}?"
    shown = sorted(known)
    more = f" and {len(shown) - 8} more" if len(shown) > 8 else ""
    return f"`{requirement.key}` is one of: {', '.join(shown[:8])}{more}."
