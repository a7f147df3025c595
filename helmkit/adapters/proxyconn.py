"""Connections to an API server through a :class:`~helmkit.adapters.proxy.Proxy`, as Go's transport makes them.

* ``http://`` proxy, ``https://`` server: ``CONNECT host:port`` (with ``Proxy-Authorization: Basic``
  when the proxy URL has a user), then TLS to the API server itself inside the tunnel: the server's
  certificate is checked against its own name (or ``tls-server-name``), never the proxy's.
* ``http://`` proxy, ``http://`` server: each request goes to the proxy with the absolute URL.
* ``socks5://`` proxy (RFC 1928, user/password by RFC 1929): the proxy resolves the server's name
  and opens the stream; TLS as above.
* ``https://`` proxy: TLS to the proxy first, checked with the cluster's TLS settings (CA, client
  certificate) and the proxy's host name, as Go's transport clones the client's TLS config for it;
  then CONNECT, and the API server's own TLS inside. Python's ``ssl`` cannot stack two TLS layers on
  one socket, so a small relay thread per connection carries the inner bytes over a socket pair; it
  ends when either side closes.

A proxy that cannot be reached, or that answers 502-504 to CONNECT, raises :class:`ProxyUnreachable`
(the request never reached the API server: retried like any connect failure). A proxy that refuses
(407 Proxy Authentication Required, 403, a SOCKS refusal) raises
:class:`~helmkit.errors.ClusterError` at once. Both name the proxy, never its password.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import ipaddress
import select
import socket
import ssl
import threading
from typing import Any

from helmkit.adapters.proxy import Proxy
from helmkit.errors import ClusterError

MAX_CONNECT_RESPONSE = 64 * 1024
SOCKS_ERRORS = {
    1: "general failure", 2: "connection not allowed by ruleset", 3: "network unreachable",
    4: "host unreachable", 5: "connection refused", 6: "TTL expired", 7: "command not supported",
    8: "address type not supported",
}
RETRYABLE_CONNECT_STATUS = frozenset({502, 503, 504})


class ProxyUnreachable(OSError):
    """The proxy could not be reached, or could not reach the API server: worth another try."""


def proxy_authorization(proxy: Proxy) -> str | None:
    if proxy.username is None:
        return None
    token = f"{proxy.username}:{proxy.password or ''}".encode()
    return "Basic " + base64.b64encode(token).decode()


def open_tunnel(proxy: Proxy, host: str, port: int, *, timeout: float, cluster: str, context: str,
                tls: ssl.SSLContext | None = None) -> socket.socket:
    """A socket to ``host:port`` through ``proxy`` (HTTP CONNECT, over TLS for an https:// proxy, or SOCKS5)."""
    try:
        sock = socket.create_connection((proxy.host, proxy.port), timeout=timeout)
    except TimeoutError:
        raise ProxyUnreachable(f"connecting to proxy {proxy.display} timed out after {timeout:.0f}s") from None
    except OSError as exc:
        raise ProxyUnreachable(f"cannot connect to proxy {proxy.display}: "
                               f"{exc.strerror or type(exc).__name__}") from None
    try:
        if proxy.scheme == "https":
            sock = _proxy_tls(sock, proxy, tls or ssl.create_default_context(), context)
        if proxy.scheme.startswith("socks5"):
            _socks5(sock, proxy, host, port, cluster=cluster, context=context)
        else:
            _connect(sock, proxy, host, port, cluster=cluster, context=context)
    except TimeoutError:
        sock.close()
        raise ProxyUnreachable(f"proxy {proxy.display} did not answer within {timeout:.0f}s") from None
    except (ClusterError, ProxyUnreachable):
        sock.close()
        raise
    except OSError as exc:
        sock.close()
        raise ProxyUnreachable(f"proxy {proxy.display} dropped the connection "
                               f"({exc.strerror or type(exc).__name__})") from None
    return _relay(sock, timeout) if isinstance(sock, ssl.SSLSocket) else sock


def _proxy_tls(sock: socket.socket, proxy: Proxy, tls: ssl.SSLContext, context: str) -> ssl.SSLSocket:
    try:
        return tls.wrap_socket(sock, server_hostname=proxy.host)
    except ssl.SSLError as exc:
        sock.close()
        raise ClusterError(f"TLS handshake with proxy {proxy.display} failed: {exc.reason or exc}", cluster=context,
                           hint="helmkit checks an https:// proxy's certificate as client-go does: with the "
                           "cluster's certificate-authority (else the system's) and the proxy's host name") from None


def _relay(outer: ssl.SSLSocket, timeout: float) -> socket.socket:
    """A plain socket whose bytes travel inside ``outer`` (the TLS connection to an https:// proxy)."""
    mine, theirs = socket.socketpair()
    outer.settimeout(None)  # the caller's timeout applies on its end of the pair
    mine.settimeout(timeout)
    threading.Thread(target=_pump, args=(outer, theirs), name="helmkit-proxy-relay", daemon=True).start()
    return mine


def _pump(outer: ssl.SSLSocket, inner: socket.socket) -> None:
    # One thread does both directions: an SSL socket must not be read and written from two threads.
    try:
        while True:
            ready = [outer] if outer.pending() else select.select([outer, inner], [], [])[0]
            if outer in ready:
                data = outer.recv(65536)
                if not data:
                    return
                inner.sendall(data)
            if inner in ready:
                data = inner.recv(65536)
                if not data:
                    return
                outer.sendall(data)
    except (OSError, ValueError):
        return
    finally:
        inner.close()
        with contextlib.suppress(OSError):
            outer.close()


def _connect(sock: socket.socket, proxy: Proxy, host: str, port: int, *, cluster: str, context: str) -> None:
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", "User-Agent: helmkit"]
    auth = proxy_authorization(proxy)
    if auth:
        lines.append(f"Proxy-Authorization: {auth}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ProxyUnreachable(f"proxy {proxy.display} closed the connection during CONNECT {target}")
        head += chunk
        if len(head) > MAX_CONNECT_RESPONSE:
            raise ClusterError(f"proxy {proxy.display} sent an oversized answer to CONNECT", cluster=context)
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        raise ClusterError(f"proxy {proxy.display} answered CONNECT {target} with {status_line[:80]!r}, "
                           "not HTTP", cluster=context,
                           hint="is it an HTTP proxy? a SOCKS proxy needs socks5:// in the URL") from None
    reason = parts[2] if len(parts) > 2 else ""
    if 200 <= status < 300:
        return
    what = f"proxy {proxy.display} answered CONNECT {target} with HTTP {status} {reason}".rstrip()
    if status in RETRYABLE_CONNECT_STATUS:
        raise ProxyUnreachable(what)
    if status == 407:
        hint = ("the proxy rejected the user and password of its URL" if auth else
                "the proxy wants a user and password: write them into the proxy URL (http://USER:PASSWORD@host:port)")
    else:
        hint = f"the proxy does not let this client reach cluster {cluster!r}'s API server; ask its admin" + (
            ", or list the server in NO_PROXY" if proxy.source.lower().endswith("_proxy") else "")
    raise ClusterError(what, cluster=context, hint=hint)


def _socks5(sock: socket.socket, proxy: Proxy, host: str, port: int, *, cluster: str, context: str) -> None:
    methods = b"\x00\x02" if proxy.username is not None else b"\x00"
    sock.sendall(b"\x05" + bytes([len(methods)]) + methods)
    version, method = _recv(sock, 2, proxy)
    if version != 5:
        raise ClusterError(f"proxy {proxy.display} does not speak SOCKS5", cluster=context)
    if method == 0xFF:
        raise ClusterError(f"SOCKS5 proxy {proxy.display} accepts none of helmkit's authentication methods",
                           cluster=context, hint="give the proxy's user and password in the URL "
                           "(socks5://USER:PASSWORD@host:port)")
    if method == 2:
        user = (proxy.username or "").encode()
        password = (proxy.password or "").encode()
        sock.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(password)]) + password)
        if _recv(sock, 2, proxy)[1] != 0:
            raise ClusterError(f"SOCKS5 proxy {proxy.display} rejected the user and password of its URL",
                               cluster=context)
    try:
        ip = ipaddress.ip_address(host)
        address = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
    except ValueError:
        name = host.encode("idna")
        address = b"\x03" + bytes([len(name)]) + name  # the proxy resolves the name, as Go's client lets it
    sock.sendall(b"\x05\x01\x00" + address + port.to_bytes(2, "big"))
    _, reply, _, kind = _recv(sock, 4, proxy)
    if reply != 0:
        what = (f"SOCKS5 proxy {proxy.display} could not open {host}:{port} for cluster {cluster!r}: "
                f"{SOCKS_ERRORS.get(reply, f'error {reply}')}")
        if reply in (1, 3, 4, 6):
            raise ProxyUnreachable(what)
        raise ClusterError(what, cluster=context)
    length = {1: 4, 4: 16}.get(kind)
    if length is None:
        length = _recv(sock, 1, proxy)[0]
    _recv(sock, length + 2, proxy)  # the bound address and port: unused


