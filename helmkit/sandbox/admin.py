"""The sandbox admin endpoint: faults and request logs over HTTP, for tests in another process.

Routes (JSON, ``Authorization: Bearer <admin token>``):

- ``GET /clusters`` → ``{"clusters": [{"name", "url"}]}``
- ``GET /clusters/{c}/requests?since=N`` → ``{"items": [RequestRecord...]}``; ``DELETE`` clears it
- ``GET /clusters/{c}/faults`` → the active rules; ``DELETE`` clears them (and makes it reachable)
- ``POST /clusters/{c}/faults`` with ``{"kind": "fail"|"drop"|"latency"|"unreachable"|"reachable",
  "method", "path", "status", "count", "seconds"}``, or ``{"kind": "workload", "namespace", "name",
  "behaviour": "crashloop"|"unready"|"healthy", "after"}`` (the Pods of that workload)

:class:`AdminClient` and :class:`RemoteFaults` are the client side, with the same methods as
:class:`~helmkit.sandbox.faults.Faults`.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from helmkit.sandbox.cluster import ClusterState


class _AdminHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], token: str,
                 clusters: Callable[[], dict[str, tuple[ClusterState, str]]]) -> None:
        self.token = token
        self.clusters = clusters
        super().__init__(address, _AdminHandler)


class _AdminHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _AdminHTTPServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, code: int, obj: Any) -> None:
        body = json.dumps(obj).encode()
        self.wfile.write(f"HTTP/1.1 {code} -\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                         .encode() + body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self._reply(401, {"error": "unauthorized"})
            return
        parts = url.path.strip("/").split("/")
        clusters = self.server.clusters()
        if parts == ["clusters"]:
            self._reply(200, {"clusters": [{"name": n, "url": u} for n, (_, u) in clusters.items()]})
            return
        if len(parts) != 3 or parts[0] != "clusters" or parts[1] not in clusters:
            self._reply(404, {"error": f"no route {url.path}"})
            return
        cluster = clusters[parts[1]][0]
        try:
            self._cluster_route(cluster, parts[2], dict(parse_qsl(url.query)), body)
        except (ValueError, TypeError, KeyError) as exc:
            self._reply(400, {"error": str(exc)})

    do_POST = do_DELETE = do_GET

    def _cluster_route(self, cluster: ClusterState, what: str, query: dict[str, str], body: dict[str, Any]) -> None:
        if what == "requests":
            if self.command == "DELETE":
                cluster.log.clear()
                self._reply(200, {})
            else:
                items = [r.to_dict() for r in cluster.log.entries(int(query.get("since", "0")))]
                self._reply(200, {"items": items})
            return
        if what != "faults":
            self._reply(404, {"error": f"no route {what}"})
            return
        if self.command == "DELETE":
            cluster.faults.clear()
        elif self.command == "POST":
            _apply_fault(cluster, body)
        self._reply(200, {"rules": cluster.faults.rules(), "unreachable": cluster.faults.unreachable,
                          "workloads": cluster.faults.workloads()})


def _apply_fault(cluster: ClusterState, body: dict[str, Any]) -> None:
    kind = body["kind"]
    method, path = body.get("method"), body.get("path", ".*")
    count = body.get("count", 1)
    if kind == "fail":
        cluster.faults.fail(method, path, int(body.get("status", 500)), count)
    elif kind == "drop":
        cluster.faults.drop(method, path, count)
    elif kind == "latency":
        cluster.faults.latency(float(body["seconds"]), method, path, body.get("count"))
    elif kind == "workload":
        cluster.faults.workload(str(body["namespace"]), str(body["name"]), str(body.get("behaviour", "crashloop")),
                                float(body.get("after") or 0))
    elif kind in ("unreachable", "reachable"):
        cluster.faults.set_unreachable(kind == "unreachable")
    else:
        raise ValueError(f"unknown fault kind {kind!r}")


class AdminServer:
    def __init__(self, host: str, port: int, token: str,
                 clusters: Callable[[], dict[str, tuple[ClusterState, str]]]) -> None:
        self._httpd = _AdminHTTPServer((host, port), token, clusters)
        self.port = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sandbox-admin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class AdminClient:
    """Talks to a sandbox's admin endpoint (possibly in another process)."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,  # noqa: S310 - local http
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - local http
            return json.loads(response.read())

    def clusters(self) -> dict[str, str]:
        return {c["name"]: c["url"] for c in self.call("GET", "/clusters")["clusters"]}

    def requests(self, cluster: str, since: int = 0) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.call("GET", f"/clusters/{cluster}/requests?since={since}")["items"]
        return items

    def clear_requests(self, cluster: str) -> None:
        self.call("DELETE", f"/clusters/{cluster}/requests")

    def faults(self, cluster: str) -> RemoteFaults:
        return RemoteFaults(self, cluster)


class RemoteFaults:
    """The faults of one cluster through the admin endpoint (same methods as ``Faults``)."""

    def __init__(self, client: AdminClient, cluster: str) -> None:
        self._client = client
        self._path = f"/clusters/{cluster}/faults"

    def fail(self, method: str | None = None, path: str = ".*", status: int = 500, count: int | None = 1) -> None:
        self._client.call("POST", self._path, {"kind": "fail", "method": method, "path": path, "status": status,
                                               "count": count})

    def drop(self, method: str | None = None, path: str = ".*", count: int | None = 1) -> None:
        self._client.call("POST", self._path, {"kind": "drop", "method": method, "path": path, "count": count})

    def latency(self, seconds: float, method: str | None = None, path: str = ".*", count: int | None = None) -> None:
        self._client.call("POST", self._path, {"kind": "latency", "seconds": seconds, "method": method,
                                               "path": path, "count": count})

    def workload(self, namespace: str, name: str, behaviour: str = "crashloop", after: float = 0.0) -> None:
        self._client.call("POST", self._path, {"kind": "workload", "namespace": namespace, "name": name,
                                               "behaviour": behaviour, "after": after})

    def workloads(self) -> list[dict[str, Any]]:
        workloads: list[dict[str, Any]] = self._client.call("GET", self._path)["workloads"]
        return workloads

    def set_unreachable(self, unreachable: bool = True) -> None:
        self._client.call("POST", self._path, {"kind": "unreachable" if unreachable else "reachable"})

    def clear(self) -> None:
        self._client.call("DELETE", self._path)

    def rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self._client.call("GET", self._path)["rules"]
        return rules
