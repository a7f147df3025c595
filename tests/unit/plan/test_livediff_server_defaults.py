"""Live drift and the API server's defaults: an empty manifest value the server fills in is compared
with what the server fills in (the table of helmkit.sandbox.defaults), not reported as changed."""

from __future__ import annotations

import copy
from typing import Any

from helmkit.plan.livediff import live_drift
from helmkit.plan.manifests import ObjectKey
from helmkit.sandbox import defaulting

DEPLOY = ObjectKey("apps", "Deployment", "shop", "web")
SERVICE = ObjectKey("", "Service", "shop", "web")


def _deployment(pull_policy: str, image: str = "nginx:1.27") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image, "imagePullPolicy": pull_policy,
                                         "readinessProbe": {"httpGet": {"port": 80}, "periodSeconds": 0}}]}}}}


def _served(body: dict[str, Any]) -> dict[str, Any]:
    live = copy.deepcopy(body)
    live["metadata"]["namespace"] = "shop"
    return defaulting.apply(*("apps", "v1") if body["kind"] == "Deployment" else ("", "v1"), body["kind"], live, None)


def _paths(key: ObjectKey, body: dict[str, Any], live: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    result = live_drift("web", "shop", {key: (body["apiVersion"], body)}, {key: live})
    return [(f.path, f.expected, f.live) for obj in result.objects for f in obj.fields]


def test_empty_values_the_server_fills_in_are_not_drift() -> None:
    body = _deployment("")
    assert _paths(DEPLOY, body, _served(body)) == []
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"type": "", "clusterIP": "", "sessionAffinity": "", "ports": [{"port": 80, "targetPort": 0}]}}
    live = _served(service)
    assert live["spec"]["clusterIP"].startswith("10.96.")
    assert _paths(SERVICE, service, live) == []


def test_a_hand_set_value_in_place_of_the_default_is_still_drift() -> None:
    body = _deployment("")
    live = _served(body)
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    assert _paths(DEPLOY, body, live) == [
        ("spec.template.spec.containers[name=web].imagePullPolicy", "IfNotPresent", "Always")]
    latest = _deployment("", image="nginx")
    assert _paths(DEPLOY, latest, _served(latest)) == []  # no tag: the server's default is Always


def test_empty_strings_in_data_and_labels_are_compared_as_they_are() -> None:
    key = ObjectKey("", "Secret", "shop", "web")
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web", "labels": {"type": ""}},
            "type": "", "data": {"type": ""}}
    live = _served(body)
    assert live["type"] == "Opaque"
    live["metadata"]["labels"]["type"] = "x"
    assert [p for p, _, _ in _paths(key, body, live)] == ['metadata.labels.type']
