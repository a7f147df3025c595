"""Live drift: Helm's deployed objects vs live objects, on the fields the manifest sets."""

from __future__ import annotations

import base64
import copy
from typing import Any

from helmkit.plan.livediff import IgnoreRule, live_drift, parse_rules, workload_problem
from helmkit.plan.manifests import ObjectKey

DEPLOY = ObjectKey("apps", "Deployment", "shop", "web")
CM = ObjectKey("", "ConfigMap", "shop", "web-cfg")
SECRET = ObjectKey("", "Secret", "shop", "web-db")


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}],
                 "ports": [{"containerPort": 80}]},
                {"name": "sidecar", "image": "busybox:1", "args": ["--a", "--b"]},
            ]}},
        },
    }


def live_of(body: dict[str, Any]) -> dict[str, Any]:
    """What the API server gives back: defaults, status and bookkeeping added, lists reordered."""
    live = copy.deepcopy(body)
    live["metadata"].update(namespace="shop", uid="u-1", resourceVersion="7", generation=3,
                            creationTimestamp="2026-01-01T00:00:00Z", managedFields=[{"manager": "helm"}],
                            annotations={"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "shop",
                                         "deployment.kubernetes.io/revision": "1"})
    live["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm"
    if live["kind"] == "Deployment":
        spec = live["spec"]
        spec.update(strategy={"type": "RollingUpdate"}, revisionHistoryLimit=10, progressDeadlineSeconds=600)
        containers = spec["template"]["spec"]["containers"]
        containers.reverse()
        for container in containers:
            container.update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log")
        spec["template"]["spec"]["restartPolicy"] = "Always"
        live["status"] = {"replicas": 2, "readyReplicas": 2}
    return live


def drift_of(body: dict[str, Any], live: dict[str, Any] | None, key: ObjectKey = DEPLOY,
             **kwargs: Any) -> list[tuple[str, str, Any, Any]]:
    result = live_drift("web", "shop", {key: (body["apiVersion"], body)}, {key: live} if live else {}, **kwargs)
    return [(obj.state, f.path, f.expected, f.live) for obj in result.objects for f in obj.fields] or \
        [(obj.state, "", None, None) for obj in result.objects]


def test_server_defaults_status_and_reordered_keyed_lists_are_not_drift() -> None:
    body = deployment()
    assert drift_of(body, live_of(body)) == []


def test_a_scaled_deployment_is_drift_on_replicas_only() -> None:
    body = deployment()
    live = live_of(body)
    live["spec"]["replicas"] = 5
    live["status"]["replicas"] = 5
    assert drift_of(body, live) == [("modified", "spec.replicas", 2, 5)]


def test_fields_inside_keyed_lists_are_named_by_their_key() -> None:
    body = deployment()
    live = live_of(body)
    web = next(c for c in live["spec"]["template"]["spec"]["containers"] if c["name"] == "web")
    web["image"] = "nginx:1.28"
    web["env"][0]["value"] = "2"
    sidecar = next(c for c in live["spec"]["template"]["spec"]["containers"] if c["name"] == "sidecar")
    sidecar["args"] = ["--a"]
    assert drift_of(body, live) == [
        ("modified", "spec.template.spec.containers[name=web].env[name=A].value", "1", "2"),
        ("modified", "spec.template.spec.containers[name=web].image", "nginx:1.27", "nginx:1.28"),
        ("modified", "spec.template.spec.containers[name=sidecar].args", ["--a", "--b"], ["--a"]),
    ]


def test_a_removed_container_and_a_removed_label_are_reported_as_gone() -> None:
    body = deployment()
    live = live_of(body)
    live["spec"]["template"]["spec"]["containers"] = [
        c for c in live["spec"]["template"]["spec"]["containers"] if c["name"] == "web"]
    del live["metadata"]["labels"]["app"]
    found = live_drift("web", "shop", {DEPLOY: ("apps/v1", body)}, {DEPLOY: live})
    (obj,) = found.objects
    assert [(f.op, f.path, f.pointer) for f in obj.fields] == [
        ("remove", "metadata.labels.app", "/metadata/labels/app"),
        ("remove", "spec.template.spec.containers[name=sidecar]", "/spec/template/spec/containers/1"),
    ]


def test_a_deleted_object_is_missing() -> None:
    body = deployment()
    assert drift_of(body, None) == [("missing", "", None, None)]


def test_empty_values_in_the_manifest_equal_absent_live_fields() -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-cfg", "annotations": {}},
            "data": {"a": "1"}, "binaryData": None}
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-cfg", "namespace": "shop"},
            "data": {"a": "1", "extra": "added by someone: not set by the manifest"}}
    assert drift_of(body, live, CM) == []


