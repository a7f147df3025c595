"""Proxies end to end: helmkit's Kubernetes reader and the helm it starts go through a real proxy process.

The kubeconfig names the sandbox's API server ``kube.proxied.test``: only the proxy (proxy.py with
the :mod:`tests.support.proxyhosts` plugin) can resolve that name, so a request that reaches the
server went through the proxy, and one sent directly fails. The proxy's access log counts the tunnels.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError
from helmkit.sandbox.certificates import Identity
from helmkit.sandbox.cluster import ClusterState
from helmkit.sandbox.server import ClusterServer
from tests.e2e.conftest import CHARTS, E2ECluster
from tests.support.proxyserver import HttpProxy, free_port, http_proxy, socks_proxy

pytestmark = pytest.mark.e2e

PROXIED_HOST = "kube.proxied.test"
PROXY_USER, PROXY_PASSWORD = "kpuser", "kp-Secret-7781"


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[HttpProxy]:
    with http_proxy(tmp_path / "proxy") as running:
        yield running


def proxied_kubeconfig(cluster: E2ECluster, dest: Path, *, host: str = PROXIED_HOST,
                       proxy_url: str | None = None) -> tuple[Path, str]:
    """The test cluster's kubeconfig with its server renamed ``host`` (certificate checked for localhost)."""
    cluster.require_sandbox()
    doc = yaml.safe_load(cluster.kubeconfig.read_text())
    entry = next(c["cluster"] for c in doc["clusters"] if c["name"] == cluster.context)
    port = int(entry["server"].rsplit(":", 1)[1])
    entry["server"] = f"https://{host}:{port}"
    entry["tls-server-name"] = "localhost"
    if proxy_url:
        entry["proxy-url"] = proxy_url
    dest.write_text(yaml.safe_dump(doc))
    dest.chmod(0o600)
    return dest, f"{host}:{port}"


def reader(kubeconfig: Path, context: str, env: dict[str, str], runner: Runner | None = None) -> KubeClient:
    config = load_cluster_config(context, runner or Runner(), kubeconfig=kubeconfig, env=env)
    return KubeClient(config, retries=1, backoff=0.01, timeout=20)


def tool_env(tmp_path: Path, kubeconfig: Path, **proxy_env: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HELM_", "KUBE")) and not k.lower().endswith("_proxy")}
    env.update(KUBECONFIG=str(kubeconfig), HELM_CACHE_HOME=str(tmp_path / "helm-cache"),
               HELM_CONFIG_HOME=str(tmp_path / "helm-config"), HELM_DATA_HOME=str(tmp_path / "helm-data"),
               KUBECACHEDIR=str(tmp_path / "kube-cache"), **proxy_env)
    return env


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def helm_list(helm_bin: Path, context: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([str(helm_bin), "list", "-A", "-o", "json", "--kube-context", context], env)


def test_every_request_of_the_reader_goes_through_the_env_proxy(cluster: E2ECluster, proxy: HttpProxy,
                                                                 tmp_path: Path) -> None:
    kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / "kubeconfig")
    with reader(kubeconfig, cluster.context, {}) as direct, pytest.raises(ClusterError) as failed:
        direct.version()  # without the proxy the name does not even resolve
    assert f"unreachable at https://{target}" in failed.value.message
    assert proxy.tunnels(target) == 0

    env = {"HTTPS_PROXY": proxy.url(), "NO_PROXY": "localhost,.example.com,10.0.0.0/8"}
    with reader(kubeconfig, cluster.context, env) as client:
        assert client.config.proxy is not None and client.config.proxy.source == "HTTPS_PROXY"
        assert client.version()["gitVersion"]
        client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "via-proxy"}})
        client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "via-proxy"},
                       "data": {"a": "1"}})
        client.patch("v1", "ConfigMap", "cm", {"data": {"a": "2"}}, namespace="via-proxy")
        with ThreadPoolExecutor(4) as pool:  # the pool's connections are shared between threads
            found = list(pool.map(lambda _: client.get("v1", "ConfigMap", "cm", "via-proxy"), range(8)))
        assert all(cm is not None and cm["data"] == {"a": "2"} for cm in found)
        assert [d["metadata"]["name"] for d in client.list("apps/v1", "Deployment", "via-proxy")] == []
        assert client.delete("v1", "ConfigMap", "cm", "via-proxy")
        assert client.discovery("/apis")["kind"] == "APIGroupList"
    assert proxy.tunnels(target) >= 4  # four threads reading at once: a connection each, pooled after


