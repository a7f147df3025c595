"""Proxy choice (client-go's rules: proxy-url, HTTPS_PROXY/HTTP_PROXY, NO_PROXY) and proxy refusals."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.masking import Masker
from helmkit.adapters.proxy import NoProxy, Proxy, ProxyConfigError, choose_proxy, parse_proxy_url, uses_proxy
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError, InputError

# (NO_PROXY, host, port, proxied?) -- the rules of Go's httpproxy, which client-go (kubectl, helm) uses
NO_PROXY_TABLE = [
    ("", "api.example.com", 443, True),
    ("example.com", "example.com", 443, False),
    ("example.com", "api.example.com", 443, False),  # a domain matches its subdomains
    ("example.com", "api.example.com.evil.org", 443, True),
    ("ample.com", "example.com", 443, True),  # a suffix of a label is no match
    (".example.com", "example.com", 443, True),  # a leading dot: subdomains only
    (".example.com", "a.b.example.com", 443, False),
    ("*.example.com", "a.example.com", 443, False),
    ("*.example.com", "example.com", 443, True),
    ("EXAMPLE.com", "api.Example.COM", 443, False),  # case does not matter
    (" a.org , example.com ", "x.example.com", 443, False),  # spaces around entries
    ("example.com:6443", "api.example.com", 6443, False),  # with a port: only that port
    ("example.com:6443", "api.example.com", 443, True),
    ("*", "anything.org", 443, False),
    ("a.org,*", "anything.org", 443, False),
    ("10.0.0.0/8", "10.1.2.3", 443, False),  # CIDR ranges
    ("10.0.0.0/8", "11.1.2.3", 443, True),
    ("10.0.0.0/8", "ten.example.com", 443, True),  # a name is not resolved to match a range
    ("192.168.1.1", "192.168.1.1", 443, False),
    ("192.168.1.1:6443", "192.168.1.1", 443, True),
    ("192.168.1.1:6443", "192.168.1.1", 6443, False),
    ("2001:db8::1", "2001:db8::1", 443, False),  # IPv6 literals, bare or bracketed with a port
    ("[2001:db8::2]:6443", "2001:db8::2", 6443, False),
    ("[2001:db8::2]:6443", "2001:db8::2", 443, True),
    ("2001:db8::/32", "2001:db8:ff::9", 443, False),
    ("1.2.3.4", "api.example.com", 443, True),
    ("example.com", "93.184.216.34", 443, True),  # an IP literal never matches a domain entry
    ("", "localhost", 443, False),  # localhost and loopback addresses: never through an env proxy
    ("", "127.0.0.1", 443, False),
    ("", "127.9.9.9", 443, False),
    ("", "::1", 443, False),
    ("bad/cidr,,:1", "api.example.com", 443, True),  # unusable entries are skipped
    (".示例.com", "www.xn--fsq092h.com", 443, False),  # international names compare in their ASCII form
]


@pytest.mark.parametrize(("no_proxy", "host", "port", "proxied"), NO_PROXY_TABLE)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, proxied: bool) -> None:
    assert uses_proxy(host, port, NoProxy.parse(no_proxy)) is proxied


def chosen(server: str, proxy_url: str | None = None, **env: str) -> str | None:
    proxy = choose_proxy(server, proxy_url, env, cluster="c1")
    return None if proxy is None else f"{proxy.scheme}://{proxy.host}:{proxy.port} {proxy.source}"


def test_which_variable_for_which_server() -> None:
    env = {"HTTPS_PROXY": "http://secure:3128", "HTTP_PROXY": "http://plain:8080"}
    assert chosen("https://api.example.com:6443", **env) == "http://secure:3128 HTTPS_PROXY"
    assert chosen("http://api.example.com:8080", **env) == "http://plain:8080 HTTP_PROXY"
    assert chosen("https://api.example.com", HTTP_PROXY="http://plain:8080") is None  # no fallback to HTTP_PROXY
    assert chosen("https://api.example.com", ALL_PROXY="http://all:1") is None  # Go does not read ALL_PROXY
    assert chosen("https://api.example.com", https_proxy="http://lower:1") == "http://lower:1 https_proxy"
    assert chosen("https://api.example.com", HTTPS_PROXY="http://upper:1", https_proxy="http://lower:1") == \
        "http://upper:1 HTTPS_PROXY"
    assert chosen("https://api.example.com", HTTPS_PROXY="", https_proxy="http://lower:1") == \
        "http://lower:1 https_proxy"  # an empty value counts as unset
    assert chosen("https://api.example.com", HTTPS_PROXY="proxy.corp:3128") == "http://proxy.corp:3128 HTTPS_PROXY"
    assert chosen("https://api.example.com", HTTPS_PROXY="proxy.corp") == "http://proxy.corp:80 HTTPS_PROXY"
    assert chosen("https://api.example.com", HTTPS_PROXY="socks5://s:1081") == "socks5://s:1081 HTTPS_PROXY"
    assert chosen("https://api.example.com", HTTPS_PROXY="http://p:1", NO_PROXY="", no_proxy="example.com") is None


def test_proxy_url_wins_over_the_environment_and_applies_to_every_host() -> None:
    env = {"HTTPS_PROXY": "http://env:1", "NO_PROXY": "*"}
    assert chosen("https://api.example.com", "http://kc:3128", **env) == "http://kc:3128 proxy-url of cluster 'c1'"
    assert chosen("https://127.0.0.1:6443", "socks5://kc") == "socks5://kc:1080 proxy-url of cluster 'c1'"
    assert chosen("https://localhost:6443", "https://kc") == "https://kc:443 proxy-url of cluster 'c1'"


@pytest.mark.parametrize("url", ["ftp://proxy:21", "socks4://proxy:1080", "proxy.corp:3128", "http://"])
def test_proxy_url_must_be_a_client_go_url(url: str) -> None:
    with pytest.raises(ProxyConfigError) as failed:
        parse_proxy_url(url, "proxy-url of cluster 'c1'")
    assert "proxy-url of cluster 'c1'" in str(failed.value)


def test_the_display_names_the_user_never_the_password() -> None:
    proxy = parse_proxy_url("http://us%40er:p%3Ass@proxy.corp:3128", "HTTPS_PROXY", env_rules=True)
    assert (proxy.username, proxy.password) == ("us@er", "p:ss")
    assert proxy.display == "http://us%40er@proxy.corp:3128 (HTTPS_PROXY)"
    assert "p:ss" not in repr(proxy) and "p%3Ass" not in repr(proxy)
    assert Proxy("http", "::1", 3128, "x").display == "http://[::1]:3128 (x)"


def kubeconfig(tmp_path: Path, cluster: dict[str, object], user: dict[str, object] | None = None) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "clusters": [{"name": "c1", "cluster": cluster}],
        "users": [{"name": "u1", "user": user or {"token": "t0ken-abc"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c1", "user": "u1"}}],
    }))
    return path


def test_kubeconfig_proxy_url_is_loaded_and_its_password_masked(tmp_path: Path) -> None:
    runner = Runner(masker=Masker())
    path = kubeconfig(tmp_path, {"server": "https://api.example.com", "proxy-url": "http://u:Pr0xy-pass@p:3128"})
    config = load_cluster_config("ctx", runner, kubeconfig=path, env={"HTTPS_PROXY": "http://env:1"})
    assert config.proxy is not None and (config.proxy.host, config.proxy.source) == ("p", "proxy-url of cluster 'c1'")
    assert runner.masker.mask("dial Pr0xy-pass") == "dial ***"
    env = {"HTTP_PROXY": "http://u:Env-pass-1@p:3128", "https_proxy": "u:Env-pass-2@p:3128", "NO_PROXY": "*"}
    load_cluster_config("ctx", runner, kubeconfig=kubeconfig(tmp_path, {"server": "https://127.0.0.1:6443"}), env=env)
    assert runner.masker.mask("Env-pass-1 Env-pass-2") == "*** ***"  # unused by this cluster, helm may print them


def test_bad_proxy_url_names_the_kubeconfig(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, {"server": "https://api.example.com", "proxy-url": "socks4://p:1080"})
    with pytest.raises(InputError) as failed:
        load_cluster_config("ctx", Runner(), kubeconfig=path, env={})
    text = failed.value.render()
    assert str(path) in text and "unsupported scheme 'socks4'" in text and "http://, https:// or socks5://" in text


@pytest.mark.parametrize(("provider", "fix"), [
    ("gcp", "gke-gcloud-auth-plugin"), ("azure", "kubelogin"), ("acme", "exec credential"),
    ("oidc", "kubelogin: command: kubectl, args: [oidc-login, get-token, --oidc-issuer-url=https://idp.example, "
             "--oidc-client-id=helmkit-ci]"),
])
def test_auth_provider_is_refused_naming_user_and_fix(tmp_path: Path, provider: str, fix: str) -> None:
    user = {"auth-provider": {"name": provider, "config": {"id-token": "secret-id-token", "client-secret": "cs-99",
                                                          "idp-issuer-url": "https://idp.example",
                                                          "client-id": "helmkit-ci"}}}
    path = kubeconfig(tmp_path, {"server": "https://api.example.com"}, user)
    with pytest.raises(InputError) as failed:
        load_cluster_config("ctx", Runner(), kubeconfig=path, env={})
    text = failed.value.render()
    assert f"user 'u1' uses auth-provider '{provider}'" in text and str(path) in text
    assert fix in text and "user.exec" in text and "secret-id-token" not in text and "cs-99" not in text


# -- refusals a real proxy rarely makes on demand: a hand-written proxy at the outer door -----------------


@pytest.fixture
def refusing_proxy() -> Iterator[tuple[int, list[bytes]]]:
    """Answers each connection with the next canned reply; records what the client sent."""
    replies: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                if replies:
                    conn.sendall(replies.pop(0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], replies
    server.close()


def client_through(tmp_path: Path, proxy_url: str) -> KubeClient:
    path = kubeconfig(tmp_path, {"server": "https://api.example.com:6443", "proxy-url": proxy_url})
    return KubeClient(load_cluster_config("ctx", Runner(), kubeconfig=path, env={}), retries=1, backoff=0.01)


def test_connect_refused_by_the_proxy_is_one_clear_error(tmp_path: Path,
                                                         refusing_proxy: tuple[int, list[bytes]]) -> None:
    port, replies = refusing_proxy
    replies.append(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    with client_through(tmp_path, f"http://u:s3cret-pw@127.0.0.1:{port}") as client, \
            pytest.raises(ClusterError) as failed:
        client.version()
    text = failed.value.render()
    assert f"proxy http://u@127.0.0.1:{port} (proxy-url of cluster 'c1') answered CONNECT api.example.com:6443 " \
           "with HTTP 403 Forbidden" in text
    assert "cluster 'c1'" in text and "s3cret-pw" not in text and not replies  # not retried


def test_a_bad_gateway_from_the_proxy_is_retried_then_named(tmp_path: Path,
                                                            refusing_proxy: tuple[int, list[bytes]]) -> None:
    port, replies = refusing_proxy
    replies.extend([b"HTTP/1.1 502 Bad Gateway\r\n\r\n"] * 2)
    with client_through(tmp_path, f"http://127.0.0.1:{port}") as client, pytest.raises(ClusterError) as failed:
        client.version()
    assert "answered CONNECT api.example.com:6443 with HTTP 502 Bad Gateway (after 2 attempts)" in failed.value.message
    assert "go through proxy http://127.0.0.1" in (failed.value.hint or "") and not replies


def test_socks5_refusal_is_named(tmp_path: Path, refusing_proxy: tuple[int, list[bytes]]) -> None:
    port, replies = refusing_proxy
    replies.append(b"\x05\x00" + b"\x05\x02\x00\x01" + bytes(6))  # no auth; then "not allowed by ruleset"
    with client_through(tmp_path, f"socks5://127.0.0.1:{port}") as client, pytest.raises(ClusterError) as failed:
        client.version()
    assert "SOCKS5 proxy socks5://127.0.0.1" in failed.value.message
    assert "connection not allowed by ruleset" in failed.value.message


def test_socks5_credentials_rejected(tmp_path: Path, refusing_proxy: tuple[int, list[bytes]]) -> None:
    port, replies = refusing_proxy
    replies.append(b"\x05\x02" + b"\x01\x01")  # user/password wanted; then rejected
    with client_through(tmp_path, f"socks5://sam:s0cks-pw@127.0.0.1:{port}") as client, \
            pytest.raises(ClusterError) as failed:
        client.version()
    assert f"SOCKS5 proxy socks5://sam@127.0.0.1:{port}" in failed.value.message
    assert "rejected the user and password" in failed.value.message and "s0cks-pw" not in failed.value.render()


def test_an_https_proxy_that_does_not_speak_tls_is_named(tmp_path: Path,
                                                        refusing_proxy: tuple[int, list[bytes]]) -> None:
    port, _ = refusing_proxy
    with client_through(tmp_path, f"https://u:pw-7@127.0.0.1:{port}") as client, \
            pytest.raises(ClusterError) as failed:
        client.version()
    assert f"TLS handshake with proxy https://u@127.0.0.1:{port} (proxy-url of cluster 'c1') failed" \
        in failed.value.message and "certificate-authority" in (failed.value.hint or "")
