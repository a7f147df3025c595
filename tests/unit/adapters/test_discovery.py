"""Capabilities from a server without aggregated discovery (the sandbox serves it; see tests/e2e for that).

A minimal legacy API server on 127.0.0.1: ``/api`` and ``/apis`` answer ``APIVersions`` and
``APIGroupList`` whatever the client accepts, each group-version has its own resource list, and an
aggregated API that is down answers 503, as metrics-server's does when it is not running.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest

from helmkit.adapters.discovery import Capabilities, read_capabilities
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import ClusterConfig, Credentials

DOCS: dict[str, Any] = {
    "/version": {"major": "1", "minor": "31", "gitVersion": "v1.31.7"},
    "/api": {"kind": "APIVersions", "versions": ["v1"]},
    "/apis": {"kind": "APIGroupList", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]},
        {"name": "metrics.k8s.io", "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}]},
    ]},
    "/api/v1": {"kind": "APIResourceList", "resources": [
        {"name": "secrets", "kind": "Secret", "namespaced": True},
        {"name": "pods", "kind": "Pod", "namespaced": True},
        {"name": "pods/eviction", "kind": "Eviction", "group": "policy", "version": "v1", "namespaced": True},
    ]},
    "/apis/apps/v1": {"kind": "APIResourceList", "resources": [
        {"name": "deployments", "kind": "Deployment", "namespaced": True},
        {"name": "deployments/scale", "kind": "Scale", "group": "autoscaling", "version": "v1", "namespaced": True},
    ]},
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str]

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.seen.append(path)
        doc = DOCS.get(path)
        status = 200 if doc is not None else (503 if path.startswith("/apis/metrics.k8s.io") else 404)
        body = json.dumps(doc if doc is not None else {"kind": "Status", "message": "no"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def legacy_server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("LegacyHandler", (Handler,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_legacy_discovery_gives_what_helm_lists(legacy_server: tuple[str, list[str]]) -> None:
    url, seen = legacy_server
    config = ClusterConfig(context="legacy", cluster="c", user="u", server=url, kubeconfig="/k/config",
                           static=Credentials(token="t"))
    with KubeClient(config, timeout=2, retries=1, backoff=0.01) as client:
        found = read_capabilities(client)
        assert client.resource("apps/v1", "deployments").kind == "Deployment"  # from the cache: no request
    assert found.kube_version == "v1.31.7" and found.observed_at
    assert found.api_versions == (
        "apps/v1", "apps/v1/Deployment", "apps/v1/Scale",
        "metrics.k8s.io/v1beta1",  # served but down: kept without kinds, as helm does
        "v1", "v1/Eviction", "v1/Pod", "v1/Secret",
    )
    assert seen.count("/apis/apps/v1") == 1
    assert Capabilities.from_json(found.to_json()) == found
