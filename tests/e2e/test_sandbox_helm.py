"""Real helm 3.19 and 4.1 against the sandbox: the whole release life cycle, waits, CRDs, hand edits."""

from __future__ import annotations

import base64
import json
import re
import time

import pytest

from tests.e2e.conftest import CHARTS, E2ECluster, Tools

pytestmark = pytest.mark.e2e

APP = str(CHARTS / "app")


def _containers(tools: Tools, namespace: str, name: str) -> dict[str, dict[str, object]]:
    deployment = tools.get("deployment", name, "-n", namespace)
    return {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}


def _greeting(tools: Tools, namespace: str, name: str) -> str:
    greeting: str = tools.get("configmap", name, "-n", namespace)["data"]["greeting"]
    return greeting


def test_release_life_cycle(tools: Tools, namespace: str, helm_major: str) -> None:
    ns = ["--namespace", namespace]
    tools.helm("install", "web", APP, *ns, "--create-namespace", "--wait", "--timeout", "60s")
    assert _greeting(tools, namespace, "web") == "hello"
    secret = tools.get("secret", "web", "-n", namespace)
    assert base64.b64decode(secret["data"]["password"]).decode() == "not-a-real-secret"
    assert "stringData" not in secret
    service = tools.get("service", "web", "-n", namespace)
    assert service["spec"]["clusterIP"].count(".") == 3

    tools.helm("upgrade", "web", APP, *ns, "--set", "greeting=hi", "--set", "image.web=nginx:1.28", "--wait",
               "--timeout", "60s")
    assert _greeting(tools, namespace, "web") == "hi"
    containers = _containers(tools, namespace, "web")
    assert containers["web"]["image"] == "nginx:1.28"
    assert containers["web"]["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}] or \
        containers["web"]["ports"] == [{"containerPort": 80, "name": "http"}]
    assert [e["name"] for e in containers["web"]["env"]] == ["GREETING"]
    # the untouched container keeps its env and ports
    assert containers["sidecar"]["image"] == "busybox:1.36"
    assert containers["sidecar"]["env"] == [{"name": "MODE", "value": "sidecar"}, {"name": "LEVEL", "value": "info"}]
    assert [p["containerPort"] for p in containers["sidecar"]["ports"]] == [9090]

    releases = json.loads(tools.helm("list", *ns, "-o", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in releases] == [("web", "2", "deployed")]
    values = json.loads(tools.helm("get", "values", "web", *ns, "-o", "json").stdout)
    assert values == {"greeting": "hi", "image": {"web": "nginx:1.28"}}
    manifest = tools.helm("get", "manifest", "web", *ns).stdout
    assert 'greeting: "hi"' in manifest
    assert "kind: Deployment" in manifest
    status = json.loads(tools.helm("status", "web", *ns, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    assert status["version"] == 2
    history = json.loads(tools.helm("history", "web", *ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]

    tools.helm("rollback", "web", "1", *ns, "--wait", "--timeout", "60s")
    assert _greeting(tools, namespace, "web") == "hello"
    assert _containers(tools, namespace, "web")["web"]["image"] == "nginx:1.27"
    history = json.loads(tools.helm("history", "web", *ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history][-1] == (3, "deployed")
    assert history[-1]["description"] == "Rollback to 1"

    tools.helm("uninstall", "web", *ns)
    gone = tools.kubectl("get", "configmap", "web", "-n", namespace, check=False)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr
    assert tools.get("secrets", "-n", namespace, "-l", "owner=helm")["items"] == []
    assert json.loads(tools.helm("list", *ns, "-o", "json").stdout) == []


def test_helm_status_lists_resources(tools: Tools, namespace: str, helm_major: str) -> None:
    tools.helm("install", "web", APP, "-n", namespace, "--create-namespace")
    # helm 4 always lists the resources (as server-side Tables); helm 3 with --show-resources
    extra = ["--show-resources"] if helm_major == "3" else []
    text = tools.helm("status", "web", "-n", namespace, *extra).stdout
    assert "STATUS: deployed" in text
    assert "==> v1/ConfigMap" in text
    assert "ClusterIP" in text
    assert "1/1" in text  # READY column of the Deployment


def test_two_releases_in_one_namespace_do_not_collide(tools: Tools, namespace: str) -> None:
    ns = ["-n", namespace]
    tools.helm("install", "one", APP, *ns, "--create-namespace")
    tools.helm("install", "two", APP, *ns, "--set", "greeting=second")
    tools.helm("upgrade", "one", APP, *ns, "--set", "greeting=first")
    assert _greeting(tools, namespace, "one") == "first"
    assert _greeting(tools, namespace, "two") == "second"
    releases = {r["name"]: r["revision"] for r in json.loads(tools.helm("list", *ns, "-o", "json").stdout)}
    assert releases == {"one": "2", "two": "1"}
    assert len(json.loads(tools.helm("history", "two", *ns, "-o", "json").stdout)) == 1
    again = tools.helm("install", "two", APP, *ns, check=False)
    assert again.returncode != 0
    assert re.search("cannot re-?use a name", again.stderr)
    tools.helm("uninstall", "one", *ns)
    assert _greeting(tools, namespace, "two") == "second"
    assert [r["name"] for r in json.loads(tools.helm("list", *ns, "-o", "json").stdout)] == ["two"]


def _install_and_scale_with_wait(tools: Tools, namespace: str, wait: str) -> None:
    started = time.monotonic()
    tools.helm("install", "w", str(CHARTS / "waits"), "-n", namespace, "--create-namespace", wait,
               "--timeout", "60s")
    tools.helm("upgrade", "w", str(CHARTS / "waits"), "-n", namespace, "--set", "replicas=3", wait,
               "--timeout", "60s")
    assert time.monotonic() - started < 15
    assert tools.get("deployment", "w-deploy", "-n", namespace)["status"]["readyReplicas"] == 3
    assert tools.get("statefulset", "w-sts", "-n", namespace)["status"]["readyReplicas"] == 3
    job = tools.get("job", "w-job", "-n", namespace)
    assert {c["type"] for c in job["status"]["conditions"]} >= {"Complete"}
    assert tools.get("pvc", "w-data", "-n", namespace)["status"]["phase"] == "Bound"
    assert tools.get("service", "w-lb", "-n", namespace)["status"]["loadBalancer"]["ingress"]
    replica_sets = tools.get("replicasets", "-n", namespace, "-l", "app=w-deploy")["items"]
    assert sorted(rs["spec"]["replicas"] for rs in replica_sets) == [3]


def test_wait_finishes_in_seconds(tools: Tools, namespace: str) -> None:
    """helm 3 polls (legacy waiter); helm 4 watches with sendInitialEvents (watcher)."""
    _install_and_scale_with_wait(tools, namespace, "--wait")


@pytest.mark.parametrize("helm_major", ["4"])
def test_helm4_legacy_wait_finishes_in_seconds(tools: Tools, namespace: str) -> None:
    _install_and_scale_with_wait(tools, namespace, "--wait=legacy")


def test_crd_and_custom_resources(tools: Tools, namespace: str) -> None:
    ns = ["-n", namespace]
    tools.helm("install", "defs", str(CHARTS / "crd"), *ns, "--create-namespace", "--wait", "--timeout", "60s")
    crd = tools.get("crd", "widgets.e2e.helmkit.dev")
    assert {c["type"] for c in crd["status"]["conditions"]} >= {"Established"}
    widget = tools.get("widget", "defs-widget", *ns)  # the CRD schema's defaults are filled in
    assert widget["spec"] == {"size": 3, "color": "blue", "ports": [{"port": 8080, "protocol": "TCP"}]}
    tools.helm("install", "users", str(CHARTS / "widget-user"), *ns, "--wait", "--timeout", "60s")
    widgets = tools.get("widgets", *ns)["items"]
    assert sorted((w["metadata"]["name"], w["spec"]["size"]) for w in widgets) == [
        ("defs-widget", 3), ("large", 2), ("small", 1)]
    table = tools.kubectl("get", "wdg", *ns).stdout
    assert "SIZE" in table
    tools.helm("upgrade", "users", str(CHARTS / "widget-user"), *ns, "--set", "widgets={small}")
    assert [w["metadata"]["name"] for w in tools.get("widgets", *ns)["items"]] == ["defs-widget", "small"]
    tools.helm("uninstall", "users", *ns)
    assert [w["metadata"]["name"] for w in tools.get("widgets", *ns)["items"]] == ["defs-widget"]
    api_resources = tools.kubectl("api-resources", "--api-group=e2e.helmkit.dev").stdout
    assert "widgets" in api_resources


def test_hand_edit_then_upgrade(tools: Tools, namespace: str, helm_major: str) -> None:
    ns = ["-n", namespace]
    tools.helm("install", "web", APP, *ns, "--create-namespace")
    tools.kubectl("patch", "configmap", "web", *ns, "--type", "merge", "-p", '{"data":{"greeting":"edited"}}')
    assert _greeting(tools, namespace, "web") == "edited"
    result = tools.helm("upgrade", "web", APP, *ns, check=False)
    if helm_major == "3":
        assert result.returncode == 0, result.stderr
        assert _greeting(tools, namespace, "web") == "hello"  # the three-way merge reverts the hand edit
        return
    assert result.returncode != 0
    assert 'conflict with "kubectl-patch"' in result.stderr
    assert ".data.greeting" in result.stderr
    assert _greeting(tools, namespace, "web") == "edited"
    tools.helm("upgrade", "web", APP, *ns, "--force-conflicts")
    assert _greeting(tools, namespace, "web") == "hello"


def test_failed_install_with_rollback(tools: Tools, namespace: str, cluster: E2ECluster, helm_major: str) -> None:
    faults = cluster.faults()
    write = "POST" if helm_major == "3" else "PATCH"  # helm 4 creates with server-side apply
    faults.fail(write, r"/deployments", status=500, count=None)
    rollback = "--atomic" if helm_major == "3" else "--rollback-on-failure"
    result = tools.helm("install", "web", APP, "-n", namespace, "--create-namespace", rollback, "--timeout", "20s",
                        check=False)
    assert result.returncode != 0
    assert "500" in result.stderr or "injected fault" in result.stderr
    failed = [r for r in cluster.requests() if r.method == write and "/deployments" in r.path]
    assert failed
    assert {r.status for r in failed} == {500}
    faults.clear()
    every = ["-a"] if helm_major == "3" else []
    assert json.loads(tools.helm("list", "-n", namespace, *every, "-o", "json").stdout) == []
    assert tools.kubectl("get", "configmap", "web", "-n", namespace, check=False).returncode != 0
