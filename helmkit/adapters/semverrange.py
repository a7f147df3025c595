"""Semver constraints as Helm users write them, and version parsing.

Constraints (:class:`VersionConstraint`) use the forms Helm users write: exact ``1.2.3``,
comparisons ``>=1.0 <2`` (space or comma means AND, ``||`` means OR), caret ``^1.2``
(same major, or same minor below 1.0), tilde ``~1.2.3`` (same minor), wildcards ``1.2.x``,
``1.x`` and ``*``. A partial version (``1.2``) is the wildcard ``1.2.x``. Prereleases match only
when the constraint names a prerelease itself or the caller asks for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import semver

_PARTIAL_RE = re.compile(
    r"^v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_TERM_RE = re.compile(r"^(?P<op>>=|<=|!=|==|=|>|<|\^|~>|~)?\s*(?P<version>\S+)$")
_WILD = {"x", "X", "*"}


@dataclass(frozen=True)
class _Bound:
    op: str  # one of >=, >, <=, <, ==, !=
    version: semver.Version

    def allows(self, v: semver.Version) -> bool:
        cmp = v.compare(self.version)
        return {
            ">=": cmp >= 0, ">": cmp > 0, "<=": cmp <= 0, "<": cmp < 0, "==": cmp == 0, "!=": cmp != 0,
        }[self.op]


@dataclass(frozen=True)
class VersionConstraint:
    """A parsed semver constraint: alternatives (OR) of bound lists (AND)."""

    text: str
    alternatives: tuple[tuple[_Bound, ...], ...]
    names_prerelease: bool

    @classmethod
    def parse(cls, text: str) -> VersionConstraint:
        if not text or not text.strip():
            raise ValueError("empty version constraint")
        alternatives: list[tuple[_Bound, ...]] = []
        names_prerelease = False
        for alternative in text.split("||"):
            bounds: list[_Bound] = []
            terms = _terms(alternative)
            if not terms:
                raise ValueError(f"invalid version constraint {text!r}")
            for term in terms:
                match = _TERM_RE.match(term)
                if not match:
                    raise ValueError(f"invalid version constraint term {term!r} in {text!r}")
                new, pre = _bounds(match.group("op") or "=", match.group("version"), text)
                bounds.extend(new)
                names_prerelease = names_prerelease or pre
            alternatives.append(tuple(bounds))
        return cls(text.strip(), tuple(alternatives), names_prerelease)

    def allows(self, version: semver.Version, *, include_prerelease: bool = False) -> bool:
        if version.prerelease and not (include_prerelease or self.names_prerelease):
            return False
        return any(all(b.allows(version) for b in bounds) for bounds in self.alternatives)

    def best(self, versions: list[str], *, include_prerelease: bool = False) -> str | None:
        """The newest of ``versions`` (as written) this constraint allows."""
        allowed: list[tuple[semver.Version, str]] = []
        for text in versions:
            parsed = parse_version(text)
            if parsed is not None and self.allows(parsed, include_prerelease=include_prerelease):
                allowed.append((parsed, text))
        return max(allowed, key=lambda pair: pair[0])[1] if allowed else None


def parse_version(text: str) -> semver.Version | None:
    try:
        return semver.Version.parse(text[1:] if text.startswith("v") else text)
    except (ValueError, TypeError):
        return None


def _terms(alternative: str) -> list[str]:
    # Join an operator separated from its version by spaces (">= 1.0") before splitting.
    text = re.sub(r"(>=|<=|!=|==|~>|[=><^~])\s+", r"\1", alternative.replace(",", " "))
    terms = text.split()
    if len(terms) == 3 and terms[1] == "-":  # hyphen range "1.2 - 1.4"
        return [f">={terms[0]}", f"<={terms[2]}"]
    return terms


def _bounds(op: str, text: str, whole: str) -> tuple[list[_Bound], bool]:
    match = _PARTIAL_RE.match(text)
    if not match:
        raise ValueError(f"invalid version {text!r} in constraint {whole!r}")
    parts = [match.group("major"), match.group("minor"), match.group("patch")]
    pre = match.group("pre")
    known: list[int] = []
    for part in parts:
        if part is None or part in _WILD:
            break
        known.append(int(part))
    padded = [*known, 0, 0, 0]
    floor = semver.Version(padded[0], padded[1], padded[2], prerelease=pre if len(known) == 3 else None)
    if not known:  # "*", "x"
        return ([_Bound(">=", semver.Version(0, 0, 0))] if op in ("=", "==", ">=", "^", "~", "~>") else []), False
    wildcard = len(known) < 3
    ceiling = _bump(known) if wildcard else None
    if op == "^":
        ceiling = _caret_ceiling(known)
        return [_Bound(">=", floor), _Bound("<", ceiling)], bool(pre)
    if op in ("~", "~>"):
        ceiling = semver.Version(known[0] + 1, 0, 0) if len(known) == 1 else semver.Version(known[0], known[1] + 1, 0)
        return [_Bound(">=", floor), _Bound("<", ceiling)], bool(pre)
    if op in ("=", "=="):
        if ceiling is not None:
            return [_Bound(">=", floor), _Bound("<", ceiling)], False
        return [_Bound("==", floor)], bool(pre)
    if op == "!=":
        if ceiling is not None:
            raise ValueError(f"'!=' needs a full version in {whole!r}")
        return [_Bound("!=", floor)], bool(pre)
    if op == ">" and ceiling is not None:
        return [_Bound(">=", ceiling)], False
    if op == "<=" and ceiling is not None:
        return [_Bound("<", ceiling)], False
    return [_Bound(op, floor)], bool(pre)


def _bump(known: list[int]) -> semver.Version:
    if len(known) == 1:
        return semver.Version(known[0] + 1, 0, 0)
    return semver.Version(known[0], known[1] + 1, 0)


def _caret_ceiling(known: list[int]) -> semver.Version:
    full = [*known, 0, 0][:3]
    if full[0] > 0 or len(known) == 1:
        return semver.Version(full[0] + 1, 0, 0)
    if full[1] > 0 or len(known) == 2:
        return semver.Version(0, full[1] + 1, 0)
    return semver.Version(0, 0, full[2] + 1)
