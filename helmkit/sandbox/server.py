"""The HTTP side of a sandbox cluster: one listener per cluster, routing, bearer-token auth, faults.

Each cluster gets its own port on 127.0.0.1 (clients cache discovery per host:port, so one port
per cluster keeps clusters apart for them too). Every request is logged in the cluster's
:class:`~helmkit.sandbox.faults.RequestLog` before auth and faults are applied. Replies are
JSON, written with their headers in a single send, on sockets with Nagle's algorithm off.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading
import time
import traceback
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from helmkit.sandbox import discovery, jsoncodec, openapi, resources, watch
from helmkit.sandbox.cluster import ClusterState
from helmkit.sandbox.httpreq import FastRequestParsing
from helmkit.sandbox.resources import Reply, ResourceRequest
from helmkit.sandbox.status import ApiError

log = logging.getLogger("helmkit.sandbox")
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: ClusterServer) -> None:
        self.owner = owner
        super().__init__(address, ApiHandler)
        if owner.tls is not None:
            self.socket = owner.tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s: connection from %s failed: %s", self.owner.cluster.name, client_address,
                  traceback.format_exc())


def _shutdown(httpd: _HTTPServer, host: str, port: int) -> None:
    """``httpd.shutdown()`` without waiting for the serve loop's next poll: a connection wakes it."""
    stopper = threading.Thread(target=httpd.shutdown, daemon=True)
    stopper.start()
    while stopper.is_alive():
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            pass
        stopper.join(0.02)


