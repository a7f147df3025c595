"""The live objects of Helm releases, read with a constant number of API calls per cluster and kind.

Helm (3.2+ and 4) labels every object it installs ``app.kubernetes.io/managed-by=Helm`` and
annotates it ``meta.helm.sh/release-name`` / ``meta.helm.sh/release-namespace``. For each kind
that the deployed manifests of a cluster hold, :func:`read_live_objects` makes **one** list call
(paginated, all namespaces) selecting that label; it never reads objects one by one. So the
number of calls depends on the kinds (plus one discovery call per API group-version), not on
the number of releases or objects. :attr:`LiveObjects.api_calls` counts them.

A kind the server does not serve (a CRD that was deleted) is recorded in
:attr:`LiveObjects.unserved`: the objects of that kind are then simply absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from helmkit.adapters.kube import KubeApiError, KubeClient
from helmkit.errors import ClusterError

MANAGED_BY_SELECTOR = "app.kubernetes.io/managed-by=Helm"
RELEASE_NAME_ANNOTATION = "meta.helm.sh/release-name"
RELEASE_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"

# (group, kind, namespace, name): the identity of an object, as helmkit.plan.manifests.ObjectKey holds it
Identity = tuple[str, str, str, str]


@dataclass
class LiveObjects:
    """The Helm-managed objects of one cluster, by apiVersion and identity."""

    objects: dict[str, dict[Identity, dict[str, Any]]] = field(default_factory=dict)  # apiVersion -> ...
    cluster_scoped: set[tuple[str, str]] = field(default_factory=set)  # (group, kind) without a namespace
    unserved: dict[tuple[str, str], str] = field(default_factory=dict)  # (apiVersion, kind) -> why
    api_calls: int = 0
    lists: int = 0  # list calls made (one per kind, plus pages)

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object as the API serves it in ``api_version`` (the version its manifest names)."""
        group = api_version.rpartition("/")[0]
        return self.objects.get(api_version, {}).get((group, kind, namespace, name))

    def merge(self, other: LiveObjects) -> None:
        """Add what ``other`` read (another list call of the same cluster)."""
        for api_version, objects in other.objects.items():
            self.objects.setdefault(api_version, {}).update(objects)
        self.cluster_scoped |= other.cluster_scoped
        self.unserved.update(other.unserved)
        self.api_calls += other.api_calls
        self.lists += other.lists

    def count(self) -> int:
        return sum(len(objects) for objects in self.objects.values())


def read_live_objects(client: KubeClient, kinds: Iterable[tuple[str, str]], *,
                      selector: str = MANAGED_BY_SELECTOR, metadata_only: bool = False) -> LiveObjects:
    """List every object of each ``(apiVersion, kind)`` carrying ``selector``, all namespaces.

    Each version of a kind that the manifests name is listed apart (objects are compared in the
    version their manifest uses; the API server converts), so a fleet that mixes versions makes
    one more call, not one per object. ``metadata_only``: each object is ``{"metadata": ...}``, as
    the API server's metadata-only lists give it (identity, uid, resourceVersion, labels).
    """
    before = client.calls
    result = LiveObjects()
    for api_version, kind in sorted(set(kinds)):
        group = api_version.rpartition("/")[0]
        try:
            resource = client.resource(api_version, kind)
        except KubeApiError:
            raise
        except ClusterError as exc:
            if "does not serve" not in exc.message:
                raise  # unreachable, not an unknown kind
            result.unserved[(api_version, kind)] = exc.message
            continue
        if not resource.namespaced:
            result.cluster_scoped.add((group, kind))
        calls = client.calls
        found = result.objects.setdefault(api_version, {})
        listed = [{"metadata": meta} for meta in client.list_metadata(api_version, resource.plural,
                                                                     label_selector=selector)] \
            if metadata_only else client.list(api_version, resource.plural, label_selector=selector)
        for obj in listed:
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            namespace = str((meta or {}).get("namespace") or "") if resource.namespaced else ""
            found[(group, kind, namespace, str((meta or {}).get("name", "")))] = obj
        result.lists += client.calls - calls
    result.api_calls = client.calls - before
    return result
