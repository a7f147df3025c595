"""Which proxy a request to a Kubernetes API server goes through: client-go's rules.

:func:`choose_proxy` answers for one cluster, as kubectl and helm (client-go) decide it:

1. the cluster's ``proxy-url`` in the kubeconfig wins, for every server address (loopback too)
   and regardless of ``NO_PROXY``; its scheme must be ``http``, ``https`` or ``socks5``;
2. otherwise the environment, as Go's ``net/http.ProxyFromEnvironment``
   (``golang.org/x/net/http/httpproxy``): ``HTTPS_PROXY`` (else ``https_proxy``) for an ``https://``
   server, ``HTTP_PROXY`` (else ``http_proxy``) for an ``http://`` one; ``ALL_PROXY`` is not read.
   A value without a scheme means ``http://``. ``localhost`` and loopback addresses never go
   through it, nor the hosts :class:`NoProxy` matches.

A :class:`Proxy` knows its user and password (sent as ``Proxy-Authorization: Basic``) but its
:attr:`Proxy.display` never shows the password.
"""

from __future__ import annotations

import contextlib
import ipaddress
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

KUBECONFIG_SCHEMES = ("http", "https", "socks5")
DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ProxyConfigError(ValueError):
    """A proxy URL that cannot be used (the message never shows its password)."""


@dataclass(frozen=True)
class Proxy:
    """One proxy: where it is, its credentials, and where the setting came from (for messages)."""

    scheme: str  # http, https, socks5 or socks5h
    host: str
    port: int
    source: str  # "proxy-url of cluster 'x'" or "HTTPS_PROXY"
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def display(self) -> str:
        """``scheme://[user@]host:port``: never the password."""
        user = f"{urllib.parse.quote(self.username, safe='')}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port} ({self.source})"


def parse_proxy_url(text: str, source: str, *, env_rules: bool = False) -> Proxy:
    """A proxy URL; ``env_rules``: as Go reads ``HTTPS_PROXY`` (no scheme or host → ``http://``)."""
    url = _split(text)
    if env_rules and (url is None or not url.scheme or not url.hostname):
        url = _split("http://" + text)
    if url is None or not url.hostname:
        raise ProxyConfigError(f"{source} is not a URL with a host")
    scheme = url.scheme.lower()
    allowed = KUBECONFIG_SCHEMES + (("socks5h",) if env_rules else ())
    if scheme not in allowed:
        raise ProxyConfigError(f"{source} has the unsupported scheme {scheme!r}; use " + ", ".join(allowed))
    try:
        port = url.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ProxyConfigError(f"{source} has an invalid port") from None
    return Proxy(
        scheme=scheme,
        host=url.hostname,
        port=port,
        source=source,
        username=urllib.parse.unquote(url.username) if url.username is not None else None,
        password=urllib.parse.unquote(url.password) if url.password is not None else None,
    )


def choose_proxy(server: str, proxy_url: str | None, env: Mapping[str, str], *, cluster: str) -> Proxy | None:
    """The proxy for requests to ``server``, or None for a direct connection (client-go's rules)."""
    if proxy_url:
        return parse_proxy_url(proxy_url, f"proxy-url of cluster {cluster!r}")
    url = urllib.parse.urlsplit(server)
    names = ("HTTPS_PROXY", "https_proxy") if url.scheme == "https" else ("HTTP_PROXY", "http_proxy")
    name = next((n for n in names if env.get(n)), None)
    if name is None:
        return None
    try:
        proxy = parse_proxy_url(env[name], name, env_rules=True)
    except ProxyConfigError:
        return None  # Go ignores a value it cannot parse and connects directly
    host = url.hostname or ""
    port = url.port or DEFAULT_PORTS.get(url.scheme, 443)
    no_proxy = next((env[n] for n in ("NO_PROXY", "no_proxy") if env.get(n)), "")
    return proxy if uses_proxy(host, port, NoProxy.parse(no_proxy)) else None


def env_proxy_passwords(env: Mapping[str, str]) -> list[str]:
    """The passwords in the proxy variables, whichever server they serve (helm may print those URLs)."""
    found = []
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        with contextlib.suppress(ProxyConfigError):
            proxy = parse_proxy_url(env.get(name) or "", name, env_rules=True)
            if proxy.password:
                found.append(proxy.password)
    return found


def uses_proxy(host: str, port: int, no_proxy: NoProxy) -> bool:
    """Whether an environment proxy applies to ``host:port`` (never to localhost and loopback)."""
    host = host.strip().lower()
    if host == "localhost":
        return False
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return False
    return not no_proxy.matches(_ascii(host), str(port), ip)


@dataclass(frozen=True)
class _Domain:
    suffix: str  # always with the leading dot
    port: str
    exact_too: bool  # "foo.com" matches foo.com itself; ".foo.com" only its subdomains


@dataclass(frozen=True)
class NoProxy:
    """A parsed ``NO_PROXY``: ``*``, IP addresses, CIDR ranges, domain names, each with an optional port."""

    everything: bool = False
    networks: tuple[IPNetwork, ...] = ()
    addresses: tuple[tuple[IPAddress, str], ...] = ()
    domains: tuple[_Domain, ...] = ()

    @classmethod
    def parse(cls, text: str) -> NoProxy:
        networks: list[IPNetwork] = []
        addresses: list[tuple[IPAddress, str]] = []
        domains: list[_Domain] = []
        for raw in text.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                return cls(everything=True)
            if "/" in entry:
                with contextlib.suppress(ValueError):  # Go skips an unusable entry without a word
                    networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            host, port = _host_port(entry)
            if not host:
                continue
            ip = _ip(host)
            if ip is not None:
                addresses.append((ip, port))
                continue
            if host.startswith("*."):
                host = host[1:]
            exact_too = not host.startswith(".")
            domains.append(_Domain(_ascii(host if host.startswith(".") else "." + host), port, exact_too))
        return cls(False, tuple(networks), tuple(addresses), tuple(domains))

    def matches(self, host: str, port: str, ip: IPAddress | None) -> bool:
        """Whether ``host:port`` (lower case; ``ip`` when the host is an IP literal) bypasses the proxy."""
        if self.everything:
            return True
        if ip is not None:
            if any(ip in net for net in self.networks if net.version == ip.version):
                return True
            # an IP literal never matches a domain entry
            return any(ip == known and (not want or want == port) for known, want in self.addresses)
        return any(
            (host.endswith(d.suffix) or (d.exact_too and host == d.suffix[1:])) and (not d.port or d.port == port)
            for d in self.domains
        )


def _host_port(entry: str) -> tuple[str, str]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address → (host, port or "")."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, port
    return entry, ""


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _ascii(host: str) -> str:
    if host.isascii():
        return host
    try:
        return ".".join(label.encode("idna").decode("ascii") if label else "" for label in host.split("."))
    except UnicodeError:
        return host


def _split(text: str) -> urllib.parse.SplitResult | None:
    try:
        url = urllib.parse.urlsplit(text.strip())
        url.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return None
    return url
