"""Label selectors: ``-l key=value,key!=value,key,!key``.

Every release instance has the implicit labels ``name``, ``namespace``, ``chart``, ``env`` and
``cluster`` besides its own ``labels``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


def parse_selector(text: str) -> Selector:
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
    return Selector(tuple(requirements), text)
