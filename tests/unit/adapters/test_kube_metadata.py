"""KubeClient.list_metadata: only the objects' metadata, from the sandbox API server (which answers
``PartialObjectMetadataList``) and from a server that ignores ``as=`` and answers the full list."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.sandbox import Sandbox
from tests.support import kubeapi
from tests.support.kubeapi import Server, cm, config

server = kubeapi.server  # fixture


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeClient]:
    with Sandbox(["one"], admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        with KubeClient(load_cluster_config("one", Runner(), kubeconfig=kubeconfig), page_size=2) as client:
            yield client


def secret(name: str, namespace: str, **labels: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "data": {"release": base64.b64encode(b"x" * 4096).decode()}}


def test_list_metadata_pages_selects_and_leaves_the_data_out(kube: KubeClient) -> None:
    for ns in ("prod", "other"):
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i in range(3):
            kube.create(secret(f"s{i}", ns, owner="helm" if i != 1 else "me", version=str(i)))
    full = kube.list("v1", "Secret", label_selector="owner=helm")
    before = kube.calls
    metadata = kube.list_metadata("v1", "secrets", label_selector="owner=helm")
    assert kube.calls - before == 2  # 4 records, 2 a page
    assert metadata == [obj["metadata"] for obj in full]
    assert [(m["namespace"], m["name"]) for m in metadata] == [
        ("other", "s0"), ("other", "s2"), ("prod", "s0"), ("prod", "s2")]
    assert all(m["uid"] and m["resourceVersion"] and m["labels"]["version"] for m in metadata)
    assert [m["name"] for m in kube.list_metadata("v1", "Secret", namespace="prod")] == ["s0", "s1", "s2"]


def test_a_server_that_ignores_as_gives_the_metadata_of_its_full_list(server: Server) -> None:
    for i in range(5):
        server.state.objects[("configmaps", "default", f"cm{i}")] = cm(f"cm{i}", owner="helm" if i else "me")
    kube = KubeClient(config(server.url), page_size=3)
    metadata = kube.list_metadata("v1", "ConfigMap", namespace="default", label_selector="owner=helm")
    assert metadata == [cm(f"cm{i}", owner="helm")["metadata"] for i in range(1, 5)]
    lists = [accept for (_, path), accept in zip(server.state.requests, server.state.accepts, strict=True)
             if "configmaps?" in path]
    assert len(lists) == 2
    assert all(a.startswith("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,") for a in lists)
    assert all(a.endswith(",application/json") for a in lists)