def test_numbers_compare_as_numbers_but_not_as_strings_or_booleans() -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-cfg"}, "x": {"a": 2, "b": "1",
                                                                                            "c": True}}
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-cfg"}, "x": {"a": 2.0, "b": 1,
                                                                                            "c": 1}}
    assert drift_of(body, live, CM) == [("modified", "x.b", "1", 1), ("modified", "x.c", True, 1)]


def test_ignore_rules_match_kind_group_name_namespace_release_and_pointer_prefixes() -> None:
    body = deployment()
    live = live_of(body)
    live["spec"]["replicas"] = 5
    live["spec"]["template"]["spec"]["containers"][1]["image"] = "nginx:2"  # containers are reversed: web
    rules = parse_rules([{"kind": "Deployment", "group": "apps", "jsonPointers": ["/spec/replicas"]}])
    assert [p for _, p, _, _ in drift_of(body, live, rules=rules)] == ["spec.template.spec.containers[name=web].image"]
    by_prefix = [IgnoreRule("Deployment", ("/spec/template/spec/containers/0",))]  # index in the manifest
    assert [p for _, p, _, _ in drift_of(body, live, rules=by_prefix)] == ["spec.replicas"]
    for other in (IgnoreRule("Deployment", ("/spec",), group="extensions"), IgnoreRule("StatefulSet", ("/spec",)),
                  IgnoreRule("Deployment", ("/spec",), name="api"), IgnoreRule("Deployment", ("/spec",), namespace="x"),
                  IgnoreRule("Deployment", ("/spec",), release="api")):
        assert len(drift_of(body, live, rules=[other])) == 2, other
    mine = IgnoreRule.from_mapping({"kind": "Deployment", "jsonPointers": ["/spec"]}, release="web")
    assert drift_of(body, live, rules=[mine]) == []
    result = live_drift("web", "shop", {DEPLOY: ("apps/v1", body)}, {DEPLOY: live}, rules=[mine])
    assert result.ignored == 2 and not result.drifted


def test_pointer_escapes_slashes_in_keys() -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-cfg",
                                                                  "annotations": {"example.com/owner": "a"}}}
    live = copy.deepcopy(body)
    live["metadata"]["annotations"]["example.com/owner"] = "b"
    result = live_drift("web", "shop", {CM: ("v1", body)}, {CM: live})
    (field,) = result.objects[0].fields
    assert field.path == 'metadata.annotations["example.com/owner"]'
    assert field.pointer == "/metadata/annotations/example.com~1owner"
    rule = IgnoreRule("ConfigMap", ("/metadata/annotations/example.com~1owner",))
    assert live_drift("web", "shop", {CM: ("v1", body)}, {CM: live}, rules=[rule]).objects == []


def test_secret_values_are_compared_as_masks_and_string_data_equals_data() -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-db"},
            "stringData": {"password": "hunter2-canary"}}
    same = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-db", "namespace": "shop"},
            "data": {"password": base64.b64encode(b"hunter2-canary").decode()}, "type": "Opaque"}
    assert drift_of(body, same, SECRET) == []
    changed = copy.deepcopy(same)
    changed["data"]["password"] = base64.b64encode(b"by-hand-canary").decode()
    ((state, path, expected, live),) = drift_of(body, changed, SECRET)
    assert (state, path) == ("modified", "data.password")
    assert expected.startswith("<secret hmac:") and live.startswith("<secret hmac:") and expected != live
    assert "canary" not in repr(drift_of(body, changed, SECRET))


