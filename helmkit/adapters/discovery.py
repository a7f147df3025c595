"""What a cluster serves, as helm's ``.Capabilities`` sees it: the kube version and the API versions.

:func:`read_capabilities` asks the API server the way helm's own upgrade does (helm's
``GetVersionSet``): every served ``group/version``, and ``group/version/Kind`` for every
resource of it (subresources included, under their parent's group-version), plus ``/version``'s
``gitVersion``. It reads ``/api`` and ``/apis`` in the aggregated discovery format
(``apidiscovery.k8s.io/v2``, or ``v2beta1``): three requests per cluster in all. A server
without aggregated discovery answers with the legacy documents; then each group-version is
read on its own (what helm does too). The resources found seed the client's discovery cache,
so reading release records afterwards costs no further discovery request.

The result holds no secret: names of API groups and kinds, a version and a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from helmkit.adapters.kubeparts import Resource
from helmkit.errors import ClusterError

if TYPE_CHECKING:  # commands that only read last-known capabilities need no HTTP client
    from helmkit.adapters.kube import KubeClient

AGGREGATED = ",".join((
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
    "application/json",
))


@dataclass(frozen=True)
class Capabilities:
    """A cluster's kube version and served API versions (sorted, no duplicates)."""

    kube_version: str | None
    api_versions: tuple[str, ...]
    observed_at: str | None = None  # ISO time the cluster was read (None: declared or computed)

    def to_json(self) -> str:
        return json.dumps({"kubeVersion": self.kube_version, "apiVersions": list(self.api_versions),
                           "observedAt": self.observed_at}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Capabilities | None:
        """The capabilities a file saved, or None when it is not such a file."""
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        kube, apis, when = doc.get("kubeVersion"), doc.get("apiVersions"), doc.get("observedAt")
        if not isinstance(apis, list) or not all(isinstance(a, str) for a in apis):
            return None
        return cls(kube if isinstance(kube, str) else None, tuple(sorted(set(apis))),
                   when if isinstance(when, str) else None)


def read_capabilities(client: KubeClient) -> Capabilities:
    """The capabilities of the client's cluster (raises ClusterError when it cannot be read)."""
    version = client.version()
    git_version = version.get("gitVersion")
    found: dict[str, list[Resource]] = {}
    for path in ("/api", "/apis"):
        doc = client.discovery(path, accept=AGGREGATED)
        if doc.get("kind") == "APIGroupDiscoveryList":
            _aggregated(doc, found)
        else:
            _legacy(client, path, doc, found)
    apis: set[str] = set()
    for group_version, resources in found.items():
        apis.add(group_version)
        apis.update(f"{group_version}/{r.kind}" for r in resources if r.kind)
        client.remember_resources(group_version, [r for r in resources if "/" not in r.plural])
    return Capabilities(str(git_version) if git_version else None, tuple(sorted(apis)),
                        datetime.now(UTC).isoformat(timespec="seconds"))


def _aggregated(doc: dict[str, Any], found: dict[str, list[Resource]]) -> None:
    for item in doc.get("items") or []:
        group = str((item.get("metadata") or {}).get("name") or "")
        for entry in item.get("versions") or []:
            version = str(entry.get("version") or "")
            if not version:
                continue
            resources = found.setdefault(f"{group}/{version}" if group else version, [])
            for res in entry.get("resources") or []:
                kind = str((res.get("responseKind") or {}).get("kind") or "")
                plural = str(res.get("resource") or "")
                resources.append(Resource(group, version, kind, plural, res.get("scope") == "Namespaced"))
                for sub in res.get("subresources") or []:
                    sub_kind = str((sub.get("responseKind") or {}).get("kind") or "")
                    resources.append(Resource(group, version, sub_kind, f"{plural}/{sub.get('subresource')}",
                                              res.get("scope") == "Namespaced"))


def _legacy(client: KubeClient, path: str, doc: dict[str, Any], found: dict[str, list[Resource]]) -> None:
    if path == "/api":
        group_versions = [("", str(v)) for v in doc.get("versions") or []]
    else:
        group_versions = [(str(g.get("name") or ""), str(v.get("version") or ""))
                          for g in doc.get("groups") or [] for v in g.get("versions") or []]
    for group, version in group_versions:
        group_version = f"{group}/{version}" if group else version
        try:
            listing = client.discovery(f"/apis/{group_version}" if group else f"/api/{version}")
        except ClusterError:
            listing = {}  # an aggregated API that is down: helm keeps its group-version, without kinds
        found[group_version] = [
            Resource(group, version, str(r.get("kind") or ""), str(r.get("name") or ""), bool(r.get("namespaced")))
            for r in listing.get("resources") or [] if r.get("name")
        ]
