"""Content negotiation of reads: the object as stored, a ``Table``, or only its metadata.

A client names what it wants in ``Accept``: media types separated by commas, each with
parameters; ``as``, ``g`` and ``v`` ask for the object transformed, e.g.
``application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json`` (client-go's
metadata client; kubectl asks for ``as=Table`` the same way). As the real API server does, the
types are tried best first (higher ``q``, then specific before wildcard, then the order given) and
the first one the server can produce wins; a transformation it cannot make (an unknown kind, a
group-version other than ``meta.k8s.io/v1`` or ``v1beta1``) only skips that type. When no type is
acceptable the answer is ``406 NotAcceptable``; so is a request for ``PartialObjectMetadata`` of a
list, or ``PartialObjectMetadataList`` of a single object (the real server refuses those too).

The sandbox writes JSON only: any media type it knows without ``as`` is answered with JSON, as
before; a transformation asked in protobuf (which the real server could encode) is skipped, so
the JSON alternative that clients list after it wins.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from helmkit.sandbox.status import ApiError

META_GROUP = "meta.k8s.io"
META_VERSIONS = ("v1", "v1beta1")
KNOWN_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
TRANSFORMABLE = ("application/json", "application/*", "*/*")  # the sandbox encodes transformed replies in JSON
PARTIAL = "PartialObjectMetadata"
PARTIAL_LIST = "PartialObjectMetadataList"


@dataclass(frozen=True)
class Target:
    """What a read answers with: ``kind`` empty for the object itself, else Table or PartialObjectMetadata[List]."""

    kind: str = ""
    version: str = "v1"

    @property
    def api_version(self) -> str:
        return f"{META_GROUP}/{self.version}"


@dataclass(frozen=True)
class _Clause:
    media: str
    params: dict[str, str]
    q: float
    order: int

    @property
    def rank(self) -> tuple[float, int, int, int]:
        kind, _, sub = self.media.partition("/")
        return (-self.q, kind == "*", sub == "*", self.order)


def _clauses(accept: str) -> list[_Clause]:
    found = []
    for order, part in enumerate(accept.split(",")):
        media, *raw = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        params: dict[str, str] = {}
        for item in raw:
            key, _, value = item.partition("=")
            params[key.strip()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 1.0
        if q > 0:
            found.append(_Clause(media.lower(), params, q, order))
    return sorted(found, key=lambda c: c.rank)


def _matches(media: str) -> bool:
    kind, _, sub = media.partition("/")
    return media in KNOWN_TYPES or (sub == "*" and kind in ("application", "*"))


def negotiate(accept: str) -> Target:
    """The reply ``accept`` asks for (the first acceptable media type); ``ApiError`` 406 when none is."""
    if not accept.strip():
        return Target()
    for clause in _clauses(accept):
        if not _matches(clause.media):
            continue
        wanted = {k: clause.params.get(k, "") for k in ("as", "g", "v")}
        if not any(wanted.values()):
            return Target()
        if clause.media not in TRANSFORMABLE:
            continue
        if wanted["g"] == META_GROUP and wanted["v"] in META_VERSIONS and \
                wanted["as"] in ("Table", PARTIAL, PARTIAL_LIST):
            return Target(wanted["as"], wanted["v"])
    raise ApiError(406, f"only the following media types are accepted: {', '.join(KNOWN_TYPES)}",
                   reason="NotAcceptable")


def must_fit(target: Target, *, listing: bool, what: str) -> None:
    """406 when a metadata transformation does not fit the read (one object vs a list)."""
    if target.kind == PARTIAL and listing:
        raise ApiError(406, f"you requested {PARTIAL}, but the requested object is a list (*{what}List)",
                       reason="NotAcceptable")
    if target.kind == PARTIAL_LIST and not listing:
        raise ApiError(406, f"you requested {PARTIAL_LIST}, but the requested object is not a list (*{what})",
                       reason="NotAcceptable")


def partial_object(obj: dict[str, Any], target: Target) -> dict[str, Any]:
    """``obj`` as ``PartialObjectMetadata``: its whole metadata, nothing else."""
    return {"kind": PARTIAL, "apiVersion": target.api_version, "metadata": copy.deepcopy(obj.get("metadata") or {})}


def partial_list(items: list[dict[str, Any]], list_meta: dict[str, Any], target: Target) -> dict[str, Any]:
    """A ``PartialObjectMetadataList`` of ``items`` with the list's metadata (resourceVersion, continue)."""
    return {"kind": PARTIAL_LIST, "apiVersion": target.api_version, "metadata": dict(list_meta),
            "items": [partial_object(obj, target) for obj in items]}