def _recv(sock: socket.socket, size: int, proxy: Proxy) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ProxyUnreachable(f"SOCKS5 proxy {proxy.display} closed the connection")
        data += chunk
    return data


class TunnelConnection(http.client.HTTPConnection):
    """Plain HTTP to the API server, inside a SOCKS5 tunnel (or a CONNECT tunnel of an https:// proxy)."""

    def __init__(self, host: str, port: int, *, timeout: float, proxy: Proxy, cluster: str, context: str) -> None:
        super().__init__(host, port, timeout=timeout)
        self._proxy, self._cluster, self._context = proxy, cluster, context

    def connect(self) -> None:
        self.sock = open_tunnel(self._proxy, self.host, self.port, timeout=self.timeout or 30.0,
                                cluster=self._cluster, context=self._context)


class TunnelTLSConnection(http.client.HTTPSConnection):
    """HTTPS to the API server inside a CONNECT or SOCKS5 tunnel; the certificate is the API server's."""

    def __init__(self, host: str, port: int, *, timeout: float, context: ssl.SSLContext, server_name: str,
                 proxy: Proxy, cluster: str, kube_context: str) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._tls, self._server_name = context, server_name
        self._proxy, self._cluster, self._context = proxy, cluster, kube_context

    def connect(self) -> None:
        raw = open_tunnel(self._proxy, self.host, self.port, timeout=self.timeout or 30.0,
                          cluster=self._cluster, context=self._context, tls=self._tls)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self._server_name)
        except BaseException:
            raw.close()
            raise