@pytest.fixture
def repo(tmp_path: Path, cluster: E2ECluster) -> Path:
    root = tmp_path / "repo"
    (root / "releases").mkdir(parents=True)
    (root / "environments").mkdir()
    (root / "helmkit.yaml").write_text('helm: {version: ">=3.19.0 <5.0.0"}\ndefaults: {wait: false}\n')
    shutil.copytree(CHARTS / "app", root / "charts" / "app")
    (root / "releases" / "web.yaml").write_text(yaml.safe_dump({"chart": {"path": "charts/app"}, "namespace": "web"}))
    (root / "environments" / "px.yaml").write_text(yaml.safe_dump({"clusters": [{"name": cluster.context}]}))
    return root


def helmkit(repo: Path, helm_bin: Path, kubeconfig: Path, env: dict[str, str],
            *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "helmkit", "--repo", str(repo), "--helm", str(helm_bin), "--colour", "never",
                *args, "--kubeconfig", str(kubeconfig)], env)


def test_sync_and_status_reach_the_cluster_through_the_proxy_with_helm(
        cluster: E2ECluster, proxy: HttpProxy, repo: Path, helm_bin: Path, tmp_path: Path) -> None:
    kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / "kubeconfig")
    env = tool_env(tmp_path, kubeconfig, HTTPS_PROXY=proxy.url(), NO_PROXY="localhost,127.0.0.1")
    synced = helmkit(repo, helm_bin, kubeconfig, env, "sync", "-e", "px", "--yes")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    after_sync = proxy.tunnels(target)
    shown = helmkit(repo, helm_bin, kubeconfig, env, "status", "-e", "px", "-o", "json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    row = json.loads(shown.stdout)[0]
    assert (row["release"], row["helm_status"], row["status"]) == ("web", "deployed", "in-sync")
    assert after_sync > 0 and proxy.tunnels(target) > after_sync
    released = json.loads(helm_list(helm_bin, cluster.context, env).stdout)  # helm itself through the proxy
    assert [r["name"] for r in released] == ["web"]


@pytest.mark.parametrize("no_proxy", [PROXIED_HOST, ".proxied.test", "proxied.test", f"{PROXIED_HOST}:PORT", "*"])
def test_no_proxy_sends_the_reader_directly(cluster: E2ECluster, proxy: HttpProxy, tmp_path: Path,
                                            no_proxy: str) -> None:
    kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / "kubeconfig")
    env = {"HTTPS_PROXY": proxy.url(), "NO_PROXY": no_proxy.replace("PORT", target.rsplit(":", 1)[1])}
    with reader(kubeconfig, cluster.context, env) as client, pytest.raises(ClusterError) as failed:
        client.version()
    assert client.config.proxy is None
    assert "proxy" not in failed.value.message  # it went directly, where the name does not resolve
    assert proxy.tunnels(target) == 0


def test_no_proxy_sends_helm_directly_too(cluster: E2ECluster, proxy: HttpProxy, helm_bin: Path,
                                          tmp_path: Path) -> None:
    kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / "kubeconfig")
    bypass = tool_env(tmp_path, kubeconfig, HTTPS_PROXY=proxy.url(), NO_PROXY=".proxied.test")
    assert helm_list(helm_bin, cluster.context, bypass).returncode != 0
    assert proxy.tunnels(target) == 0
    through = tool_env(tmp_path, kubeconfig, HTTPS_PROXY=proxy.url(), NO_PROXY=".other.test")
    assert helm_list(helm_bin, cluster.context, through).returncode == 0
    assert proxy.tunnels(target) > 0


