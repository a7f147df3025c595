"""KubeClient against a real HTTP(S) server on 127.0.0.1: TLS, auth, pagination, retries, errors.

The server (tests/support/kubeapi.py) is a minimal API server written for faults the sandbox cannot produce in
a unit test (a 503 on the nth request, a connection dropped mid-response, a hanging response, a
rejected client certificate). End-to-end behaviour with real helm is in tests/e2e.
"""

from __future__ import annotations

import base64
import gzip
import json
import stat
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from helmkit.adapters.helmstorage import latest_releases, read_releases
from helmkit.adapters.kube import KubeApiError, KubeClient
from helmkit.adapters.kubeconfig import Credentials, load_cluster_config
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError
from tests.support import kubeapi
from tests.support.kubeapi import TOKEN, Pki, Server, client, cm, config, tls_server

server = kubeapi.server  # fixture
pki = kubeapi.pki  # fixture


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


def test_writes_reuse_a_connection_but_never_one_the_server_closed(server: Server) -> None:
    kube = client(server.url)
    kube.create(cm("a"))
    kube.replace({**cm("a"), "data": {"x": "1"}})
    kube.create(cm("b"))
    assert server.state.connections == 1  # writes as well as reads: one TLS handshake, not one per write
    server.state.faults.append(("close-after", None))
    assert kube.get("v1", "ConfigMap", "a", "default") is not None  # answered; then the server closes it
    time.sleep(0.2)
    kube.create(cm("c"))  # on a new connection: a write sent into the closed one could not be retried
    assert server.state.connections == 2 and kube.get("v1", "ConfigMap", "c", "default") is not None
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
