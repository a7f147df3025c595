"""Unhealthy workloads in the sandbox with real helm 3.19 / 4.1 and kubectl: Pods behind workloads,
the ``sandbox.helmkit.dev/behaviour`` annotation and workload faults (in process and over the admin
endpoint), and ``helm --wait`` failing on them as on a real cluster."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helmkit.sandbox import AdminClient, Sandbox
from helmkit.sandbox.certificates import Identity
from tests.e2e.conftest import CHARTS, E2ECluster, Tools

pytestmark = pytest.mark.e2e
CHART = str(CHARTS / "behaving")


def _pods(tools: Tools, namespace: str, app: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tools.get("pods", "-n", namespace, "-l", f"app={app}")["items"]
    return items


def _eventually(check: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    """Poll until ``check`` returns something truthy (the sandbox's kubelet moves on its own)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"never saw {what}")


def _condition(obj: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == ctype)


def test_workloads_have_pods_from_their_template_and_helm_waits_for_them(tools: Tools, namespace: str) -> None:
    ns = ["--namespace", namespace]
    tools.helm("install", "shop", CHART, *ns, "--create-namespace", "--wait", "--timeout", "60s")
    web = _pods(tools, namespace, "shop")
    assert len(web) == 2
    rs = tools.get("replicasets", "-n", namespace)["items"]
    assert [r["metadata"]["ownerReferences"][0]["name"] for r in rs] == ["shop"]
    for pod in web:
        assert pod["metadata"]["name"].startswith(rs[0]["metadata"]["name"] + "-")
        assert pod["metadata"]["labels"]["tier"] == "web"
        assert pod["metadata"]["labels"]["pod-template-hash"] == rs[0]["metadata"]["labels"]["pod-template-hash"]
        assert pod["metadata"]["ownerReferences"][0] | {"uid": ""} == {
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs[0]["metadata"]["name"], "uid": "",
            "controller": True, "blockOwnerDeletion": True}
        assert pod["status"]["phase"] == "Running" and _condition(pod, "Ready")["status"] == "True"
    db = _pods(tools, namespace, "shop-db")
    assert sorted(p["metadata"]["name"] for p in db) == ["shop-db-0", "shop-db-1"]
    assert {p["metadata"]["ownerReferences"][0]["kind"] for p in db} == {"StatefulSet"}
    agent = _pods(tools, namespace, "shop-agent")
    assert [p["metadata"]["ownerReferences"][0]["kind"] for p in agent] == ["DaemonSet"]
    tools.kubectl("rollout", "status", "deployment/shop", "-n", namespace, "--timeout=10s")

    # a new template: new ReplicaSet, its Pods replace the old ones
    tools.helm("upgrade", "shop", CHART, *ns, "--set", "greeting=hi", "--wait", "--timeout", "60s")
    names = {p["metadata"]["name"] for p in _pods(tools, namespace, "shop")}
    assert len(names) == 2 and not names & {p["metadata"]["name"] for p in web}
    tools.helm("uninstall", "shop", *ns, "--wait", "--timeout", "60s")
    assert tools.get("pods", "-n", namespace)["items"] == []


@pytest.mark.parametrize("workload", ["deployment", "statefulset", "daemonset"])
def test_helm_wait_fails_on_pods_that_never_become_ready(tools: Tools, namespace: str, workload: str,
                                                         helm_major: str) -> None:
    ns = ["--namespace", namespace]
    tools.helm("install", "shop", CHART, *ns, "--create-namespace", "--wait", "--timeout", "60s")
    failed = tools.helm("upgrade", "shop", CHART, *ns, "--set", f"{workload}.behaviour=unready", "--wait",
                        "--timeout", "4s", check=False)
    if workload == "daemonset" and helm_major == "3":
        # helm 3 allows maxUnavailable (default 1) unready DaemonSet pods: on one node, that is all of them
        assert failed.returncode == 0, failed.stderr
    else:
        assert failed.returncode != 0, failed.stdout
        assert "context deadline exceeded" in failed.stderr or "timed out" in failed.stderr, failed.stderr
    kind, name = {"deployment": ("deployment", "shop"), "statefulset": ("statefulset", "shop-db"),
                  "daemonset": ("daemonset", "shop-agent")}[workload]
    obj = tools.get(kind, name, "-n", namespace)
    status = obj["status"]
    if kind == "deployment":
        assert "readyReplicas" not in status and "availableReplicas" not in status
        assert status["unavailableReplicas"] == 2
        available = _condition(obj, "Available")
        assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
        assert _condition(obj, "Progressing")["reason"] == "ReplicaSetUpdated"
    elif kind == "statefulset":
        assert "readyReplicas" not in status and status["replicas"] == 2
    else:
        assert "numberReady" not in status and status["numberUnavailable"] == 1
    pods = _pods(tools, namespace, name)
    assert pods and all(p["status"]["phase"] == "Running" for p in pods)
    ready = [_condition(p, "Ready") for p in pods]
    assert {(c["status"], c["reason"]) for c in ready} == {("False", "ContainersNotReady")}
    assert all(not c["ready"] and c["restartCount"] == 0 for p in pods for c in p["status"]["containerStatuses"])

    # healthy again: helm waits and passes (said explicitly: helm 3 patches from the last deployed
    # revision, so a value merely dropped would leave the failed revision's annotation in place)
    tools.helm("upgrade", "shop", CHART, *ns, "--set", f"{workload}.behaviour=healthy", "--wait", "--timeout", "60s")
    tools.kubectl("rollout", "status", f"{kind}/{name}", "-n", namespace, "--timeout=10s")


def test_a_workload_fault_makes_a_deployed_deployment_crash_loop(
        tools: Tools, namespace: str, cluster: E2ECluster) -> None:
    ns = ["--namespace", namespace]
    tools.helm("install", "shop", CHART, *ns, "--create-namespace", "--wait", "--timeout", "60s")
    cluster.faults().workload(namespace, "shop", "crashloop")
    pods = _pods(tools, namespace, "shop")
    for pod in pods:
        (container,) = pod["status"]["containerStatuses"]
        waiting = container["state"]["waiting"]
        assert waiting["reason"] == "CrashLoopBackOff"
        name = pod["metadata"]["name"]
        assert waiting["message"].startswith(f"back-off 10s restarting failed container=web pod={name}_{namespace}(")
        assert container["restartCount"] >= 1 and container["lastState"]["terminated"]["exitCode"] == 1
    assert _pods(tools, namespace, "shop-db")[0]["status"]["containerStatuses"][0]["ready"]  # only that workload
    table = tools.kubectl("get", "pods", "-n", namespace, "-l", "app=shop").stdout
    assert table.count("CrashLoopBackOff") == 2, table
    _eventually(lambda: all(p["status"]["containerStatuses"][0]["restartCount"] >= 2
                            for p in _pods(tools, namespace, "shop")), "the restart count grow")
    rollout = tools.kubectl("rollout", "status", "deployment/shop", "-n", namespace, "--timeout=2s", check=False)
    assert rollout.returncode != 0 and "0 of 2 updated replicas are available" in rollout.stdout

    # a fault outlives the ReplicaSet: an upgrade's new Pods crash too, helm --wait gives up
    failed = tools.helm("upgrade", "shop", CHART, *ns, "--set", "greeting=hi", "--wait", "--timeout", "4s",
                        check=False)
    assert failed.returncode != 0
    assert {p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            for p in _pods(tools, namespace, "shop")} == {"CrashLoopBackOff"}
    cluster.faults().workload(namespace, "shop", "healthy")
    tools.kubectl("rollout", "status", "deployment/shop", "-n", namespace, "--timeout=10s")


def test_behaviour_after_a_delay_lets_helm_wait_pass_then_the_pods_crash(tools: Tools, namespace: str) -> None:
    ns = ["--namespace", namespace]
    tools.helm("install", "shop", CHART, *ns, "--create-namespace", "--set", "deployment.behaviour=crashloop",
               "--set", "deployment.after=3s", "--wait", "--timeout", "60s")
    _eventually(lambda: {p["status"]["containerStatuses"][0].get("state", {}).get("waiting", {}).get("reason")
                         for p in _pods(tools, namespace, "shop")} == {"CrashLoopBackOff"}, "the pods crash")
    available = _condition(tools.get("deployment", "shop", "-n", namespace), "Available")
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_workload_faults_over_the_admin_endpoint(tools: Tools, sandbox_identity: Identity, tmp_path: Path) -> None:
    with Sandbox(["adm"], identity=sandbox_identity) as sandbox:  # with its admin endpoint
        env = dict(tools.env, KUBECONFIG=str(sandbox.write_kubeconfig(tmp_path / "adm-kubeconfig")))
        adm = Tools(tools.helm_bin, tools.kubectl_bin, env, "adm")
        faults = AdminClient(sandbox.admin_url, sandbox.admin_token).faults("adm")
        adm.helm("install", "shop", CHART, "--namespace", "shop", "--create-namespace", "--wait", "--timeout", "60s")
        faults.workload("shop", "shop-db", "unready")
        assert faults.workloads() == [{"namespace": "shop", "name": "shop-db", "behaviour": "unready", "after": 0.0}]
        assert "readyReplicas" not in adm.get("statefulset", "shop-db", "-n", "shop")["status"]
        faults.clear()
        assert faults.workloads() == []
        assert adm.get("statefulset", "shop-db", "-n", "shop")["status"]["readyReplicas"] == 2
        with pytest.raises(urllib.error.HTTPError, match="400"):
            faults.workload("shop", "shop", "sleepy")