def test_the_kubeconfig_proxy_url_beats_the_environment(cluster: E2ECluster, proxy: HttpProxy, helm_bin: Path,
                                                        tmp_path: Path) -> None:
    kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / "kubeconfig", proxy_url=proxy.url())
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = tool_env(tmp_path, kubeconfig, HTTPS_PROXY=dead, NO_PROXY="*")
    with reader(kubeconfig, cluster.context, env) as client:
        assert client.config.proxy is not None
        assert client.config.proxy.source == f"proxy-url of cluster {cluster.context!r}"
        assert client.list("v1", "Namespace")
    assert proxy.tunnels(target) > 0
    before = proxy.tunnels(target)
    listed = helm_list(helm_bin, cluster.context, env)
    assert listed.returncode == 0, listed.stderr
    assert proxy.tunnels(target) > before


def test_proxy_authentication(cluster: E2ECluster, repo: Path, helm_bin: Path, tmp_path: Path) -> None:
    with http_proxy(tmp_path / "auth-proxy", basic_auth=f"{PROXY_USER}:{PROXY_PASSWORD}") as guarded:
        cases: dict[str, Any] = {
            "none": guarded.url(),
            "wrong": guarded.url(PROXY_USER, "wrong-Pass-4410"),
            "right": guarded.url(PROXY_USER, PROXY_PASSWORD),
        }
        results = {}
        for name, url in cases.items():
            kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / f"kubeconfig-{name}", proxy_url=url)
            env = tool_env(tmp_path, kubeconfig)
            results[name] = helmkit(repo, helm_bin, kubeconfig, env, "status", "-e", "px")
            with reader(kubeconfig, cluster.context, env) as client:
                if name == "right":
                    assert client.version()["gitVersion"]
                else:
                    with pytest.raises(ClusterError) as failed:
                        client.version()
                    assert "407 Proxy Authentication Required" in failed.value.message
        assert guarded.tunnels(target) > 0
    for name in ("none", "wrong"):
        out = results[name].stdout + results[name].stderr
        assert results[name].returncode == 1, out
        assert f"error: cluster {cluster.context}: proxy http://" in out and "407" in out, out
        assert "Traceback" not in out and "wrong-Pass-4410" not in out and PROXY_PASSWORD not in out, out
    assert f"http://{PROXY_USER}@127.0.0.1:" in results["wrong"].stdout + results["wrong"].stderr
    right = results["right"]
    assert right.returncode == 0 and "not-installed" in right.stdout, right.stdout + right.stderr


def test_a_dead_proxy_is_named_with_the_cluster(cluster: E2ECluster, tmp_path: Path) -> None:
    dead = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{free_port()}"
    kubeconfig, _ = proxied_kubeconfig(cluster, tmp_path / "kubeconfig", proxy_url=dead)
    runner = Runner()
    with reader(kubeconfig, cluster.context, {}, runner) as client, pytest.raises(ClusterError) as failed:
        client.version()
    text = failed.value.render()
    assert f"cannot connect to proxy http://{PROXY_USER}@127.0.0.1:" in text
    assert f"proxy-url of cluster {cluster.context!r}" in text and PROXY_PASSWORD not in text
    assert runner.masker.mask(f"said {PROXY_PASSWORD}") == "said ***"  # helm's own messages are masked too


def test_socks5_proxy_url(cluster: E2ECluster, helm_bin: Path, tmp_path: Path) -> None:
    with socks_proxy(tmp_path / "socks") as socks:
        kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / "kubeconfig", host="127.0.0.1",
                                                proxy_url=socks.url(scheme="socks5"))
        env = tool_env(tmp_path, kubeconfig)
        with reader(kubeconfig, cluster.context, env) as client:
            assert client.list("v1", "Namespace")
        through_reader = socks.streams(target)
        listed = helm_list(helm_bin, cluster.context, env)
        assert listed.returncode == 0, listed.stderr
        assert through_reader > 0 and socks.streams(target) > through_reader


