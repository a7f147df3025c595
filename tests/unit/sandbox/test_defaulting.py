"""The defaults table applied to single objects: the rules' edge cases (the per-kind read-back tests
with real kubectl are in tests/e2e/test_sandbox_defaults.py)."""

from __future__ import annotations

from typing import Any

import pytest

from helmkit.sandbox import defaulting
from helmkit.sandbox.defaults import KINDS, TYPES, Computed, Each, Nested


def _deployment(strategy: dict[str, Any] | None = None, **container: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"template": {"spec": {"containers": [{"name": "c", **container}]}}}
    if strategy is not None:
        spec["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}, "spec": spec}


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
    ("registry.local:5000/nginx", "Always"), ("registry.local:5000/nginx:1.2", "IfNotPresent"),
    ("nginx@sha256:abc", "IfNotPresent"), ("nginx:latest@sha256:abc", "Always"),
])
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    obj = defaulting.apply("apps", "v1", "Deployment", _deployment(image=image), None)
    assert obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_an_explicit_pull_policy_is_kept_and_an_empty_one_defaulted() -> None:
    kept = defaulting.apply("apps", "v1", "Deployment", _deployment(image="x", imagePullPolicy="Never"), None)
    assert kept["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    empty = defaulting.apply("apps", "v1", "Deployment", _deployment(image="x:1", imagePullPolicy=""), None)
    assert empty["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"


_ROLLING = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}


@pytest.mark.parametrize(("strategy", "expected"), [
    (None, _ROLLING),
    ({"type": "RollingUpdate"}, _ROLLING),
    ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}},
     {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 0}}),
    ({"type": "Recreate"}, {"type": "Recreate"}),
])
def test_deployment_strategy(strategy: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    obj = defaulting.apply("apps", "v1", "Deployment", _deployment(strategy, image="x"), None)
    assert obj["spec"]["strategy"] == expected


def test_replicas_zero_is_kept_but_null_is_defaulted() -> None:
    zero = _deployment(image="x")
    zero["spec"]["replicas"] = 0
    assert defaulting.apply("apps", "v1", "Deployment", zero, None)["spec"]["replicas"] == 0
    null = _deployment(image="x")
    null["spec"]["replicas"] = None
    assert defaulting.apply("apps", "v1", "Deployment", null, None)["spec"]["replicas"] == 1


def test_probe_zero_periods_are_defaulted() -> None:
    obj = defaulting.apply("apps", "v1", "Deployment",
                           _deployment(image="x", readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": 0}),
                           None)
    probe = obj["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert (probe["periodSeconds"], probe["timeoutSeconds"], probe["failureThreshold"]) == (10, 1, 3)


def test_statefulset_on_delete_gets_no_rolling_update() -> None:
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s", "namespace": "n"},
           "spec": {"updateStrategy": {"type": "OnDelete"}}}
    assert defaulting.apply("apps", "v1", "StatefulSet", sts, None)["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_job_parallelism_alone_leaves_completions_unset() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "n", "uid": "u-1"},
           "spec": {"parallelism": 3, "template": {"spec": {"containers": []}}}}
    spec = defaulting.apply("batch", "v1", "Job", job, None)["spec"]
    assert "completions" not in spec and spec["parallelism"] == 3
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    assert job["metadata"]["labels"]["job-name"] == "j"  # read-back defaulting copies the template's labels


def test_service_update_keeps_its_cluster_ip_and_node_ports() -> None:
    def service(**spec: Any) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"},
                "spec": {"ports": [{"port": 80}], **spec}}

    old = defaulting.apply("", "v1", "Service", service(type="NodePort", clusterIP="10.96.1.2"), None)
    new = defaulting.apply("", "v1", "Service", service(type="NodePort", clusterIP=""), old)
    assert new["spec"]["clusterIP"] == "10.96.1.2"
    assert new["spec"]["ports"][0]["nodePort"] == old["spec"]["ports"][0]["nodePort"]
    assert 30000 <= new["spec"]["ports"][0]["nodePort"] < 32768
    cluster_ip = defaulting.apply("", "v1", "Service", service(type="ClusterIP"), new)
    assert "nodePort" not in cluster_ip["spec"]["ports"][0]
    external = defaulting.apply("", "v1", "Service", service(type="ExternalName", externalName="a.example"), None)
    assert "clusterIP" not in external["spec"] and "ipFamilies" not in external["spec"]


def test_nulls_are_dropped_from_built_in_kinds() -> None:
    obj = _deployment(image="x")
    obj["spec"]["template"]["spec"]["nodeSelector"] = None
    assert "nodeSelector" not in defaulting.apply("apps", "v1", "Deployment", obj, None)["spec"]["template"]["spec"]


def test_every_type_and_computed_default_the_table_names_exists() -> None:
    for type_name in KINDS.values():
        assert type_name in TYPES
    for rules in TYPES.values():
        for rule in rules:
            if isinstance(rule, Nested | Each):
                assert rule.type in TYPES, rule
            if isinstance(rule, Computed):
                assert rule.name in defaulting.COMPUTED, rule


def test_crd_schema_defaults_fill_absent_fields_where_their_parent_exists() -> None:
    schema = {"type": "object", "properties": {
        "metadata": {"type": "object", "properties": {"name": {"type": "string", "default": "x"}}},
        "spec": {"type": "object", "properties": {
            "color": {"type": "string", "default": "blue"},
            "tls": {"type": "object", "properties": {"enabled": {"type": "boolean", "default": False}}},
            "ports": {"type": "array", "items": {"type": "object", "properties": {
                "protocol": {"type": "string", "default": "TCP"}}}},
            "labels": {"type": "object", "additionalProperties": {
                "type": "object", "properties": {"weight": {"type": "integer", "default": 1}}}},
        }},
    }}
    obj: dict[str, Any] = {"metadata": {}, "spec": {"color": None, "ports": [{"port": 80}, {"protocol": "UDP"}],
                                                    "labels": {"a": {}}}}
    defaulting.schema_defaults(obj, schema, top=True)
    assert obj == {"metadata": {}, "spec": {"color": "blue", "ports": [{"port": 80, "protocol": "TCP"},
                                                                      {"protocol": "UDP"}],
                                            "labels": {"a": {"weight": 1}}}}
