"""Real kubectl (1.34 and 1.35) against the sandbox: get, apply, patch, replace, delete, auth, faults."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import E2ECluster, Tools

pytestmark = pytest.mark.e2e

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: {ns}, labels: {{app: api, tier: backend}}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: api
          image: nginx:1.27
          ports: [{{containerPort: 80}}]
          env: [{{name: A, value: "1"}}]
        - name: log
          image: busybox:1.36
          env: [{{name: B, value: "2"}}]
"""


def _apply(tools: Tools, manifest: str, *extra: str) -> str:
    return tools.kubectl("apply", *extra, "-f", "-", stdin=manifest).stdout


def test_apply_get_patch_replace_delete(tools: Tools, namespace: str) -> None:
    _apply(tools, f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n")
    manifest = DEPLOYMENT.format(ns=namespace)
    assert "deployment.apps/api created" in _apply(tools, manifest)
    assert "deployment.apps/api unchanged" in _apply(tools, manifest)
    table = tools.kubectl("get", "deploy", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:4] == ["api", "2/2", "2", "2"]
    tools.kubectl("rollout", "status", "deployment/api", "-n", namespace, "--timeout=10s")

    # strategic merge: containers merge by name, the other container is untouched
    tools.kubectl("patch", "deployment", "api", "-n", namespace, "-p",
                  '{"spec":{"template":{"spec":{"containers":[{"name":"api","image":"nginx:1.28"}]}}}}')
    deployment = tools.get("deployment", "api", "-n", namespace)
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert containers["api"]["image"] == "nginx:1.28"
    assert containers["api"]["env"] == [{"name": "A", "value": "1"}]
    assert containers["log"]["env"] == [{"name": "B", "value": "2"}]
    assert deployment["metadata"]["generation"] == 2
    assert deployment["status"]["observedGeneration"] == 2

    tools.kubectl("patch", "deployment", "api", "-n", namespace, "--type", "merge", "-p",
                  '{"metadata":{"labels":{"tier":null,"team":"x"}}}')
    tools.kubectl("patch", "deployment", "api", "-n", namespace, "--type", "json", "-p",
                  '[{"op":"replace","path":"/spec/replicas","value":3}]')
    deployment = tools.get("deployment", "api", "-n", namespace)
    assert deployment["metadata"]["labels"] == {"app": "api", "team": "x"}
    assert deployment["spec"]["replicas"] == 3
    assert tools.get("rs", "-n", namespace, "-l", "app=api")["items"][-1]["status"]["readyReplicas"] == 3

    # replace with a stale resourceVersion: 409 Conflict
    stale = dict(deployment)
    stale["metadata"] = {**deployment["metadata"], "resourceVersion": str(int(
        deployment["metadata"]["resourceVersion"]) - 1)}
    result = tools.kubectl("replace", "-f", "-", stdin=json.dumps(stale), check=False)
    assert result.returncode != 0
    assert "the object has been modified" in result.stderr
    current = tools.get("deployment", "api", "-n", namespace)
    current["spec"]["replicas"] = 1
    tools.kubectl("replace", "-f", "-", stdin=json.dumps(current))
    assert tools.get("deployment", "api", "-n", namespace)["spec"]["replicas"] == 1

    # deleting the Deployment deletes its ReplicaSets (ownerReferences)
    tools.kubectl("delete", "deployment", "api", "-n", namespace)
    assert tools.get("rs", "-n", namespace)["items"] == []
    missing = tools.kubectl("get", "deployment", "api", "-n", namespace, check=False)
    assert 'deployments.apps "api" not found' in missing.stderr


def test_server_side_apply_and_selectors(tools: Tools, namespace: str) -> None:
    _apply(tools, f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n")
    for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
        tools.kubectl("create", "configmap", name, "-n", namespace, "--from-literal=k=v")
        tools.kubectl("label", "configmap", name, "-n", namespace, f"tier={tier}")
    names = [o["metadata"]["name"] for o in tools.get("cm", "-n", namespace, "-l", "tier=web")["items"]]
    assert names == ["a", "b"]
    names = [o["metadata"]["name"] for o in tools.get("cm", "-n", namespace, "-l", "tier notin (web)")["items"]]
    assert names == ["c"]
    names = [o["metadata"]["name"] for o in tools.get("cm", "-n", namespace, "--field-selector",
                                                       "metadata.name!=a", "-l", "tier")["items"]]
    assert names == ["b", "c"]

    applied = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: {namespace}}}\ndata: {{k: applied}}\n"
    result = tools.kubectl("apply", "--server-side", "-f", "-", stdin=applied, check=False)
    assert result.returncode != 0
    assert "conflict" in result.stderr.lower()
    _apply(tools, applied, "--server-side", "--force-conflicts")
    assert tools.get("cm", "a", "-n", namespace)["data"] == {"k": "applied"}
    fields = tools.get("cm", "a", "-n", namespace, "--show-managed-fields")["metadata"]["managedFields"]
    assert "kubectl" in {f["manager"] for f in fields}

    tools.kubectl("delete", "namespace", namespace)
    assert tools.kubectl("get", "cm", "a", "-n", namespace, check=False).returncode != 0


def test_missing_or_wrong_token_is_401(tools: Tools, cluster: E2ECluster, tmp_path: Path) -> None:
    sandbox = cluster.require_sandbox()
    wrong = tmp_path / "wrong"
    text = cluster.kubeconfig.read_text().replace(sandbox.token(cluster.name), "not-the-token")
    wrong.write_text(text)
    wrong.chmod(0o600)
    result = tools.kubectl("--kubeconfig", str(wrong), "get", "configmaps", check=False)
    assert result.returncode != 0
    assert "Unauthorized" in result.stderr or "must be logged in" in result.stderr
    assert any(r.status == 401 for r in cluster.requests())

    # without any credentials (kubectl would prompt for a password): a raw request gets a 401 Status
    context = ssl.create_default_context(cadata=sandbox.identity.certificate_pem if sandbox.identity else None)
    request = urllib.request.Request(sandbox.url(cluster.name) + "/api/v1/namespaces")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert caught.value.code == 401
    status = json.loads(caught.value.read())
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Unauthorized", 401)


