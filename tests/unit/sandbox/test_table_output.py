"""meta.k8s.io/v1 Tables as kubectl get and helm status request them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from helmkit.sandbox.tables import human_age, to_table

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def meta(name: str, created: str = "2026-03-01T11:57:00Z") -> dict[str, Any]:
    return {"name": name, "namespace": "default", "uid": f"uid-{name}", "creationTimestamp": created}


def headers(table: dict[str, Any], *, wide: bool = False) -> list[str]:
    return [c["name"].upper() for c in table["columnDefinitions"] if wide or c["priority"] == 0]


def default_cells(table: dict[str, Any], row: int = 0) -> list[Any]:
    keep = [c["priority"] == 0 for c in table["columnDefinitions"]]
    return [cell for cell, shown in zip(table["rows"][row]["cells"], keep, strict=True) if shown]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (5, "5s"), (119, "119s"), (120, "2m"), (185, "3m5s"),
        (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 60 * 20, "3h20m"), (8 * 3600, "8h"),
        (47 * 3600, "47h"), (2 * 86400, "2d"), (2 * 86400 + 3 * 3600, "2d3h"), (8 * 86400, "8d"),
        (400 * 86400, "400d"), (730 * 86400, "2y"), (800 * 86400, "2y70d"), (9 * 365 * 86400, "9y"),
    ],
)
def test_human_age_like_kubectl(seconds: int, text: str) -> None:
    assert human_age(seconds) == text


def test_pods() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta("web-1"),
           "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "node-1"},
           "status": {"phase": "Running", "podIP": "10.0.0.5",
                      "containerStatuses": [{"name": "a", "ready": True, "restartCount": 2},
                                            {"name": "b", "ready": False, "restartCount": 1,
                                             "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    table = to_table("Pod", [pod], now=NOW)
    assert headers(table) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert headers(table, wide=True) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert table["rows"][0]["cells"] == ["web-1", "1/2", "CrashLoopBackOff", "3", "3m", "10.0.0.5", "node-1"]


def test_services() -> None:
    services = [
        {"metadata": meta("web"), "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10",
                                           "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                                           "selector": {"app": "web"}}},
        {"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.11",
                                          "ports": [{"port": 443, "nodePort": 30443}]}},
    ]
    table = to_table("Service", services, now=NOW)
    assert headers(table) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert default_cells(table, 0) == ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "3m"]
    assert default_cells(table, 1) == ["lb", "LoadBalancer", "10.96.0.11", "<pending>", "443:30443/TCP", "3m"]


def test_deployments() -> None:
    deployment = {"metadata": meta("web", "2026-02-27T12:00:00Z"),
                  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}},
                  "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    table = to_table("Deployment", [deployment], now=NOW)
    assert headers(table) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table["rows"][0]["cells"] == ["web", "2/3", 3, 2, "2d", "app", "app:2", "app=web"]


def test_config_maps_and_secrets() -> None:
    config_map = {"metadata": meta("cm"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    secret = {"metadata": meta("s"), "type": "helm.sh/release.v1", "data": {"release": "eA=="}}
    assert headers(to_table("ConfigMap", [config_map], now=NOW)) == ["NAME", "DATA", "AGE"]
    assert to_table("ConfigMap", [config_map], now=NOW)["rows"][0]["cells"] == ["cm", 3, "3m"]
    assert headers(to_table("Secret", [secret], now=NOW)) == ["NAME", "TYPE", "DATA", "AGE"]
    assert to_table("Secret", [secret], now=NOW)["rows"][0]["cells"] == ["s", "helm.sh/release.v1", 1, "3m"]


def test_other_kinds_get_name_and_age() -> None:
    table = to_table("ClusterRole", [{"metadata": {"name": "view"}}], now=NOW)
    assert headers(table) == ["NAME", "AGE"]
    assert table["rows"][0]["cells"] == ["view", "<unknown>"]


def test_crd_printer_columns() -> None:
    columns = [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
               {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "priority": 1},
               {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    obj = {"metadata": meta("w"), "spec": {"size": 3}, "status": {"phase": "Ready"}}
    table = to_table("Widget", [obj], now=NOW, printer_columns=columns)
    assert headers(table, wide=True) == ["NAME", "SIZE", "AGE", "PHASE"]
    assert table["rows"][0]["cells"] == ["w", 3, "3m", "Ready"]


@pytest.mark.parametrize("include", ["Object", "Metadata", "None"])
def test_include_object(include: str) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cm"), "data": {"a": "1"}}
    row = to_table("ConfigMap", [obj], include_object=include, now=NOW)["rows"][0]
    if include == "Object":
        assert row["object"] == obj
    elif include == "Metadata":
        assert row["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": obj["metadata"]}
    else:
        assert "object" not in row


def test_now_may_be_rfc3339_text() -> None:
    table = to_table("ConfigMap", [{"metadata": meta("cm")}], now="2026-03-01T12:00:00Z", resource_version="9")
    assert table["rows"][0]["cells"][-1] == "3m"
    assert table["metadata"] == {"resourceVersion": "9"}
    with pytest.raises(ValueError, match="RFC 3339"):
        to_table("ConfigMap", [], now="yesterday")


def test_golden_table_document(golden: Callable[[str, str], None]) -> None:
    objects = [
        {"metadata": meta("web"), "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a"}]}}},
         "status": {"readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1}},
    ]
    rendered = json.dumps(to_table("Deployment", objects, now=NOW, resource_version="5"), indent=2) + "\n"
    golden("deployment-table.json", rendered)
