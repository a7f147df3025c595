"""Reading live objects for drift: one list call per kind, whatever the number of objects."""

from __future__ import annotations

import uuid

import pytest

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.liveobjects import read_live_objects
from helmkit.errors import ClusterError
from tests.e2e.conftest import StartClusters

pytestmark = pytest.mark.e2e
HELM = {"app.kubernetes.io/managed-by": "Helm"}
KINDS = [("v1", "ConfigMap"), ("apps/v1", "Deployment"), ("v1", "Service"),
         ("rbac.authorization.k8s.io/v1", "ClusterRole")]


def populate(client: KubeClient, prefix: str, first: int, last: int) -> None:
    for i in range(first, last):
        ns = f"{prefix}-team{i % 3}"
        client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i}", "namespace": ns,
                                                                              "labels": HELM}, "data": {"a": "1"}})
        client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc{i}", "namespace": ns,
                                                                            "labels": HELM},
                       "spec": {"ports": [{"port": 80}]}})
        client.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": f"{prefix}-role{i}", "labels": HELM}, "rules": []})
    client.create({"apiVersion": "v1", "kind": "ConfigMap",  # not Helm's: never read
                   "metadata": {"name": f"by-hand{first}", "namespace": f"{prefix}-team0"}, "data": {}})


def test_calls_per_cluster_do_not_grow_with_objects(named_clusters: StartClusters) -> None:
    clusters = named_clusters("c1")
    prefix = f"live-{uuid.uuid4().hex[:6]}"  # unique on a shared real cluster
    last_made = 0
    with clusters.client("c1") as setup:
        try:
            for ns in range(3):
                setup.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{prefix}-team{ns}"}})
            with KubeClient(setup.config, page_size=50) as client:
                already = read_live_objects(client, KINDS)  # a real cluster may hold Helm objects of its own
            before = {group: len(objects) for group, objects in already.objects.items()}
            counts = []
            for first, last in ((0, 5), (5, 40)):
                last_made = last
                populate(setup, prefix, first, last)
                since = clusters.requests("c1")[-1].seq if clusters.is_sandbox else 0
                with KubeClient(setup.config, page_size=50) as client:
                    live = read_live_objects(client, [*KINDS, ("example.com/v1", "Widget")])
                counts.append(live.api_calls)
                if clusters.is_sandbox:  # a real cluster keeps no request log
                    requests = clusters.requests("c1", since)
                    assert live.api_calls == len(requests)
                    assert {r.method for r in requests} == {"GET"}
                    lists = [r for r in requests if r.query]
                    assert all("labelSelector=app.kubernetes.io%2Fmanaged-by%3DHelm" in r.query for r in lists)
                    assert len(lists) == live.lists
                # ConfigMaps and Services, not the hand-made one
                assert len(live.objects["v1"]) - before.get("v1", 0) == 2 * last
                assert len(live.objects["rbac.authorization.k8s.io/v1"]) - before.get(
                    "rbac.authorization.k8s.io/v1", 0) == last
                assert live.count() - already.count() == 3 * last
                assert live.get("v1", "Service", f"{prefix}-team{(last - 1) % 3}", f"svc{last - 1}") is not None
                assert live.get("rbac.authorization.k8s.io/v1", "ClusterRole", "", f"{prefix}-role0") is not None
                assert live.get("v1", "ConfigMap", f"{prefix}-team0", f"by-hand{first}") is None
                assert ("rbac.authorization.k8s.io", "ClusterRole") in live.cluster_scoped
                assert ("", "ConfigMap") not in live.cluster_scoped
                assert list(live.unserved) == [("example.com/v1", "Widget")]
        finally:
            if not clusters.is_sandbox:  # namespaces go with the fixture; cluster-wide roles go here
                for i in range(last_made):
                    setup.delete("rbac.authorization.k8s.io/v1", "ClusterRole", f"{prefix}-role{i}")
    # 4 discoveries (v1, apps/v1, rbac, example.com) + one list per kind; 40 objects of a kind fit in one page
    assert counts == [8, 8]


def test_a_failing_list_is_an_error_not_an_unserved_kind(named_clusters: StartClusters) -> None:
    clusters = named_clusters("c1")
    faults = clusters.faults("c1")
    with clusters.client("c1") as setup:
        config = setup.config
    faults.fail("GET", r"^/apis/apps/v1$", status=503, count=None)
    with KubeClient(config, retries=1, backoff=0.01) as client, pytest.raises(ClusterError) as caught:
        read_live_objects(client, KINDS)
    assert "503" in caught.value.render()
    faults.clear()
    faults.fail("GET", r"/deployments$", status=500, count=None)
    with KubeClient(config, retries=1, backoff=0.01) as client, pytest.raises(ClusterError):
        read_live_objects(client, KINDS)