def test_faults_and_request_log(tools: Tools, cluster: E2ECluster) -> None:
    faults = cluster.faults()
    faults.fail("GET", r"/namespaces/default/configmaps$", status=503, count=1)
    first = tools.kubectl("get", "configmaps", "-n", "default", check=False)
    assert first.returncode != 0
    assert tools.kubectl("get", "configmaps", "-n", "default").returncode == 0
    log = [r for r in cluster.requests() if r.path == "/api/v1/namespaces/default/configmaps"]
    assert [r.status for r in log] == [503, 200]
    assert log[0].user_agent.startswith("kubectl/")
    assert log[0].seq < log[1].seq
    assert log[0].time <= log[1].time

    faults.set_unreachable()
    down = tools.kubectl("get", "configmaps", "--request-timeout=5s", check=False)
    assert down.returncode != 0
    assert "refused" in down.stderr
    faults.set_unreachable(False)
    assert tools.kubectl("get", "configmaps").returncode == 0


def test_create_namespace_with_protobuf_body(tools: Tools, namespace: str) -> None:
    created = f"{namespace}-x"
    try:
        assert tools.kubectl("create", "namespace", created).stdout.strip() == f"namespace/{created} created"
        assert tools.kubectl("get", "namespace", created, "-o", "jsonpath={.status.phase}").stdout == "Active"
    finally:
        tools.kubectl("delete", "namespace", created, "--ignore-not-found", check=False)


# `kubectl create <kind>` sends protobuf bodies (typed clients); the same object sent as JSON must be
# stored identically. (kubectl create namespace, configmap and secret are covered above and in helm's
# release storage.)
PROTOBUF_CREATES = {
    "deployment": ["deployment", "d1", "--image=nginx:1.27", "--replicas=0", "--port=80"],
    "service": ["service", "nodeport", "s1", "--tcp=80:8080", "--node-port=30080"],
    "job": ["job", "j1", "--image=busybox:1.36", "--", "echo", "hi"],
    "cronjob": ["cronjob", "c1", "--image=busybox:1.36", "--schedule=*/5 * * * *", "--restart=Never"],
    "serviceaccount": ["serviceaccount", "sa1"],
    "role": ["role", "r1", "--verb=get,list", "--resource=pods,deployments.apps", "--resource-name=x"],
    "rolebinding": ["rolebinding", "rb1", "--role=r1", "--user=u", "--serviceaccount=ns:sa1", "--group=g"],
    "clusterrole": ["clusterrole", "e2e-cr1", "--verb=get", "--non-resource-url=/healthz"],
    "clusterrolebinding": ["clusterrolebinding", "e2e-crb1", "--clusterrole=cr1", "--user=u"],
    "priorityclass": ["priorityclass", "e2e-pc1", "--value=0", "--description=zero", "--preemption-policy=Never"],
    "quota": ["quota", "q1", "--hard=pods=2,requests.cpu=500m,requests.memory=1Gi", "--scopes=BestEffort"],
    "poddisruptionbudget": ["poddisruptionbudget", "p1", "--selector=app=x", "--max-unavailable=0"],
    "ingress": ["ingress", "i1", "--rule=a.example.com/api*=svc:http,tls=cert", "--class=nginx",
                "--annotation=a=b"],
}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "namespace", "generation"):
        meta.pop(key, None)
    text = json.dumps(obj)
    uid = obj.get("spec", {}).get("selector", {}).get("matchLabels", {}).get("batch.kubernetes.io/controller-uid")
    if uid:
        text = text.replace(uid, "<uid>")
    result: dict[str, Any] = json.loads(text)
    result.pop("status", None)
    spec = result.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        spec.pop(key, None)
    return result


@pytest.mark.parametrize("what", sorted(PROTOBUF_CREATES))
def test_typed_create_with_protobuf_body_stores_what_json_would(tools: Tools, cluster: E2ECluster, namespace: str,
                                                               what: str) -> None:
    args = PROTOBUF_CREATES[what]
    json_ns = f"{namespace}-json"
    cluster_scoped = args[1].startswith("e2e-")
    for ns in (namespace, json_ns):
        tools.kubectl("create", "namespace", ns)
    try:
        built = tools.kubectl("create", "-n", json_ns, "--dry-run=client", "-o", "json", *args).stdout
        kind = json.loads(built)["kind"]
        since = max((r.seq for r in cluster.requests()), default=0) if cluster.is_sandbox else 0
        tools.kubectl("create", "-n", namespace, *args)
        if cluster.is_sandbox:
            posts = [r for r in cluster.requests(since) if r.method == "POST"]
            assert [r.content_type.split(";")[0] for r in posts] == ["application/vnd.kubernetes.protobuf"]
            assert [r.status for r in posts] == [201]
        typed = tools.get(kind.lower(), args[1 if args[0] != "service" else 2], "-n", namespace)
        if cluster_scoped:
            tools.kubectl("delete", kind.lower(), typed["metadata"]["name"])
        tools.kubectl("create", "-n", json_ns, "-f", "-", stdin=built)
        plain = tools.get(kind.lower(), typed["metadata"]["name"], "-n", json_ns)
    finally:
        if cluster_scoped:
            tools.kubectl("delete", args[0], args[1], "--ignore-not-found", check=False)
    assert _comparable(typed) == _comparable(plain)