def test_an_auth_provider_user_gets_one_clear_error(cluster: E2ECluster, repo: Path, helm_bin: Path,
                                                    tmp_path: Path) -> None:
    kubeconfig, _ = proxied_kubeconfig(cluster, tmp_path / "kubeconfig", host="127.0.0.1")
    doc = yaml.safe_load(kubeconfig.read_text())
    user = next(u for u in doc["users"] if u["name"] == doc["contexts"][0]["context"]["user"])
    user["user"] = {"auth-provider": {"name": "oidc", "config": {
        "idp-issuer-url": "https://idp.example", "client-id": "helmkit", "id-token": "eyJ-id-token-secret"}}}
    kubeconfig.write_text(yaml.safe_dump(doc))
    shown = helmkit(repo, helm_bin, kubeconfig, tool_env(tmp_path, kubeconfig), "status", "-e", "px")
    out = shown.stdout + shown.stderr
    assert shown.returncode == 1, out
    assert "uses auth-provider 'oidc'" in out and "kubectl, args: [oidc-login, get-token" in out, out
    assert "Traceback" not in out and "eyJ-id-token-secret" not in out, out
    synced = helmkit(repo, helm_bin, kubeconfig, tool_env(tmp_path, kubeconfig), "sync", "-e", "px", "--yes")
    out = synced.stdout + synced.stderr
    assert synced.returncode == 1 and out.count("uses auth-provider 'oidc'") == 1, out
    assert "Traceback" not in out and "eyJ-id-token-secret" not in out, out


def test_a_plain_http_server_is_reached_through_http_proxy_with_absolute_urls(tmp_path: Path) -> None:
    server = ClusterServer(ClusterState("plain", "plain-token"), "127.0.0.1", 0, None)
    server.start()
    try:
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump({
            "clusters": [{"name": "plain", "cluster": {"server": f"http://{PROXIED_HOST}:{server.port}"}}],
            "users": [{"name": "plain", "user": {"token": "plain-token"}}],
            "contexts": [{"name": "plain", "context": {"cluster": "plain", "user": "plain"}}],
        }))
        target = f"{PROXIED_HOST}:{server.port}"
        with http_proxy(tmp_path / "open") as open_proxy:
            env = {"HTTPS_PROXY": "http://127.0.0.1:1", "HTTP_PROXY": open_proxy.url()}  # http:// servers: HTTP_PROXY
            with reader(path, "plain", env) as client:
                client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "plain-ns"}})
                assert client.get("v1", "Namespace", "plain-ns") is not None
            assert open_proxy.tunnels(target) >= 1  # kube.proxied.test resolves only through the proxy
        with http_proxy(tmp_path / "guarded", basic_auth=f"{PROXY_USER}:{PROXY_PASSWORD}") as guarded:
            with reader(path, "plain", {"HTTP_PROXY": guarded.url()}) as client, \
                    pytest.raises(ClusterError) as failed:
                client.version()
            assert "answered HTTP 407 Proxy Authentication Required" in failed.value.message
            with reader(path, "plain", {"http_proxy": guarded.url(PROXY_USER, PROXY_PASSWORD)}) as client:
                assert client.version()["gitVersion"]
    finally:
        server.stop()


def test_an_https_proxy_url(cluster: E2ECluster, helm_bin: Path, tmp_path: Path, sandbox_identity: Identity) -> None:
    # client-go checks an https:// proxy with the cluster's TLS settings: the sandbox's CA signed this one too
    pem = (sandbox_identity.certificate_pem, sandbox_identity.key_pem)
    with http_proxy(tmp_path / "tls-proxy", tls=pem) as secure:
        kubeconfig, target = proxied_kubeconfig(cluster, tmp_path / "kubeconfig",
                                                proxy_url=secure.url(scheme="https"))
        env = tool_env(tmp_path, kubeconfig)
        with reader(kubeconfig, cluster.context, env) as client:
            with ThreadPoolExecutor(3) as pool:
                assert all(pool.map(lambda _: client.list("v1", "Namespace"), range(6)))
            client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "over-tls"}})
        through_reader = secure.tunnels(target)
        listed = helm_list(helm_bin, cluster.context, env)
        assert listed.returncode == 0, listed.stderr
        assert through_reader >= 2 and secure.tunnels(target) > through_reader