class ForwardConnection(http.client.HTTPConnection):
    """Plain HTTP through an HTTP proxy: each request names the absolute URL (no CONNECT), as Go sends it."""

    def __init__(self, host: str, port: int, *, timeout: float, proxy: Proxy, cluster: str, context: str) -> None:
        super().__init__(proxy.host, proxy.port, timeout=timeout)
        self._origin = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self._proxy, self._cluster, self._context = proxy, cluster, context

    def connect(self) -> None:
        try:
            super().connect()
        except TimeoutError:
            raise ProxyUnreachable(f"connecting to proxy {self._proxy.display} timed out") from None
        except OSError as exc:
            raise ProxyUnreachable(f"cannot connect to proxy {self._proxy.display}: "
                                   f"{exc.strerror or type(exc).__name__}") from None

    def putrequest(self, method: str, url: str, skip_host: bool = False, skip_accept_encoding: bool = False) -> None:
        super().putrequest(method, self._origin + url, skip_host=True, skip_accept_encoding=skip_accept_encoding)
        self.putheader("Host", self._origin.removeprefix("http://"))
        auth = proxy_authorization(self._proxy)
        if auth:
            self.putheader("Proxy-Authorization", auth)

    def getresponse(self) -> Any:
        response = super().getresponse()
        if response.status == 407:
            response.read()
            self.close()
            raise ClusterError(f"proxy {self._proxy.display} answered HTTP 407 Proxy Authentication Required",
                               cluster=self._context, hint="write the proxy's user and password into its URL "
                               "(http://USER:PASSWORD@host:port)")
        return response
