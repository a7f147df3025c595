"""Reading live objects for drift: one list call per kind, whatever the number of objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.liveobjects import read_live_objects
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError
from helmkit.sandbox import Sandbox
from helmkit.sandbox.certificates import Identity

pytestmark = pytest.mark.e2e
HELM = {"app.kubernetes.io/managed-by": "Helm"}
KINDS = [("v1", "ConfigMap"), ("apps/v1", "Deployment"), ("v1", "Service"),
         ("rbac.authorization.k8s.io/v1", "ClusterRole")]


def populate(client: KubeClient, first: int, last: int) -> None:
    for i in range(first, last):
        ns = f"team{i % 3}"
        client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i}", "namespace": ns,
                                                                              "labels": HELM}, "data": {"a": "1"}})
        client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc{i}", "namespace": ns,
                                                                            "labels": HELM},
                       "spec": {"ports": [{"port": 80}]}})
        client.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": f"role{i}", "labels": HELM}, "rules": []})
    client.create({"apiVersion": "v1", "kind": "ConfigMap",  # not Helm's: never read
                   "metadata": {"name": f"by-hand{first}", "namespace": "team0"}, "data": {}})


def test_calls_per_cluster_do_not_grow_with_objects(tmp_path: Path, sandbox_identity: Identity) -> None:
    with Sandbox(["live"], identity=sandbox_identity, admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        config = load_cluster_config("live", Runner(), kubeconfig=kubeconfig)
        with KubeClient(config) as setup:
            for ns in range(3):
                setup.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team{ns}"}})
            counts = []
            for first, last in ((0, 5), (5, 40)):
                populate(setup, first, last)
                since = sandbox.requests("live")[-1].seq
                with KubeClient(config, page_size=50) as client:
                    live = read_live_objects(client, [*KINDS, ("example.com/v1", "Widget")])
                requests = sandbox.requests("live", since)
                counts.append(live.api_calls)
                assert live.api_calls == len(requests)
                assert {r.method for r in requests} == {"GET"}
                lists = [r for r in requests if r.query]
                assert all("labelSelector=app.kubernetes.io%2Fmanaged-by%3DHelm" in r.query for r in lists)
                assert len(lists) == live.lists
                assert len(live.objects["v1"]) == 2 * last  # ConfigMaps and Services, not the hand-made one
                assert len(live.objects["rbac.authorization.k8s.io/v1"]) == last
                assert live.count() == 3 * last
                assert live.get("v1", "Service", f"team{(last - 1) % 3}", f"svc{last - 1}") is not None
                assert live.get("rbac.authorization.k8s.io/v1", "ClusterRole", "", "role0") is not None
                assert live.get("v1", "ConfigMap", "team0", f"by-hand{first}") is None
                assert ("rbac.authorization.k8s.io", "ClusterRole") in live.cluster_scoped
                assert ("", "ConfigMap") not in live.cluster_scoped
                assert list(live.unserved) == [("example.com/v1", "Widget")]
    # 4 discoveries (v1, apps/v1, rbac, example.com) + one list per kind; 40 objects of a kind fit in one page
    assert counts == [8, 8]


def test_a_failing_list_is_an_error_not_an_unserved_kind(tmp_path: Path, sandbox_identity: Identity) -> None:
    with Sandbox(["live"], identity=sandbox_identity, admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        config = load_cluster_config("live", Runner(), kubeconfig=kubeconfig)
        sandbox.faults("live").fail("GET", r"^/apis/apps/v1$", status=503, count=None)
        with KubeClient(config, retries=1, backoff=0.01) as client, pytest.raises(ClusterError) as caught:
            read_live_objects(client, KINDS)
        assert "503" in caught.value.render()
        sandbox.faults("live").clear()
        sandbox.faults("live").fail("GET", r"/deployments$", status=500, count=None)
        with KubeClient(config, retries=1, backoff=0.01) as client, pytest.raises(ClusterError):
            read_live_objects(client, KINDS)
