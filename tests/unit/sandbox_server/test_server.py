"""The sandbox API server over real HTTPS on 127.0.0.1: routing, verbs, discovery, watch, auth."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from helmkit.sandbox import Sandbox
from helmkit.sandbox.certificates import Identity
from helmkit.sandbox.protobuf import encode
from tests.unit.sandbox_server.conftest import Api, configmap

CMS = "/api/v1/namespaces/default/configmaps"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.unit.helmkit.dev"},
    "spec": {"group": "unit.helmkit.dev", "scope": "Cluster",
             "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget", "shortNames": ["gd"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}}}]},
}


def test_discovery_and_version(api: Api) -> None:
    version = api.get("/version").json()
    assert version["gitVersion"].startswith("v1.")
    assert api.get("/api").json()["versions"] == ["v1"]
    groups = {g["name"] for g in api.get("/apis").json()["groups"]}
    assert {"apps", "batch", "apiregistration.k8s.io", "rbac.authorization.k8s.io"} <= groups
    core = {r["name"]: r for r in api.get("/api/v1").json()["resources"]}
    assert core["configmaps"]["namespaced"] is True
    assert core["namespaces"]["namespaced"] is False
    assert "cm" in core["configmaps"]["shortNames"]
    apps = {r["name"]: r for r in api.get("/apis/apps/v1").json()["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale"
    assert api.get("/apis/nope/v1").status == 404


def test_aggregated_discovery(api: Api) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    reply = api.get("/apis", accept=accept)
    assert reply.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    doc = reply.json()
    assert (doc["kind"], doc["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    groups = {item["metadata"]["name"]: item for item in doc["items"]}
    assert "" not in groups
    apps = {r["resource"]: r for r in groups["apps"]["versions"][0]["resources"]}
    deployments = apps["deployments"]
    assert deployments["scope"] == "Namespaced"
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert {s["subresource"]: s["responseKind"]["kind"] for s in deployments["subresources"]} == {
        "scale": "Scale", "status": "Deployment"}
    core = api.get("/api", accept=accept).json()["items"]
    assert [item["metadata"]["name"] for item in core] == [""]
    namespaces = {r["resource"]: r for r in core[0]["versions"][0]["resources"]}["namespaces"]
    assert (namespaces["scope"], namespaces["shortNames"]) == ("Cluster", ["ns"])
    plain = api.get("/apis")
    assert plain.headers["Content-Type"] == "application/json"
    assert plain.json()["kind"] == "APIGroupList"


def test_openapi_v3_declares_field_validation(api: Api) -> None:
    index = api.get("/openapi/v3").json()["paths"]
    url = index["apis/apps/v1"]["serverRelativeURL"]
    doc = api.get(url).json()
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}} in \
        patch["parameters"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert api.get("/openapi/v2").status == 404


def test_crud_list_pagination_and_selectors(api: Api) -> None:
    for i in range(5):
        assert api.post(CMS, configmap(f"cm{i}", labels={"parity": "even" if i % 2 == 0 else "odd"})).status == 201
    again = api.post(CMS, configmap("cm0"))
    assert again.status == 409
    assert again.json()["reason"] == "AlreadyExists"
    first = api.get(CMS + "?limit=2").json()
    assert first["kind"] == "ConfigMapList"
    assert first["apiVersion"] == "v1"
    assert [o["metadata"]["name"] for o in first["items"]] == ["cm0", "cm1"]
    token = first["metadata"]["continue"]
    rest = api.get(f"{CMS}?limit=10&continue={token}").json()
    assert [o["metadata"]["name"] for o in rest["items"]] == ["cm2", "cm3", "cm4"]
    assert "continue" not in rest["metadata"]
    even = api.get(CMS + "?labelSelector=parity%3Deven").json()["items"]
    assert [o["metadata"]["name"] for o in even] == ["cm0", "cm2", "cm4"]
    named = api.get("/api/v1/configmaps?fieldSelector=metadata.name%3Dcm3").json()["items"]
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in named] == [("default", "cm3")]

    live = api.get(CMS + "/cm1").json()
    stale = dict(live, data={"k": "new"})
    assert api.request("PUT", CMS + "/cm1", stale).status == 200
    conflict = api.request("PUT", CMS + "/cm1", dict(live, data={"k": "newer"}))
    assert conflict.status == 409
    assert conflict.json()["reason"] == "Conflict"
    current = api.get(CMS + "/cm1").json()
    noop = api.request("PUT", CMS + "/cm1", current).json()
    assert noop["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"]

    assert api.request("DELETE", CMS + "/cm1").json()["status"] == "Success"
    missing = api.get(CMS + "/cm1")
    assert (missing.status, missing.json()["reason"]) == (404, "NotFound")
    deleted = api.request("DELETE", CMS + "?labelSelector=parity%3Deven").json()
    assert len(deleted["items"]) == 3
    assert [o["metadata"]["name"] for o in api.get(CMS).json()["items"]] == ["cm3"]


def test_dry_run_and_missing_namespace(api: Api) -> None:
    assert api.post(CMS + "?dryRun=All", configmap("dry")).status == 201
    assert api.get(CMS + "/dry").status == 404
    missing = api.post("/api/v1/namespaces/nope/configmaps", configmap("x", "nope"))
    assert missing.status == 404
    assert 'namespaces "nope" not found' in missing.json()["message"]


def test_patch_types(api: Api) -> None:
    api.post(CMS, configmap("p", data={"a": "1", "b": "2"}))
    merged = api.request("PATCH", CMS + "/p", {"data": {"a": None, "c": "3"}},
                         content_type="application/merge-patch+json").json()
    assert merged["data"] == {"b": "2", "c": "3"}
    patched = api.request("PATCH", CMS + "/p", [{"op": "replace", "path": "/data/b", "value": "x"}],
                          content_type="application/json-patch+json").json()
    assert patched["data"]["b"] == "x"
    unknown = api.request("PATCH", CMS + "/p", {"data": {}}, content_type="application/x-unknown")
    assert unknown.status == 415
    assert unknown.json()["kind"] == "Status"
    applied = api.request("PATCH", CMS + "/q?fieldManager=unit&force=false",
                          configmap("q", data={"owned": "1"}), content_type="application/apply-patch+yaml")
    assert applied.status == 201
    manager = api.request("PATCH", CMS + "/q?fieldManager=other",
                          configmap("q", data={"owned": "2"}), content_type="application/apply-patch+yaml")
    assert manager.status == 409
    assert 'conflict with "unit"' in manager.json()["message"]


def test_protobuf_secret_and_table(api: Api) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "s", "namespace": "default", "labels": {"owner": "helm"}},
              "data": {"k": base64.b64encode(b"value").decode()}}
    created = api.post("/api/v1/namespaces/default/secrets", encode(secret),
                       content_type="application/vnd.kubernetes.protobuf")
    assert created.status == 201
    assert created.headers["Content-Type"] == "application/json"
    assert created.json()["data"] == {"k": base64.b64encode(b"value").decode()}
    table = api.get("/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm",
                    accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json").json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:2] == ["Name", "Type"]
    assert table["rows"][0]["cells"][0] == "s"


def test_crd_makes_its_kind_servable_and_removes_it(api: Api) -> None:
    assert api.get("/apis/unit.helmkit.dev/v1/gadgets").status == 404
    assert api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD).status == 201
    crd = api.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.unit.helmkit.dev").json()
    assert {c["type"] for c in crd["status"]["conditions"]} == {"NamesAccepted", "Established"}
    resources = api.get("/apis/unit.helmkit.dev/v1").json()["resources"]
    assert [(r["name"], r["namespaced"]) for r in resources] == [("gadgets", False), ("gadgets/status", False)]
    gadget = {"apiVersion": "unit.helmkit.dev/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"n": 1}}
    assert api.post("/apis/unit.helmkit.dev/v1/gadgets", gadget).status == 201
    strategic = api.request("PATCH", "/apis/unit.helmkit.dev/v1/gadgets/g", {"spec": {"n": 2}},
                            content_type="application/strategic-merge-patch+json")
    assert strategic.status == 415  # as on a real server: no strategic merge for custom resources
    status = api.request("PUT", "/apis/unit.helmkit.dev/v1/gadgets/g/status",
                         {**gadget, "spec": {"n": 99}, "status": {"ok": True}}).json()
    assert status["status"] == {"ok": True}
    assert status["spec"] == {"n": 1}
    assert api.request("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                                 "gadgets.unit.helmkit.dev").status == 200
    assert api.get("/apis/unit.helmkit.dev/v1/gadgets").status == 404
    assert "unit.helmkit.dev" not in {g["name"] for g in api.get("/apis").json()["groups"]}


def test_deployment_scale_and_controller(api: Api) -> None:
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                 "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c"}]}}},
    }
    api.post("/apis/apps/v1/namespaces/default/deployments", deployment)
    scale = api.get("/apis/apps/v1/namespaces/default/deployments/d/scale").json()
    assert (scale["kind"], scale["spec"]["replicas"]) == ("Scale", 1)
    scaled = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/d/scale", {"spec": {"replicas": 4}},
                         content_type="application/merge-patch+json").json()
    assert scaled["spec"]["replicas"] == 4
    live = api.get("/apis/apps/v1/namespaces/default/deployments/d").json()
    assert live["status"]["readyReplicas"] == 4
    assert live["status"]["observedGeneration"] == live["metadata"]["generation"] == 2
    sets = api.get("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dd").json()["items"]
    assert len(sets) == 1
    assert sets[0]["metadata"]["ownerReferences"][0]["uid"] == live["metadata"]["uid"]
    assert sets[0]["status"]["readyReplicas"] == 4


def _watch_lines(api: Api, path: str, count: int) -> list[dict[str, object]]:
    parts = urlsplit(api.url)
    context = ssl.create_default_context(cadata=api.ca)
    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=context, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {api.token}"})
    response = conn.getresponse()
    assert response.status == 200
    events = [json.loads(response.readline()) for _ in range(count)]
    conn.close()
    return events


def test_watch_initial_events_end_with_bookmark(api: Api) -> None:
    api.post(CMS, configmap("w1"))
    events = _watch_lines(api, CMS + "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                                     "&allowWatchBookmarks=true&timeoutSeconds=5", 2)
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}  # type: ignore[index]

    rv = api.get(CMS).json()["metadata"]["resourceVersion"]
    threading.Timer(0.2, lambda: Api(api.url, api.token, api.ca).post(CMS, configmap("w2"))).start()
    events = _watch_lines(api, f"{CMS}?watch=true&resourceVersion={rv}&timeoutSeconds=5", 1)
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["metadata"]["name"] == "w2"  # type: ignore[index]


def test_watch_ends_when_the_client_goes_away(api: Api, sandbox: Sandbox) -> None:
    store = sandbox.cluster("one").store
    _watch_lines(api, CMS + "?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&timeoutSeconds=60", 1)
    deadline = time.monotonic() + 5
    while store._watchers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not store._watchers


def test_tokens_are_per_cluster(api: Api, sandbox: Sandbox) -> None:
    assert api.get(CMS, token=None).status == 401
    wrong = api.get(CMS, token=sandbox.token("two"))
    assert wrong.status == 401
    assert wrong.json()["reason"] == "Unauthorized"
    assert api.get("/healthz", token=None).status == 200


def test_invalid_objects_are_422_or_400(api: Api) -> None:
    nameless = api.post(CMS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert (nameless.status, nameless.json()["reason"]) == (422, "Invalid")
    generated = api.post(CMS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}})
    assert generated.json()["metadata"]["name"].startswith("gen-")
    wrong_kind = api.post(CMS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    assert wrong_kind.status == 400
    other_namespace = api.post(CMS, configmap("x", "kube-system"))
    assert other_namespace.status == 400
    bad_label = api.post(CMS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y", "labels": {"a": 1}}})
    assert bad_label.status == 422


def test_request_headers_are_read_case_insensitively_and_malformed_requests_get_an_http_error(
        api: Api, sandbox: Sandbox, identity: Identity) -> None:
    parts = urlsplit(sandbox.url("one"))
    context = ssl.create_default_context(cadata=identity.certificate_pem)

    def raw(request: bytes) -> bytes:
        with socket.create_connection((parts.hostname or "", parts.port or 0), timeout=10) as plain, \
                context.wrap_socket(plain, server_hostname=parts.hostname) as tls:
            tls.sendall(request)
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
            return answer

    token = sandbox.token("one")
    ok = raw(f"GET /api/v1/namespaces HTTP/1.1\r\nhost: x\r\nAUTHORIZATION: Bearer {token}\r\n"
             f"authorization: Bearer wrong\r\nconnection: Close\r\n\r\n".encode())
    assert ok.startswith(b"HTTP/1.1 200 ") and b'"NamespaceList"' in ok  # the first Authorization, any case
    many = "".join(f"X-{i}: {i}\r\n" for i in range(101))
    assert raw(f"GET /version HTTP/1.1\r\n{many}\r\n".encode()).split(b"\r\n")[0] == b"HTTP/1.1 431 Too many headers"
    assert b"Error code: 400" in raw(b"GET /version\r\n\r\n")  # no HTTP/1.x version: refused
    assert api.get("/api/v1/namespaces").status == 200  # kept-alive requests go on as before
