"""KubeClient against a real HTTP(S) server on 127.0.0.1: TLS, auth, pagination, retries, errors.

The server here is a minimal API server written for faults the sandbox cannot produce on demand in
a unit test (a 503 on the nth request, a connection dropped mid-response, a hanging response, a
rejected client certificate). End-to-end behaviour with real helm is in tests/e2e.
"""

from __future__ import annotations

import base64
import gzip
import json
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helmkit.adapters.helmstorage import latest_releases, read_releases
from helmkit.adapters.kube import KubeApiError, KubeClient
from helmkit.adapters.kubeconfig import ClusterConfig, Credentials, load_cluster_config
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError

TOKEN = "canary-bearer-token-77"
DISCOVERY = {
    "/api/v1": [("secrets", "Secret", True), ("configmaps", "ConfigMap", True), ("namespaces", "Namespace", False),
                ("pods/log", "Pod", True)],
    "/apis/apps/v1": [("deployments", "Deployment", True)],
}


@dataclass
class ApiState:
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (plural, ns, name)
    faults: list[tuple[str, Any]] = field(default_factory=list)  # consumed one per request
    requests: list[tuple[str, str]] = field(default_factory=list)
    token: str | None = TOKEN
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ApiState

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.handle_any("GET")

    def do_POST(self) -> None:
        self.handle_any("POST")

    def do_PUT(self) -> None:
        self.handle_any("PUT")

    def do_PATCH(self) -> None:
        self.handle_any("PATCH")

    def do_DELETE(self) -> None:
        self.handle_any("DELETE")

    def handle_any(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with self.state.lock:
            self.state.requests.append((method, self.path))
            fault = self.state.faults.pop(0) if self.state.faults else ("ok", None)
        if fault[0] == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault[0] == "hang":
            time.sleep(fault[1])
        if fault[0] == "status":
            self.reply(fault[1], {"kind": "Status", "message": "injected"}, {"Retry-After": "0"})
            return
        if self.state.token and self.headers.get("Authorization") != f"Bearer {self.state.token}":
            self.reply(401, {"kind": "Status", "message": "Unauthorized", "reason": "Unauthorized"})
            return
        if url.path in DISCOVERY:
            resources = [{"name": n, "kind": k, "namespaced": ns} for n, k, ns in DISCOVERY[url.path]]
            self.reply(200, {"kind": "APIResourceList", "resources": resources})
            return
        if url.path == "/version":
            self.reply(200, {"major": "1", "minor": "35"})
            return
        if not url.path.startswith("/api/v1/"):
            self.reply(404, {"kind": "Status", "message": "the server could not find the requested resource"})
            return
        self.reply(*self.resources(method, url.path, query, body))

    def resources(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")[2:]  # after api/v1
        namespace = ""
        if parts[:1] == ["namespaces"] and len(parts) > 2:
            namespace, parts = parts[1], parts[2:]
        plural, name = parts[0], (parts[1] if len(parts) > 1 else "")
        store = self.state.objects
        if method == "GET" and not name:
            return 200, self.list_page(plural, namespace, query)
        key = (plural, namespace, name or (body or {}).get("metadata", {}).get("name", ""))
        if method == "POST":
            if key in store:
                return 409, {"kind": "Status", "message": "already exists", "reason": "AlreadyExists"}
            store[key] = body
            return 201, body
        if key not in store:
            return 404, {"kind": "Status", "message": f"{plural} {name!r} not found", "reason": "NotFound"}
        if method == "PUT":
            store[key] = body
        elif method == "PATCH":
            store[key] = {**store[key], **body, "data": {**store[key].get("data", {}), **body.get("data", {})}}
        elif method == "DELETE":
            return 200, store.pop(key)
        return 200, store[key]

    def list_page(self, plural: str, namespace: str, query: dict[str, str]) -> dict[str, Any]:
        wanted = dict(p.split("=") for p in query.get("labelSelector", "").split(",") if p)
        items = [o for (p, ns, _), o in sorted(self.state.objects.items())
                 if p == plural and (not namespace or ns == namespace)
                 and all(o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())]
        start = int(query.get("continue") or 0)
        limit = int(query.get("limit") or len(items) or 1)
        page = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items[start:start + limit]]
        more = start + limit < len(items)
        return {"kind": "List", "metadata": {"continue": str(start + limit) if more else ""}, "items": page}

    def reply(self, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@dataclass
class Server:
    url: str
    state: ApiState


def serve(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    state = ApiState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    try:
        yield Server(f"{scheme}://127.0.0.1:{httpd.server_address[1]}", state)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serve()


@dataclass(frozen=True)
class Pki:
    ca: bytes
    other_ca: bytes
    server_cert: Path
    server_key: Path
    client_cert: bytes
    client_key: bytes


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""
    d = tmp_path_factory.mktemp("pki")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    for ca in ("ca", "other"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days", "2", "-subj", f"/CN={ca}")
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:kubernetes.internal\n")
    for leaf, ext in (("server", ["-extfile", "ext"]), ("client", [])):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr", "-subj", f"/CN={leaf}")
        openssl("x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{leaf}.crt", "-days", "2", *ext)
    return Pki((d / "ca.crt").read_bytes(), (d / "other.crt").read_bytes(), d / "server.crt", d / "server.key",
               (d / "client.crt").read_bytes(), (d / "client.key").read_bytes())


def tls_server(pki: Pki, require_client_cert: bool) -> Iterator[Server]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=pki.ca.decode())
    yield from serve(ctx)


def config(url: str, **over: Any) -> ClusterConfig:
    fields: dict[str, Any] = {"context": "test-ctx", "cluster": "c", "user": "u", "server": url,
                              "kubeconfig": "/k/config", "static": Credentials(token=TOKEN)}
    fields.update(over)
    return ClusterConfig(**fields)


def client(url: str, **over: Any) -> KubeClient:
    return KubeClient(config(url, **over), timeout=2, retries=3, backoff=0.01)


def cm(name: str, ns: str = "default", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "data": {"a": "1"}}


def test_crud_and_discovery_cached(server: Server) -> None:
    kube = client(server.url)
    assert kube.get("v1", "ConfigMap", "x", "default") is None
    kube.create(cm("x"))
    assert kube.get("v1", "configmaps", "x", "default") == cm("x")
    kube.replace({**cm("x"), "data": {"a": "2"}})
    kube.patch("v1", "ConfigMap", "x", {"data": {"b": "3"}}, namespace="default")
    assert kube.get("v1", "ConfigMap", "x", "default")["data"] == {"a": "2", "b": "3"}  # type: ignore[index]
    assert kube.delete("v1", "ConfigMap", "x", "default") is True
    assert kube.delete("v1", "ConfigMap", "x", "default") is False
    discovery = [p for m, p in server.state.requests if p == "/api/v1"]
    assert discovery == ["/api/v1"]
    assert kube.calls == len(server.state.requests)
    with pytest.raises(KubeApiError) as info:
        kube.create(cm("y")) and kube.create(cm("y"))
    assert info.value.status == 409
    assert kube.resource("apps/v1", "deployments").path("ns", "d") == "/apis/apps/v1/namespaces/ns/deployments/d"
    assert kube.resource("v1", "Namespace").path("ignored", "n") == "/api/v1/namespaces/n"
    with pytest.raises(ClusterError, match="does not serve log"):
        kube.resource("v1", "log")
    with pytest.raises(ClusterError, match="does not serve API batch/v1"):
        kube.resource("batch/v1", "Job")


def test_list_pages_with_selectors_and_fills_kind(server: Server) -> None:
    for i in range(7):
        server.state.objects[("configmaps", "a" if i % 2 else "b", f"cm{i}")] = cm(f"cm{i}", owner="helm")
    server.state.objects[("configmaps", "a", "other")] = cm("other", owner="me")
    kube = KubeClient(config(server.url), page_size=3)
    items = kube.list("v1", "ConfigMap", label_selector="owner=helm")
    assert sorted(i["metadata"]["name"] for i in items) == [f"cm{i}" for i in range(7)]
    assert {(i["apiVersion"], i["kind"]) for i in items} == {("v1", "ConfigMap")}
    assert kube.calls == 1 + 3  # discovery + ceil(7/3) pages
    assert [i["metadata"]["name"] for i in kube.list("v1", "ConfigMap", namespace="a")] == [
        "cm1", "cm3", "cm5", "other"]
    listed = [urllib.parse.unquote(p) for m, p in server.state.requests if "configmaps?" in p]
    assert "labelSelector=owner=helm" in listed[0] and "continue=3" in listed[1]


def test_expired_continue_token_restarts_list_once(server: Server) -> None:
    for i in range(5):
        server.state.objects[("configmaps", "a", f"cm{i}")] = cm(f"cm{i}")
    kube = KubeClient(config(server.url), page_size=2)
    kube.resource("v1", "ConfigMap")
    server.state.faults = [("ok", None), ("status", 410)]
    assert len(kube.list("v1", "ConfigMap")) == 5
    assert kube.calls == 1 + 2 + 3
    server.state.faults = [("ok", None), ("status", 410), ("ok", None), ("status", 410)]
    with pytest.raises(KubeApiError) as info:
        kube.list("v1", "ConfigMap")
    assert info.value.status == 410


def test_reads_retry_on_5xx_429_and_dropped_connections(server: Server) -> None:
    kube = client(server.url)
    kube.resource("v1", "ConfigMap")
    server.state.objects[("configmaps", "default", "x")] = cm("x")
    server.state.faults = [("status", 503), ("drop", None), ("status", 429)]
    assert kube.get("v1", "ConfigMap", "x", "default") == cm("x")
    assert kube.calls == 1 + 4


def test_reads_give_up_with_cluster_error(server: Server) -> None:
    kube = client(server.url)
    kube.resource("v1", "ConfigMap")
    server.state.faults = [("status", 500)] * 4
    with pytest.raises(ClusterError, match=r"unreachable at http://127\.0\.0\.1:\d+: HTTP 500 injected \(after 4"):
        kube.list("v1", "ConfigMap")


def test_read_timeout_retried(server: Server) -> None:
    kube = KubeClient(config(server.url), timeout=0.3, retries=1, backoff=0.01)
    kube.resource("v1", "ConfigMap")
    server.state.faults = [("hang", 0.6)]
    assert kube.list("v1", "ConfigMap") == []
    assert kube.calls == 3


def test_writes_are_not_retried(server: Server) -> None:
    kube = client(server.url)
    kube.resource("v1", "ConfigMap")
    server.state.faults = [("status", 503)]
    with pytest.raises(KubeApiError, match="injected") as info:
        kube.create(cm("x"))
    assert info.value.status == 503
    server.state.faults = [("drop", None)]
    with pytest.raises(ClusterError, match=r"connection dropped.*may or may not have been made") as dropped:
        kube.create(cm("x"))
    assert "read the object again" in (dropped.value.hint or "")
    assert [m for m, _ in server.state.requests].count("POST") == 2


def test_unreachable_cluster() -> None:
    kube = client("http://127.0.0.1:9")
    start = time.monotonic()
    with pytest.raises(ClusterError) as info:
        kube.version()
    assert "cluster test-ctx: unreachable at http://127.0.0.1:9" in info.value.render()
    assert time.monotonic() - start < 2


def test_401_and_403_have_hints_and_never_the_token(server: Server) -> None:
    kube = client(server.url, static=Credentials(token="wrong-token-123"))
    with pytest.raises(KubeApiError) as info:
        kube.version()
    assert info.value.status == 401 and "user 'u'" in (info.value.hint or "")
    assert "wrong-token-123" not in info.value.render()
    kube = client(server.url)
    kube.resource("v1", "ConfigMap")
    server.state.faults = [("status", 403)]
    with pytest.raises(KubeApiError, match="forbidden") as forbidden:
        kube.delete("v1", "ConfigMap", "x", "default")
    assert "RBAC" in (forbidden.value.hint or "")


def test_basic_auth_header(server: Server) -> None:
    server.state.token = None
    kube = client(server.url, static=Credentials(username="admin", password="pw"))
    kube.version()
    assert kube.calls == 1


def test_thread_safe_and_connections_reused(server: Server) -> None:
    for i in range(20):
        server.state.objects[("configmaps", "default", f"c{i}")] = cm(f"c{i}")
    kube = client(server.url)
    results: list[int] = []

    def work() -> None:
        for _ in range(10):
            results.append(len(kube.list("v1", "ConfigMap")))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [20] * 40
    assert kube.calls == 40 + len([p for _, p in server.state.requests if p == "/api/v1"])
    kube.close()


def test_tls_with_ca_and_client_certificate(pki: Pki) -> None:
    for srv in tls_server(pki, require_client_cert=True):
        srv.state.token = None
        kube = client(srv.url, ca_pem=pki.ca, static=Credentials(client_cert_pem=pki.client_cert,
                                                                  client_key_pem=pki.client_key))
        assert kube.version()["minor"] == "35"
        no_cert = KubeClient(config(srv.url, ca_pem=pki.ca, static=Credentials()), timeout=2, retries=0)
        with pytest.raises(ClusterError):
            no_cert.version()


def test_tls_verification(pki: Pki) -> None:
    for srv in tls_server(pki, require_client_cert=False):
        wrong_ca = client(srv.url, ca_pem=pki.other_ca)
        with pytest.raises(ClusterError, match="TLS handshake") as info:
            wrong_ca.version()
        assert "certificate-authority" in (info.value.hint or "")
        assert client(srv.url, insecure_skip_tls_verify=True).version()["major"] == "1"
        assert client(srv.url, ca_pem=pki.ca).version()["major"] == "1"
        assert client(srv.url, ca_pem=pki.ca, tls_server_name="kubernetes.internal").version()["major"] == "1"
        with pytest.raises(ClusterError, match="TLS handshake"):
            client(srv.url, ca_pem=pki.ca, tls_server_name="other.internal").version()


def release_secret(name: str, ns: str, revision: int, status: str) -> dict[str, Any]:
    doc = {"name": name, "namespace": ns, "version": revision, "info": {"status": status},
           "chart": {"metadata": {"name": "c", "version": "1.0.0"}}, "config": {}, "manifest": ""}
    payload = base64.b64encode(gzip.compress(json.dumps(doc).encode()))
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": ns,
                         "labels": {"owner": "helm", "name": name, "status": status, "version": str(revision)}},
            "data": {"release": base64.b64encode(payload).decode()}}


def test_read_releases_constant_calls(server: Server) -> None:
    for i in range(25):
        for rev in (1, 2):
            obj = release_secret(f"r{i}", f"ns{i % 3}", rev, "superseded" if rev == 1 else "deployed")
            server.state.objects[("secrets", f"ns{i % 3}", obj["metadata"]["name"])] = obj
    server.state.objects[("secrets", "ns0", "broken")] = {
        "metadata": {"name": "broken", "namespace": "ns0", "labels": {"owner": "helm"}}, "data": {}}
    server.state.objects[("secrets", "ns0", "unrelated")] = {"metadata": {"name": "unrelated", "labels": {}}}
    kube = KubeClient(config(server.url), page_size=500)
    snapshot = read_releases(kube)
    assert len(snapshot.records) == 50
    assert [(u.namespace, u.name, u.reason) for u in snapshot.undecodable] == [("ns0", "broken", "no data.release")]
    assert kube.calls == 2  # discovery + one list
    current = latest_releases(snapshot.records)
    assert len(current) == 25 and {h.current.revision for h in current.values()} == {2}


def test_exec_plugin_credential_renewed_once_after_401(server: Server, tmp_path: Path) -> None:
    """A real exec plugin that first issues a revoked token, then the valid one."""
    plugin = tmp_path / "plugin"
    plugin.write_text(
        f"#!{sys.executable}\nimport json, pathlib\n"
        f"count = pathlib.Path({str(tmp_path / 'count')!r})\n"
        "n = int(count.read_text()) if count.exists() else 0\ncount.write_text(str(n + 1))\n"
        f"token = 'revoked-token' if n == 0 else {TOKEN!r}\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        " 'status': {'token': token}}))\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "clusters": [{"name": "c", "cluster": {"server": server.url}}],
        "users": [{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                                   "command": str(plugin)}}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}]}))
    runner = Runner(masker=Masker())
    kube = KubeClient(load_cluster_config("ctx", runner, kubeconfig=kubeconfig))
    assert kube.version()["minor"] == "35"
    assert kube.version()["minor"] == "35"
    assert (tmp_path / "count").read_text() == "2"
    assert kube.calls == 3  # 401, then success with the renewed token, then success from the cache
    assert runner.masker.mask(TOKEN) == "***"
