"""A minimal Kubernetes API server on 127.0.0.1 for the KubeClient tests: faults the sandbox cannot
produce on demand in a unit test (a 503 on the nth request, a connection dropped mid-response, a
hanging response, a rejected client certificate, a kept-alive connection closed after its answer),
plain HTTP or TLS with a test PKI.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import ClusterConfig, Credentials

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
    accepts: list[str] = field(default_factory=list)  # the Accept header of each request (it ignores them)
    token: str | None = TOKEN
    connections: int = 0  # connections accepted
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ApiState

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.state.lock:
            self.state.connections += 1

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
            self.state.accepts.append(self.headers.get("Accept", ""))
            fault = self.state.faults.pop(0) if self.state.faults else ("ok", None)
        if fault[0] == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault[0] == "hang":
            time.sleep(fault[1])
        if fault[0] == "close-after":  # answer, then close the connection as an idle timeout would
            self.close_connection = True
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
