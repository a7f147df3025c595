"""Semver constraints as Helm charts use them (``^1.4.0``, ``~1.2``, ``>=1.0.0 <2.0.0``, ``1.2.x``).

:func:`parse_constraint` checks the syntax (an :class:`ValueError` says what is wrong) and
returns a :class:`Constraint` whose :meth:`Constraint.allows` tests a version. Alternatives are
separated by ``||``; within one, comparisons are separated by spaces or commas and all must hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import semver

_COMPARISON = re.compile(
    r"^(\^|~>?|>=|<=|>|<|!=|=)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(-[0-9A-Za-z.-]+)?$"
)
_WILD = ("x", "X", "*")


@dataclass(frozen=True)
class Bound:
    op: str  # ">=", "<", ">", "<=", "==", "!="
    version: semver.Version

    def allows(self, version: semver.Version) -> bool:
        c = version.compare(self.version)
        return {
            ">=": c >= 0, ">": c > 0, "<=": c <= 0, "<": c < 0, "==": c == 0, "!=": c != 0,
        }[self.op]


@dataclass(frozen=True)
class Constraint:
    text: str
    alternatives: tuple[tuple[Bound, ...], ...]

    def allows(self, version: str) -> bool:
        try:
            parsed = semver.Version.parse(version.removeprefix("v"), optional_minor_and_patch=True)
        except ValueError:
            return False
        if parsed.prerelease and not any("-" in part for part in self.text.split()):
            return False  # like Helm: pre-releases only when the constraint names one
        return any(all(b.allows(parsed) for b in alt) for alt in self.alternatives)

    @property
    def exact(self) -> str | None:
        """The version if the constraint pins exactly one."""
        if len(self.alternatives) == 1 and len(self.alternatives[0]) == 1 and self.alternatives[0][0].op == "==":
            return str(self.alternatives[0][0].version)
        return None


def parse_constraint(text: str) -> Constraint:
    """Parse a constraint; raise ValueError saying what is wrong."""
    if not text.strip():
        raise ValueError("empty version constraint")
    alternatives: list[tuple[Bound, ...]] = []
    for alt in text.split("||"):
        parts = [p for p in re.split(r"[\s,]+", _join_operators(alt.strip())) if p]
        if not parts:
            raise ValueError(f"empty alternative in {text!r}")
        bounds: list[Bound] = []
        for part in parts:
            bounds.extend(_bounds(part, text))
        alternatives.append(tuple(bounds))
    return Constraint(text, tuple(alternatives))


def _join_operators(text: str) -> str:
    return re.sub(r"(\^|~>?|>=|<=|>|<|!=|=)\s+", r"\1", text)


def _bounds(part: str, text: str) -> list[Bound]:
    m = _COMPARISON.match(part)
    if not m:
        raise ValueError(f"{part!r} in {text!r} is not a version comparison (like ^1.4.0, ~1.2, >=1.0.0 <2.0.0)")
    op, major_s, minor_s, patch_s, pre = m.groups()
    op = op or "="
    if major_s in _WILD:
        return [] if op in ("=", "^", "~", "~>", ">=") else [Bound(">=", semver.Version(0))]
    major = int(major_s)
    minor = None if minor_s is None or minor_s in _WILD else int(minor_s)
    patch = None if patch_s is None or patch_s in _WILD else int(patch_s)
    base = semver.Version(major, minor or 0, patch or 0, (pre or "").removeprefix("-") or None)
    if op == "=":
        if minor is None:
            return [Bound(">=", base), Bound("<", semver.Version(major + 1))]
        if patch is None:
            return [Bound(">=", base), Bound("<", semver.Version(major, minor + 1))]
        return [Bound("==", base)]
    if op == "^":
        if major > 0 or minor is None:
            upper = semver.Version(major + 1)
        elif minor > 0 or patch is None:
            upper = semver.Version(0, minor + 1)
        else:
            upper = semver.Version(0, 0, (patch or 0) + 1)
        return [Bound(">=", base), Bound("<", upper)]
    if op in ("~", "~>"):
        upper = semver.Version(major + 1) if minor is None else semver.Version(major, minor + 1)
        return [Bound(">=", base), Bound("<", upper)]
    return [Bound("==" if op == "=" else op, base)]