def test_resolved_secret_values_are_masked_in_any_object() -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "s3cret-value"
    live = live_of(body)
    next(c for c in live["spec"]["template"]["spec"]["containers"] if c["name"] == "web")["env"][0]["value"] = "x"
    result = live_drift("web", "shop", {DEPLOY: ("apps/v1", body)}, {DEPLOY: live}, secret_values=["s3cret-value"])
    assert "s3cret-value" not in repr(result)
    assert result.objects[0].fields[0].expected.startswith("<secret hmac:")


def test_an_object_taken_over_by_another_release_is_drift() -> None:
    body = deployment()
    live = live_of(body)
    live["metadata"]["annotations"]["meta.helm.sh/release-name"] = "other"
    (obj,) = live_drift("web", "shop", {DEPLOY: ("apps/v1", body)}, {DEPLOY: live}).objects
    assert obj.fields == () and obj.owner_note == "the live object belongs to release shop/other"
    assert obj.describe() == "apps/v1/Deployment shop/web: the live object belongs to release shop/other"


def workload(kind: str, generation: int = 2, observed: int = 2, **status: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "w", "generation": generation},
            "spec": {"replicas": 3}, "status": {"observedGeneration": observed, **status}}


def test_workload_health_from_controller_status() -> None:
    assert workload_problem(workload("Deployment", availableReplicas=3)) is None
    assert workload_problem(workload("Deployment", availableReplicas=1)) == "1/3 replicas available"
    assert workload_problem(workload("Deployment")) == "0/3 replicas available"
    assert workload_problem(workload("Deployment", observed=1, availableReplicas=1)) is None  # rolling out
    assert workload_problem(workload("StatefulSet", readyReplicas=2)) == "2/3 replicas ready"
    assert workload_problem(workload("DaemonSet", desiredNumberScheduled=4, numberAvailable=4)) is None
    assert workload_problem(workload("DaemonSet", desiredNumberScheduled=4, numberAvailable=3)) == "3/4 pods available"
    assert workload_problem({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}) is None
    scaled_to_zero = workload("Deployment")
    scaled_to_zero["spec"]["replicas"] = 0
    assert workload_problem(scaled_to_zero) is None


def test_unhealthy_workloads_are_listed_apart_from_drift() -> None:
    body = deployment()
    live = live_of(body)
    live["metadata"]["generation"] = 3
    live["status"] = {"observedGeneration": 3, "availableReplicas": 1}
    result = live_drift("web", "shop", {DEPLOY: ("apps/v1", body)}, {DEPLOY: live})
    assert result.objects == []
    assert [(u.key, u.problem) for u in result.unhealthy] == [(DEPLOY, "1/2 replicas available")]


def test_resource_quantities_compare_by_value_as_the_server_canonicalizes_them() -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": 0.5, "memory": "1Gi"}, "limits": {"cpu": 1, "memory": "1.5G", "nvidia.com/gpu": 1}}
    live = live_of(body)
    web = next(c for c in live["spec"]["template"]["spec"]["containers"] if c["name"] == "web")
    web["resources"] = {"requests": {"cpu": "500m", "memory": "1073741824"},
                        "limits": {"cpu": "1", "memory": "1500M", "nvidia.com/gpu": "1"}}
    assert drift_of(body, live) == []
    web["resources"]["limits"]["cpu"] = "2"
    web["resources"]["requests"]["memory"] = "1Mi"
    assert [p for _, p, _, _ in drift_of(body, live)] == [
        "spec.template.spec.containers[name=web].resources.limits.cpu",
        "spec.template.spec.containers[name=web].resources.requests.memory"]


def test_quantities_only_where_kubernetes_keeps_quantities() -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-cfg"}, "data": {"size": "1Gi"}}
    live = copy.deepcopy(body)
    live["data"]["size"] = "1073741824"
    assert drift_of(body, live, CM) == [("modified", "data.size", "1Gi", "1073741824")]


def test_null_in_the_manifest_sets_nothing() -> None:
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"clusterIP": None, "ports": [{"port": 80}]}}
    live = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"clusterIP": "10.96.0.12", "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]}}
    assert drift_of(body, live, ObjectKey("", "Service", "shop", "web")) == []
