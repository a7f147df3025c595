"""Secret references in values: ``ref+env://NAME`` and ``ref+file:///abs/path`` (or ``~/path``).

:func:`find_secret_refs` turns reference strings into :class:`SecretRef` (the values keep the
reference string). :func:`resolve_secrets` reads them; :func:`apply_secrets` substitutes them
into a deep copy of the values, used only to write the 0600 values file handed to helm.
No error ever carries a secret value: only the reference and where it was written.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helmkit.errors import InputError, Location, Problem
from helmkit.model.instance import ReleaseInstance, SecretRef
from helmkit.model.yamlfile import Path_

PREFIX = "ref+"
ENV_PREFIX = "ref+env://"
FILE_PREFIX = "ref+file://"
MAX_SECRET_FILE = 1024 * 1024
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def find_secret_refs(
    values: Any, where: Callable[[Path_], Location | None], problems: list[Problem], path: Path_ = ()
) -> list[SecretRef]:
    """Every secret reference under ``values``; malformed references are problems."""
    found: list[SecretRef] = []
    stack: list[tuple[Path_, Any]] = [(path, values)]
    while stack:
        at, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(((*at, k), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend(((*at, i), v) for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, str) and node.startswith(PREFIX):
            why = _ref_problem(node)
            if why:
                problems.append(Problem(why, where(at), "use ref+env://NAME or ref+file:///absolute/path"))
            else:
                found.append(SecretRef(at, node, where(at)))
    return found


def _ref_problem(ref: str) -> str | None:
    if ref.startswith(ENV_PREFIX):
        name = ref[len(ENV_PREFIX):]
        return None if _ENV_NAME.match(name) else f"secret reference {ref!r}: not an environment variable name"
    if ref.startswith(FILE_PREFIX):
        target = ref[len(FILE_PREFIX):]
        if target.startswith("/") or target.startswith("~/"):
            return None
        return f"secret reference {ref!r}: the file must be an absolute path (ref+file:///path) or ~/path"
    scheme = ref[len(PREFIX):].split("://", 1)[0]
    return f"secret reference {ref!r}: unknown kind `{scheme}`"


def resolve_secrets(
    instance: ReleaseInstance, *, repo_root: Path, environ: Mapping[str, str]
) -> dict[tuple[str | int, ...], str]:
    """Read every secret of ``instance``: path in values -> secret value. Problems raise InputError."""
    resolved: dict[tuple[str | int, ...], str] = {}
    problems: list[Problem] = []
    real_root = repo_root.resolve()
    for ref in instance.secrets:
        where = f" (release {instance.name}, cluster {instance.cluster.name})"
        if ref.ref.startswith(ENV_PREFIX):
            name = ref.ref[len(ENV_PREFIX):]
            value = environ.get(name)
            if value is None:
                problems.append(Problem(
                    f"secret {ref.ref}: environment variable {name} is not set{where}", ref.location,
                    f"export {name} before running helmkit",
                ))
                continue
            resolved[ref.path] = value
            continue
        target = ref.ref[len(FILE_PREFIX):]
        path = Path(os.path.expanduser(target)).resolve()
        if path.is_relative_to(real_root):
            problems.append(Problem(
                f"secret {ref.ref}: the file is inside the repository{where}", ref.location,
                "keep secret files outside the repository so they are never committed",
            ))
            continue
        try:
            if not path.is_file():
                raise FileNotFoundError
            if path.stat().st_size > MAX_SECRET_FILE:
                problems.append(Problem(f"secret {ref.ref}: the file is larger than 1 MiB{where}", ref.location))
                continue
            resolved[ref.path] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            problems.append(Problem(
                f"secret {ref.ref}: cannot read the file (missing, unreadable or not text){where}", ref.location,
                "check the path and its permissions",
            ))
    if problems:
        raise InputError(problems)
    return resolved


def apply_secrets(values: dict[str, Any], resolved: Mapping[tuple[str | int, ...], str]) -> dict[str, Any]:
    """A deep copy of ``values`` with each secret reference replaced by its resolved value."""
    result = copy.deepcopy(values)
    for path, secret in resolved.items():
        node: Any = result
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = secret
    return result
