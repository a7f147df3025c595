"""ClusterLive.decode: the current records a verdict did not settle are fetched when needed, with a
client opened on the cluster's config; a cluster lost meanwhile becomes unreachable, not a traceback."""

from __future__ import annotations

import copy
from pathlib import Path

from helmkit.actions.livestate import ClusterLive
from helmkit.adapters.helmstorage import read_current_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError
from helmkit.model.instance import Cluster
from helmkit.sandbox import Sandbox
from tests.unit.adapters.test_helmstorage import helm3_record, secret


def test_decode_fetches_later_and_a_lost_cluster_becomes_unreachable(tmp_path: Path) -> None:
    with Sandbox(["one"], admin=False) as sandbox:
        config = load_cluster_config("one", Runner(), kubeconfig=sandbox.write_kubeconfig(tmp_path / "kubeconfig"))
        with KubeClient(config, timeout=2.0, retries=0) as client:
            client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
            for name in ("web", "api"):
                body = copy.deepcopy(secret(helm3_record(name, 1, "deployed", manifest=f"{name}: 1\n")))
                client.create({**body, "apiVersion": "v1"})
            snapshot = read_current_releases(client, decode=False)
        live = ClusterLive(Cluster("one", "prod", "one"), snapshot.histories, snapshot=snapshot)
        assert all(h.current.summary for h in live.histories.values())
        live.decode({("prod", "web")})  # the listing client is closed: one is opened on the config
        assert live.reachable
        assert live.histories[("prod", "web")].current.manifest == "web: 1\n"
        assert live.histories[("prod", "api")].current.summary
        sandbox.faults("one").set_unreachable()
        live.decode({("prod", "api")})
        assert not live.reachable and isinstance(live.error, ClusterError)
        assert "unreachable" in live.error.message


def test_a_manifest_deployed_on_several_clusters_is_kept_once(tmp_path: Path) -> None:
    from helmkit.actions.livestate import gather_live_state
    from helmkit.context import Context

    big = "kind: ConfigMap\ndata:\n" + "".join(f"  key{i}: value {i}\n" for i in range(1000))
    with Sandbox(["one", "two"], admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        for name in ("one", "two"):
            with KubeClient(load_cluster_config(name, Runner(), kubeconfig=kubeconfig)) as client:
                client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
                client.create({**secret(helm3_record("web", 1, "deployed", manifest=big)), "apiVersion": "v1"})
                client.create({**secret(helm3_record("small", 1, "deployed", manifest="a: 1\n")), "apiVersion": "v1"})
        live = gather_live_state(Context(repo=tmp_path), [Cluster(n, "prod", n) for n in ("one", "two")],
                                 kubeconfig=kubeconfig)
    one, two = (live[n].histories[("prod", "web")].current for n in ("one", "two"))
    assert one.manifest == two.manifest == big
    assert one.manifest is two.manifest  # decoded twice, kept once
