"""Discovery documents: ``/version``, ``/api``, ``/apis``, ``/api/v1`` and ``/apis/{group}/{version}``.

``/api`` and ``/apis`` answer in the aggregated format (``apidiscovery.k8s.io/v2``
``APIGroupDiscoveryList``, every resource of every group in one reply) when the client asks for
it, which spares helm about thirty requests per command (helm invalidates its discovery cache
on every install and upgrade); otherwise, and for ``/api/v1`` and ``/apis/{g}/{v}``, the legacy
format.
"""

from __future__ import annotations

from typing import Any

from helmkit.sandbox.catalog import ResourceType
from helmkit.sandbox.registry import TypeRegistry

SUBRESOURCE_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
                     "finalize": ["update"]}


def version(kube_version: str) -> dict[str, Any]:
    major, minor, *_ = [*kube_version.lstrip("v").split("."), "0", "0"]
    return {
        "major": major, "minor": minor, "gitVersion": kube_version if kube_version.startswith("v") else
        f"v{kube_version}", "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2025-08-27T00:00:00Z",
        "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64",
    }


def core_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def group_list(registry: TypeRegistry) -> dict[str, Any]:
    groups = []
    for group, versions in registry.group_versions().items():
        if not group:
            continue
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _resource_entry(rtype: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": rtype.plural, "singularName": rtype.singular, "namespaced": rtype.namespaced,
        "kind": rtype.kind, "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    return entry


AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Whether the Accept header's first choice is aggregated discovery v2."""
    first = accept.split(",", 1)[0].replace(" ", "")
    params = set(first.split(";")[1:])
    return {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params


def _aggregated_resource(rtype: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rtype.plural,
        "responseKind": {"group": rtype.group, "version": rtype.version, "kind": rtype.kind},
        "scope": "Namespaced" if rtype.namespaced else "Cluster",
        "singularResource": rtype.singular,
        "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    subresources = []
    for sub in rtype.subresources:
        kind = ({"group": "autoscaling", "version": "v1", "kind": "Scale"} if sub == "scale"
                else {"group": rtype.group, "version": rtype.version, "kind": rtype.kind})
        subresources.append({"subresource": sub, "responseKind": kind, "verbs": SUBRESOURCE_VERBS.get(sub, ["get"])})
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(registry: TypeRegistry, core: bool) -> dict[str, Any]:
    """The ``APIGroupDiscoveryList`` of the core group (``/api``) or of all named groups (``/apis``)."""
    items = []
    for group, versions in registry.group_versions().items():
        if (group == "") != core:
            continue
        entries = []
        for version in versions:
            types = [t for t in registry.all() if t.group == group and t.version == version]
            entries.append({"version": version, "resources": [_aggregated_resource(t) for t in types],
                            "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": items}


def resource_list(registry: TypeRegistry, group: str, version: str) -> dict[str, Any] | None:
    types = [t for t in registry.all() if t.group == group and t.version == version]
    if not types:
        return None
    resources = []
    for rtype in types:
        resources.append(_resource_entry(rtype))
        for sub in rtype.subresources:
            entry: dict[str, Any] = {"name": f"{rtype.plural}/{sub}", "singularName": "",
                                     "namespaced": rtype.namespaced, "kind": rtype.kind,
                                     "verbs": SUBRESOURCE_VERBS.get(sub, ["get"])}
            if sub == "scale":
                entry.update(group="autoscaling", version="v1", kind="Scale")
            resources.append(entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources}
