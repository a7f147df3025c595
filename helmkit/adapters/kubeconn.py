"""Connections to one Kubernetes API server: TLS set-up and a small keep-alive pool.

:class:`ConnectionPool` opens HTTP or HTTPS connections to the server of a
:class:`~helmkit.adapters.kubeconfig.ClusterConfig` and keeps up to :data:`MAX_POOL` idle ones for
reuse (thread-safe), each checked before it is used again (a server may close an idle connection:
then nothing of a request is ever sent on it). TLS trusts only the cluster's CA when the kubeconfig
names one, checks the certificate against ``tls-server-name`` when set, and presents the client
certificate of the current :class:`~helmkit.adapters.execcredential.Credentials`; when an exec
plugin issues a new certificate, the TLS context and the idle connections are dropped. When the
cluster has a proxy (:mod:`helmkit.adapters.proxy`: ``proxy-url``, else
``HTTPS_PROXY``/``NO_PROXY``), every connection of the pool goes through it
(:mod:`helmkit.adapters.proxyconn`).

A connection that cannot be opened raises :class:`ConnectFailed` (the request never reached the
server, so even a write may be retried); a failed TLS handshake or an unusable CA or client
certificate is a :class:`~helmkit.errors.ClusterError`. Keys never appear in errors.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
import urllib.parse

from helmkit.adapters.cache import private_temp_files
from helmkit.adapters.execcredential import Credentials
from helmkit.adapters.kubeconfig import ClusterConfig
from helmkit.adapters.proxyconn import (
    ForwardConnection,
    ProxyUnreachable,
    TunnelConnection,
    TunnelTLSConnection,
)
from helmkit.errors import ClusterError

MAX_POOL = 8


def _still_open(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection can carry a request: nothing is readable on it (a server that
    closed it has left an end-of-file or a TLS close alert there), as Go's transport checks."""
    sock = conn.sock
    if sock is None:
        return False
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class ConnectFailed(Exception):
    """The TCP/TLS connection could not be opened: the request never reached the server."""


class ConnectionPool:
    """Open and reuse connections to the API server of ``config``."""

    def __init__(self, config: ClusterConfig, *, timeout: float) -> None:
        self.config = config
        self.timeout = timeout
        url = urllib.parse.urlsplit(config.server)
        self.scheme = url.scheme
        self.host = url.hostname or ""
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPConnection] = []
        self._ssl: ssl.SSLContext | None = None
        self._ssl_creds: tuple[bytes | None, bytes | None] = (None, None)

    def acquire(self, creds: Credentials) -> http.client.HTTPConnection:
        """An idle connection the server has not closed, or a new one."""
        with self._lock:
            if self.scheme == "https" and (creds.client_cert_pem, creds.client_key_pem) != self._ssl_creds:
                self._ssl = None  # the exec plugin issued a new certificate
                stale, self._idle = self._idle, []
                for old in stale:
                    old.close()
            while self._idle:
                idle = self._idle.pop()
                if _still_open(idle):
                    return idle
                idle.close()
            if self.scheme == "https" and self._ssl is None:
                self._ssl = self._ssl_context(creds)
                self._ssl_creds = (creds.client_cert_pem, creds.client_key_pem)
            context = self._ssl
        conn = self._new_connection(context)
        try:
            conn.connect()
        except ssl.SSLError as exc:
            conn.close()
            raise ClusterError(
                f"TLS handshake with {self.config.server} failed: {exc.reason or exc}", cluster=self.config.context,
                hint=f"check certificate-authority of cluster {self.config.cluster!r} ({self.config.describe()})",
            ) from None
        except TimeoutError:
            conn.close()
            raise ConnectFailed(f"connect timed out after {self.timeout:.0f}s") from None
        except ProxyUnreachable as exc:
            conn.close()
            raise ConnectFailed(str(exc)) from None
        except OSError as exc:
            conn.close()
            raise ConnectFailed(exc.strerror or type(exc).__name__) from None
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _new_connection(self, context: ssl.SSLContext | None) -> http.client.HTTPConnection:
        config, proxy = self.config, self.config.proxy
        server_name = config.tls_server_name or self.host
        if proxy is None:
            if context is None:
                return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            return _TLSConnection(self.host, self.port, timeout=self.timeout, context=context, server_name=server_name)
        if context is not None:
            return TunnelTLSConnection(self.host, self.port, timeout=self.timeout, context=context,
                                       server_name=server_name, proxy=proxy, cluster=config.cluster,
                                       kube_context=config.context)
        if proxy.scheme != "http":
            return TunnelConnection(self.host, self.port, timeout=self.timeout, proxy=proxy,
                                    cluster=config.cluster, context=config.context)
        return ForwardConnection(self.host, self.port, timeout=self.timeout, proxy=proxy,
                                 cluster=config.cluster, context=config.context)

    def unreachable_hint(self) -> str:
        proxy = self.config.proxy
        if proxy is None:
            return f"check the server of {self.config.describe()} and the network"
        return (f"requests to cluster {self.config.cluster!r} go through proxy {proxy.display}: check that proxy, "
                "or the kubeconfig's proxy-url / HTTPS_PROXY and NO_PROXY")

    def release(self, conn: http.client.HTTPConnection) -> None:
        """Keep ``conn`` for reuse, or close it when the pool is full."""
        with self._lock:
            if len(self._idle) < MAX_POOL:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _ssl_context(self, creds: Credentials) -> ssl.SSLContext:
        # Only the cluster's CA is trusted when the kubeconfig names one (as kubectl does); the
        # system store is loaded only without it (loading it costs ~50 ms per client).
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.config.insecure_skip_tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif not self.config.ca_pem:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        else:
            try:
                ctx.load_verify_locations(cadata=self.config.ca_pem.decode("ascii", "replace"))
            except ssl.SSLError as exc:
                raise ClusterError(f"invalid certificate-authority in {self.config.describe()}: {exc.reason}",
                                   cluster=self.config.context) from None
        if creds.client_cert_pem and creds.client_key_pem:
            _load_client_cert(ctx, creds.client_cert_pem, creds.client_key_pem, self.config)
        return ctx


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS whose certificate is checked against ``tls-server-name`` when the kubeconfig sets one."""

    def __init__(self, host: str, port: int, *, timeout: float, context: ssl.SSLContext, server_name: str) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._tls = context
        self._server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)


def _load_client_cert(ctx: ssl.SSLContext, cert: bytes, key: bytes, config: ClusterConfig) -> None:
    # ssl only loads certificates from files: write them 0600 into a private folder, remove at once.
    with private_temp_files("helmkit-tls-", {"client.crt": cert, "client.key": key}) as paths:
        try:
            ctx.load_cert_chain(str(paths["client.crt"]), str(paths["client.key"]))
        except ssl.SSLError:
            raise ClusterError(f"the client certificate or key of user {config.user!r} in {config.describe()} "
                               "cannot be loaded", cluster=config.context) from None


def retry_after(response: http.client.HTTPResponse) -> float | None:
    """The seconds of a ``Retry-After`` header, or None when absent or not a number."""
    value = response.getheader("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