class ApiHandler(FastRequestParsing):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner.connections.add(self.request)
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.settimeout(30)
                self.request.do_handshake()
                self.request.settimeout(None)
            except (OSError, ssl.SSLError):
                self.server.owner.connections.discard(self.request)
                raise
        super().setup()

    def handle(self) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            super().handle()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.owner.connections.discard(self.request)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: " + format, self.server.owner.cluster.name, *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # ---- replies -----------------------------------------------------------------------------

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Unknown"
        head = (f"HTTP/1.1 {code} {phrase}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                f"Cache-Control: no-cache, private\r\nDate: {self.date_time_string()}\r\n")
        if self.close_connection:
            head += "Connection: close\r\n"
        self.wfile.write(head.encode() + b"\r\n" + (b"" if self.command == "HEAD" else body))

    def _send_json(self, code: int, obj: Any, content_type: str = "application/json") -> None:
        self._send(code, jsoncodec.dumps(obj), content_type)

    def _send_error(self, error: ApiError) -> int:
        self._send_json(error.code, error.status)
        return error.code

    # ---- dispatch ----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        owner = self.server.owner
        cluster = owner.cluster
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if path in HEALTH_PATHS:
            self._send(200, b"ok", "text/plain")
            return
        record = cluster.log.record(self.command, path, url.query, self.headers.get("Content-Type", ""),
                                    self.headers.get("User-Agent", ""))
        if self.headers.get("Authorization", "") != f"Bearer {cluster.token}":
            record.status = self._send_error(ApiError(401, "Unauthorized"))
            return
        decision = cluster.faults.decide(self.command, path)
        if decision.delay:
            time.sleep(decision.delay)
        if decision.drop:
            record.status = -1
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_RDWR)
            return
        if decision.status is not None:
            record.status = self._send_error(ApiError(decision.status, f"injected fault ({decision.status})"))
            return
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            reply = self._route(cluster, path, query, body)
        except ApiError as exc:
            record.status = self._send_error(exc)
            return
        except Exception as exc:
            log.error("%s %s failed: %s", self.command, self.path, traceback.format_exc())
            record.status = self._send_error(ApiError(500, f"internal error: {type(exc).__name__}: {exc}"))
            return
        record.status = reply.code
        if reply.watcher is not None:
            self._stream(cluster, reply)
        else:
            self._send_json(reply.code, reply.body, reply.content_type)

    def _route(self, cluster: ClusterState, path: str, query: dict[str, str], body: bytes) -> Reply:
        parts = path.strip("/").split("/") if path != "/" else []
        if self.command not in ("GET", "HEAD") and (not parts or parts[0] not in ("api", "apis")):
            raise ApiError(405, f"{self.command} is not allowed on {path}")
        if path == "/version":
            return Reply(200, discovery.version(cluster.kube_version))
        if path in ("/api", "/apis"):
            registry = cluster.registry
            if discovery.wants_aggregated(self.headers.get("Accept", "")):
                doc = registry.cached(("aggregated", path), lambda: discovery.aggregated(registry, path == "/api"))
                return Reply(200, doc, content_type=discovery.AGGREGATED_CONTENT_TYPE)
            if path == "/api":
                return Reply(200, discovery.core_versions(f"127.0.0.1:{self.server.owner.port}"))
            return Reply(200, registry.cached("/apis", lambda: discovery.group_list(registry)))
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi(cluster, parts[2:])
        if parts and parts[0] == "api" and len(parts) >= 2 and parts[1] == "v1":
            return self._resources(cluster, "", "v1", parts[2:], query, body=body)
        if parts and parts[0] == "apis" and len(parts) >= 3:
            return self._resources(cluster, parts[1], parts[2], parts[3:], query, body=body)
        if parts and parts[0] == "apis" and len(parts) == 2:
            for group in discovery.group_list(cluster.registry)["groups"]:
                if group["name"] == parts[1]:
                    return Reply(200, {"kind": "APIGroup", "apiVersion": "v1", **group})
        log.debug("%s: unhandled route %s %s", cluster.name, self.command, path)
        raise ApiError(404, "the server could not find the requested resource")

    def _openapi(self, cluster: ClusterState, rest: list[str]) -> Reply:
        registry = cluster.registry
        if not rest:
            return Reply(200, registry.cached("openapi", lambda: openapi.index(registry)))
        doc = None
        if rest[0] == "api" and len(rest) == 2:
            doc = registry.cached(("openapi", "", rest[1]), lambda: openapi.document(registry, "", rest[1]))
        elif rest[0] == "apis" and len(rest) == 3:
            doc = registry.cached(("openapi", rest[1], rest[2]),
                                  lambda: openapi.document(registry, rest[1], rest[2]))
        if doc is None:
            raise ApiError(404, "the server could not find the requested resource")
        return Reply(200, doc)

    def _resources(self, cluster: ClusterState, group: str, version: str, rest: list[str], query: dict[str, str],
                   *, body: bytes) -> Reply:
        if not rest:
            registry = cluster.registry
            doc = registry.cached(("discovery", group, version),
                                  lambda: discovery.resource_list(registry, group, version))
            if doc is None or self.command != "GET":
                raise ApiError(404, "the server could not find the requested resource")
            return Reply(200, doc)
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            namespace, rest = rest[1], rest[2:]
        rtype = cluster.registry.find(group, version, rest[0])
        if rtype is None or len(rest) > 3 or (namespace is not None and not rtype.namespaced):
            log.debug("%s: unknown resource %s %s", cluster.name, self.command, self.path)
            raise ApiError(404, "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rtype.subresources:
            raise ApiError(404, "the server could not find the requested resource")
        if rtype.namespaced and name is not None and namespace is None:
            raise ApiError(404, "the server could not find the requested resource")
        req = ResourceRequest(self.command, rtype, namespace, name, sub, query,
                              self.headers.get("Content-Type", "application/json"),
                              self.headers.get("Accept", "application/json"), self.headers.get("User-Agent", ""),
                              body)
        method = "GET" if self.command == "HEAD" else self.command
        if method == "GET":
            return resources.get(cluster, req) if name else resources.list_objects(cluster, req)
        if method == "POST" and name is None:
            if rtype.namespaced and namespace is None:
                raise ApiError(404, "the server could not find the requested resource")
            return resources.create(cluster, req)
        if method == "PUT" and name:
            return resources.update(cluster, req)
        if method == "PATCH" and name:
            return resources.patch(cluster, req)
        if method == "DELETE":
            return resources.delete(cluster, req) if name else resources.delete_collection(cluster, req)
        raise ApiError(405, f"{method} is not supported on {self.path}")

    def _stream(self, cluster: ClusterState, reply: Reply) -> None:
        assert reply.watcher is not None
        self.close_connection = True
        head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                f"Cache-Control: no-cache, private\r\nDate: {self.date_time_string()}\r\n\r\n")
        self.wfile.write(head.encode())

        def write(data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        with contextlib.suppress(OSError):
            watch.stream(cluster.store, reply.watcher, reply.watch_options, write,
                         stopping=self.server.owner.stopping, gone=self._peer_closed)
            self.wfile.write(b"0\r\n\r\n")

    def _peer_closed(self) -> bool:
        """Whether the client closed a watch connection (it sends nothing else on it)."""
        sock = self.request
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            sock.settimeout(0.05)
            try:
                return not sock.recv(1)
            finally:
                sock.settimeout(None)
        except (TimeoutError, ssl.SSLWantReadError):
            return False
        except (OSError, ValueError):
            return True


class ClusterServer:
    """The listener of one cluster; can be closed and reopened on the same port (unreachable fault)."""

    def __init__(self, cluster: ClusterState, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.cluster = cluster
        self.tls = tls
        self.host = host
        self.port = port
        self.connections: set[socket.socket] = set()
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        cluster.faults.bind(self.set_reachable)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> None:
        with self._lock:
            if self._httpd is not None:
                return
            self.stopping = threading.Event()
            self._httpd = _HTTPServer((self.host, self.port), self)
            self.port = self._httpd.server_address[1]
            # A slow poll: a sandbox of 200 clusters has 200 of these loops (stop() wakes one at once)
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.5},
                                            name=f"sandbox-{self.cluster.name}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            httpd, self._httpd = self._httpd, None
            if httpd is None:
                return
            self.stopping.set()
            _shutdown(httpd, self.host, self.port)
            httpd.server_close()
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self.connections.clear()

    def set_reachable(self, reachable: bool) -> None:
        if reachable:
            self.start()
        else:
            self.stop()
