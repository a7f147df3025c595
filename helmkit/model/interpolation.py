"""``${env.name}``-style interpolation of context into strings; nothing else is a template.

Variables: ``env.name``, ``cluster.name``, ``cluster.region``, ``release.name``,
``release.namespace``. ``$${`` writes a literal ``${``. An unknown variable or an unterminated
``${`` is a problem at the file and line the string came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from helmkit.errors import Location, Problem
from helmkit.model.yamlfile import Path_

VARIABLES = ("env.name", "cluster.name", "cluster.region", "release.name", "release.namespace")
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")


def interpolate_text(
    text: str, variables: Mapping[str, str], where: Callable[[], Location | None], problems: list[Problem]
) -> str:
    """``text`` with variables substituted; problems are appended, the text is kept."""
    if "${" not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$" + "${":
            return "${"
        name = match.group(1)
        if name is None:
            problems.append(Problem(f"unterminated `${{` in {text!r}", where(), "write `$${` for a literal `${`"))
            return token
        value = variables.get(name.strip())
        if value is None:
            problems.append(Problem(
                f"unknown variable `${{{name}}}`", where(),
                "known: " + ", ".join(f"${{{v}}}" for v in VARIABLES) + "; write `$${` for a literal `${`",
            ))
            return token
        return value

    return _TOKEN.sub(substitute, text)


def interpolate_values(
    values: Any,
    variables: Mapping[str, str],
    where: Callable[[Path_], Location | None],
    problems: list[Problem],
    path: Path_ = (),
) -> Any:
    """A copy of ``values`` with every string interpolated (unchanged parts are shared)."""
    if isinstance(values, str):
        return interpolate_text(values, variables, lambda: where(path), problems)
    if isinstance(values, dict):
        changed = {k: interpolate_values(v, variables, where, problems, (*path, k)) for k, v in values.items()}
        return values if all(changed[k] is values[k] for k in values) else changed
    if isinstance(values, list):
        items = [interpolate_values(v, variables, where, problems, (*path, i)) for i, v in enumerate(values)]
        return values if all(a is b for a, b in zip(items, values, strict=True)) else items
    return values
