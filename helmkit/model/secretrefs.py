"""The syntax of secret references, and sops-encrypted values files as references (pure: no I/O).

``ref+KIND://TARGET[?k=v&...][#KEY]``, as vals writes them:

===============  ==========================================  =========================================
kind             target                                      ``#KEY``
===============  ==========================================  =========================================
``env``          an environment variable name                none
``file``         ``/absolute/path`` or ``~/path``            none
``awssecrets``   a Secrets Manager secret name or ARN        a JSON key of the SecretString (``#/a/b``
                 (``?region=``, ``?version_stage=``,         nests); none: the whole SecretString
                 ``?version_id=``)
``sops``         a sops-encrypted file of the repository     the leaf (``#/a/b``, list items by index)
                 (``?type=int|float|bool|str``)
``vault``        a Vault/OpenBao KV path ``MOUNT/PATH``      the key of the secret (``#/a/b`` nests)
                 (``?address=``, ``?namespace=``,
                 ``?version=``: a KV v2 version)
===============  ==========================================  =========================================

:func:`sops_values` turns an encrypted document (keys are clear text, every value an
``ENC[AES256_GCM,data:...,type:T]``) into the same map with ``ref+sops://FILE?type=T#/path``
at each encrypted leaf; values sops left in clear text (``unencrypted_suffix``) stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

PREFIX = "ref+"
KINDS = ("env", "file", "awssecrets", "sops", "vault")
HINT = ("use ref+env://NAME, ref+file:///absolute/path, ref+awssecrets://NAME#key, ref+vault://MOUNT/PATH#key "
        "or a sops-encrypted values file (docs/repository-format.md#secret-references)")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_AWS_NAME = re.compile(r"^[A-Za-z0-9/_+=.@:-]{1,2048}$")
_PARAMS = {"awssecrets": ("region", "version_stage", "version_id"), "sops": ("type",),
           "vault": ("address", "namespace", "version")}
_VAULT_PATH = re.compile(r"^[A-Za-z0-9_.@+=-]+(/[A-Za-z0-9_.@+=-]+)+$")
_TYPES = ("str", "int", "float", "bool")
ENCRYPTED = re.compile(r"^ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:(\w+)\]$")


@dataclass(frozen=True)
class ParsedRef:
    kind: str
    target: str
    pointer: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)


def parse_ref(ref: str) -> ParsedRef | str:
    """The parts of ``ref``, or why it is malformed (a message that names the reference, never a value)."""
    if not ref.startswith(PREFIX) or "://" not in ref:
        return f"secret reference {ref!r}: not of the form ref+KIND://..."
    kind, rest = ref[len(PREFIX):].split("://", 1)
    if kind not in KINDS:
        return f"secret reference {ref!r}: unknown kind `{kind}`"
    if kind in ("env", "file"):
        return _simple(ref, kind, rest)
    rest, _, fragment = rest.partition("#")
    target, _, query = rest.partition("?")
    params = tuple(parse_qsl(query, keep_blank_values=True))
    unknown = [k for k, _ in params if k not in _PARAMS[kind]]
    if unknown:
        return (f"secret reference {ref!r}: unknown parameter `{unknown[0]}` "
                f"(known: {', '.join(_PARAMS[kind])})")
    pointer = tuple(_unescape(p) for p in fragment.strip("/").split("/")) if fragment.strip("/") else ()
    if kind == "vault":
        if not _VAULT_PATH.match(target):
            return f"secret reference {ref!r}: not a Vault path MOUNT/PATH (e.g. ref+vault://secret/app/db#password)"
        if not pointer:
            return f"secret reference {ref!r}: name the key after # (ref+vault://secret/app/db#password)"
        return ParsedRef(kind, target, pointer, params)
    if kind == "awssecrets":
        if not _AWS_NAME.match(target):
            return f"secret reference {ref!r}: not a Secrets Manager secret name or ARN"
        return ParsedRef(kind, target, pointer, params)
    target = unquote(target)
    if not target or target.startswith(("/", "~")) or ".." in target.split("/"):
        return f"secret reference {ref!r}: the sops file must be a path relative to the repository root"
    if not pointer:
        return f"secret reference {ref!r}: name the leaf of the sops file after # (ref+sops://FILE#/key)"
    if dict(params).get("type", "str") not in _TYPES:
        return f"secret reference {ref!r}: type must be one of {', '.join(_TYPES)}"
    return ParsedRef(kind, target, pointer, params)


def _simple(ref: str, kind: str, target: str) -> ParsedRef | str:
    if kind == "env":
        if _ENV_NAME.match(target):
            return ParsedRef(kind, target)
        return f"secret reference {ref!r}: not an environment variable name"
    if target.startswith("/") or target.startswith("~/"):
        return ParsedRef(kind, target)
    return f"secret reference {ref!r}: the file must be an absolute path (ref+file:///path) or ~/path"


def ref_problem(ref: str) -> str | None:
    parsed = parse_ref(ref)
    return parsed if isinstance(parsed, str) else None


def pointer_text(pointer: tuple[str, ...]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in pointer)


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def is_sops_document(data: Any) -> bool:
    """A document sops encrypted: a top-level ``sops`` map holding its ``mac`` and ``version``."""
    meta = data.get("sops") if isinstance(data, dict) else None
    return isinstance(meta, dict) and "mac" in meta and "version" in meta


def sops_values(data: dict[str, Any], written: str) -> dict[str, Any]:
    """``data`` (a sops-encrypted document of the file ``written``) with a reference at each encrypted leaf."""
    file_part = quote(written, safe="/._-~@+")

    def walk(node: Any, at: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*at, str(k))) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*at, str(i))) for i, v in enumerate(node)]
        match = ENCRYPTED.match(node) if isinstance(node, str) else None
        if match is None:
            return node
        kind = match.group(1) if match.group(1) in _TYPES else "str"
        query = "" if kind == "str" else f"?type={kind}"
        return f"ref+sops://{file_part}{query}#{pointer_text(at)}"

    return {k: walk(v, (str(k),)) for k, v in data.items() if k != "sops"}
