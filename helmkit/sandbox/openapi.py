"""A small OpenAPI v3 surface: the ``/openapi/v3`` index and one document per group version.

Each document has one path per kind whose PATCH operation declares the ``fieldValidation``
query parameter and ``x-kubernetes-group-version-kind``: that is what helm and kubectl look
for to decide that the server validates fields itself (so they skip client-side schema
validation). No component schemas are served; kubectl then falls back to its built-in
knowledge for strategic merge patches, as it does against servers without OpenAPI.
"""

from __future__ import annotations

import hashlib
from typing import Any

from helmkit.sandbox.catalog import ResourceType
from helmkit.sandbox.registry import TypeRegistry

QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def index(registry: TypeRegistry) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            path = _gv_path(group, version)
            types = [t for t in registry.all() if t.group == group and t.version == version]
            digest = hashlib.sha256(repr(types).encode())
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest.hexdigest()[:32].upper()}"}
    return {"paths": paths}


def _operation(rtype: ResourceType, verb: str, params: tuple[str, ...]) -> dict[str, Any]:
    return {
        "operationId": f"{verb}{rtype.kind}",
        "parameters": [{"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for p in params],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": {"group": rtype.group, "version": rtype.version, "kind": rtype.kind},
    }


def document(registry: TypeRegistry, group: str, version: str) -> dict[str, Any] | None:
    types = [t for t in registry.all() if t.group == group and t.version == version]
    if not types:
        return None
    paths: dict[str, Any] = {}
    base = "/" + _gv_path(group, version)
    for rtype in types:
        prefix = f"{base}/namespaces/{{namespace}}/{rtype.plural}" if rtype.namespaced else f"{base}/{rtype.plural}"
        item: dict[str, Any] = {}
        if "get" in rtype.verbs:
            item["get"] = _operation(rtype, "get", ("pretty",))
        if "update" in rtype.verbs:
            item["put"] = _operation(rtype, "put", QUERY_PARAMS[:3])
        if "patch" in rtype.verbs:
            item["patch"] = _operation(rtype, "patch", QUERY_PARAMS)
        if "delete" in rtype.verbs:
            item["delete"] = _operation(rtype, "delete", ("dryRun",))
        paths[f"{prefix}/{{name}}"] = item
        collection: dict[str, Any] = {}
        if "create" in rtype.verbs:
            collection["post"] = _operation(rtype, "post", QUERY_PARAMS[:3])
        if "list" in rtype.verbs:
            collection["get"] = _operation(rtype, "list", ("labelSelector", "fieldSelector", "limit", "continue"))
        if collection:
            paths[prefix] = collection
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": {}},
    }
