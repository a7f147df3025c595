"""Secret references in values, and sops-encrypted values files.

A value can be a reference (:mod:`helmkit.model.secretrefs` parses them):

- ``ref+env://NAME`` and ``ref+file:///abs/path`` (or ``~/path``);
- ``ref+awssecrets://NAME[?region=R&version_stage=S&version_id=V][#KEY]``: AWS Secrets Manager,
  the ``KEY`` of a JSON ``SecretString`` (``#/a/b`` for a nested key), or the whole string;
- ``ref+vault://MOUNT/PATH[?address=A&namespace=N&version=V]#KEY``: a key of a Vault (or
  OpenBao) KV v1/v2 secret;
- ``ref+sops://FILE#/a/b``: one leaf of a sops-encrypted file of the repository. A values file
  that sops encrypted (a top-level ``sops`` map with ``mac`` and ``version``) becomes such a
  reference at each encrypted leaf (:func:`sops_values`), so it layers like any values file
  while nothing is decrypted before a command needs the values.

:func:`find_secret_refs` turns reference strings into :class:`SecretRef` (the values keep the
reference string). :func:`resolve_secrets` reads them through the run's
:class:`~helmkit.adapters.secretstores.SecretStores` (all I/O is there); :func:`apply_secrets`
substitutes them into a deep copy of the values, used only for what goes to helm's stdin.
No error ever carries a secret value: only the reference and where it was written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helmkit.adapters.secretstores import SecretStores
from helmkit.errors import HelmkitError, InputError, Location, Problem
from helmkit.model.instance import ReleaseInstance, SecretRef
from helmkit.model.secretrefs import (
    HINT,
    PREFIX,
    ParsedRef,
    is_sops_document,
    parse_ref,
    pointer_text,
    ref_problem,
    sops_values,
)
from helmkit.model.yamlfile import Path_

__all__ = ["apply_secrets", "find_secret_refs", "is_sops_document", "placeholder_secrets", "resolve_secrets",
           "sops_values"]

PLACEHOLDERS = {"int": "1", "float": "1.0", "bool": "true"}


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
            why = ref_problem(node)
            if why:
                problems.append(Problem(why, where(at), HINT))
            else:
                found.append(SecretRef(at, node, where(at)))
    return found


def resolve_secrets(
    instance: ReleaseInstance,
    stores: SecretStores | None = None,
    *,
    repo_root: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[tuple[str | int, ...], str]:
    """Read every secret of ``instance``: path in values -> secret value (text). Problems raise InputError.

    ``stores`` is the run's (it reads each sops file and AWS secret once); without it a store
    of this call alone is made for ``repo_root`` and ``environ``.
    """
    if stores is None:
        stores = SecretStores(repo_root or Path.cwd(), environ=environ)
    resolved: dict[tuple[str | int, ...], str] = {}
    problems: list[Problem] = []
    failed: set[tuple[str, str]] = set()  # one problem per broken file or secret, not per leaf
    where = f" (release {instance.name}, cluster {instance.cluster.name})"
    for ref in instance.secrets:
        parsed = parse_ref(ref.ref)
        if isinstance(parsed, str):
            problems.append(Problem(parsed, ref.location, HINT))
            continue
        try:
            resolved[ref.path] = _read(parsed, stores)
        except HelmkitError as exc:
            if (parsed.kind, parsed.target) in failed and parsed.kind in ("sops", "awssecrets", "vault"):
                continue
            failed.add((parsed.kind, parsed.target))
            shown = ref.ref if parsed.kind != "sops" else f"in {parsed.target}"
            problems.append(Problem(f"secret {shown}: {exc.message}{where}", ref.location, exc.hint))
    if problems:
        raise InputError(problems)
    return resolved


def _read(parsed: ParsedRef, stores: SecretStores) -> str:
    if parsed.kind == "env":
        return stores.env(parsed.target)
    if parsed.kind == "file":
        return stores.file(parsed.target)
    if parsed.kind == "sops":
        document = stores.sops(parsed.target)
        return _text(_pick(document, parsed.pointer, f"in {parsed.target}"))
    if parsed.kind == "vault":
        secret = stores.vault(parsed.target, address=parsed.param("address"), namespace=parsed.param("namespace"),
                              version=parsed.param("version"))
        return _text(_pick(secret, parsed.pointer, "in the Vault secret"))
    text = stores.aws_secret(parsed.target, region=parsed.param("region"),
                             version_stage=parsed.param("version_stage"), version_id=parsed.param("version_id"))
    if not parsed.pointer:
        return text
    try:
        document = json.loads(text)
    except ValueError:
        raise HelmkitError(
            f"the secret's value is not JSON, so it has no key {pointer_text(parsed.pointer)!r}",
            hint="drop the #key to use the whole secret string",
        ) from None
    return _text(_pick(document, parsed.pointer, "in the secret's JSON"))


def _pick(document: Any, pointer: tuple[str, ...], what: str) -> Any:
    node = document
    for depth, key in enumerate(pointer):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise HelmkitError(f"no key {pointer_text(pointer[: depth + 1])!r} {what}",
                               hint="check the key after # (keys only, never a value, are named here)")
    if isinstance(node, dict | list):
        raise HelmkitError(f"{pointer_text(pointer)!r} {what} is a map or list, not a single value",
                           hint="point at one leaf")
    return node


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def placeholder_secrets(instance: ReleaseInstance) -> dict[tuple[str | int, ...], str]:
    """A stand-in for each secret, derived from the reference alone (pre-merge commands read no secret)."""
    import hashlib

    result: dict[tuple[str | int, ...], str] = {}
    for ref in instance.secrets:
        parsed = parse_ref(ref.ref)
        kind = parsed.param("type") if isinstance(parsed, ParsedRef) else None
        standin = "secret-ref-" + hashlib.sha256(ref.ref.encode()).hexdigest()[:16]
        result[ref.path] = PLACEHOLDERS.get(kind or "", standin)
    return result


def apply_secrets(values: dict[str, Any], resolved: Mapping[tuple[str | int, ...], str]) -> dict[str, Any]:
    """A deep copy of ``values`` with each secret reference replaced by its resolved value.

    A sops leaf that sops recorded as a number or boolean (``?type=int|float|bool`` in its
    reference) goes in with that type.
    """
    result = copy.deepcopy(values)
    for path, secret in resolved.items():
        node: Any = result
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = _typed(node[path[-1]], secret)
    return result


def _typed(ref: Any, secret: str) -> Any:
    parsed = parse_ref(ref) if isinstance(ref, str) else None
    kind = parsed.param("type") if isinstance(parsed, ParsedRef) else None
    try:
        if kind == "int":
            return int(secret)
        if kind == "float":
            return float(secret)
    except ValueError:
        return secret
    if kind == "bool":
        return secret == "true"  # noqa: S105 - the text sops prints for a true boolean
    return secret
