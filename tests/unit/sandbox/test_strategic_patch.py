"""Strategic merge patch, checked with the patches real helm 3 sends on upgrade."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helmkit.sandbox.patching import PatchError, strategic_merge_patch, supports_strategic

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def contains_directive(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(k).startswith("$") or contains_directive(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_directive(item) for item in value)
    return False


def deployment_patch(patch: dict[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
    return strategic_merge_patch(doc or load("helm3-deployment-create.json"), patch, api_version="apps/v1",
                                 kind="Deployment")


def test_helm3_upgrade_patch_changes_one_container_and_keeps_the_rest() -> None:
    result = deployment_patch(load("helm3-patch-image-env.json"))

    app, sidecar = containers(result)
    assert app["image"] == "app:2"
    assert app["env"] == [{"name": "FOO", "value": "2"}, {"name": "BAR", "value": "bar"},
                          {"name": "BAZ", "value": "baz"}]
    assert app["ports"] == [{"containerPort": 8080}, {"containerPort": 9090, "name": "metrics"}]
    assert sidecar == {"name": "sidecar", "image": "side:1", "ports": [{"containerPort": 7070}],
                       "env": [{"name": "SIDE", "value": "s"}]}
    assert result["spec"]["replicas"] == 1
    assert not contains_directive(result)


def test_helm3_patch_delete_directive_removes_one_env_entry() -> None:
    upgraded = deployment_patch(load("helm3-patch-image-env.json"))
    result = deployment_patch(load("helm3-patch-delete-env.json"), upgraded)

    app, sidecar = containers(result)
    assert app["env"] == [{"name": "FOO", "value": "2"}, {"name": "BAZ", "value": "baz"}]
    assert app["image"] == "app:2"
    assert sidecar["env"] == [{"name": "SIDE", "value": "s"}]
    assert not contains_directive(result)


def test_inputs_are_not_modified() -> None:
    doc = load("helm3-deployment-create.json")
    patch = load("helm3-patch-image-env.json")
    before = json.dumps([doc, patch])
    deployment_patch(patch, doc)
    assert json.dumps([doc, patch]) == before


def test_set_element_order_reorders_and_new_items_follow_the_order() -> None:
    doc = {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}}
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}],
        "containers": [{"name": "c", "image": "c:1"}]}}}}
    result = deployment_patch(patch, doc)
    assert [c["name"] for c in containers(result)] == ["c", "b", "a"]
    assert not contains_directive(result)


def test_container_ports_merge_by_container_port() -> None:
    doc = {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]}]}}}}
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "ports": [{"containerPort": 443, "name": "https"}]}]}}}}
    result = deployment_patch(patch, doc)
    assert containers(result)[0]["ports"] == [{"containerPort": 80, "name": "http"},
                                              {"containerPort": 443, "name": "https"}]


@pytest.mark.parametrize(
    ("kind", "api_version", "prefix"),
    [
        ("Pod", "v1", ("spec",)),
        ("StatefulSet", "apps/v1", ("spec", "template", "spec")),
        ("DaemonSet", "apps/v1", ("spec", "template", "spec")),
        ("ReplicaSet", "apps/v1", ("spec", "template", "spec")),
        ("Job", "batch/v1", ("spec", "template", "spec")),
        ("CronJob", "batch/v1", ("spec", "jobTemplate", "spec", "template", "spec")),
    ],
)
def test_every_pod_template_path_merges_containers_volumes_and_mounts(
    kind: str, api_version: str, prefix: tuple[str, ...]
) -> None:
    def nest(value: dict[str, Any]) -> dict[str, Any]:
        for key in reversed(prefix):
            value = {key: value}
        return value

    doc = nest({
        "containers": [{"name": "a", "image": "a:1", "volumeMounts": [{"mountPath": "/x", "name": "v1"}]},
                       {"name": "b", "image": "b:1"}],
        "initContainers": [{"name": "init", "image": "i:1"}],
        "volumes": [{"name": "v1", "emptyDir": {}}],
        "imagePullSecrets": [{"name": "reg"}],
        "tolerations": [{"key": "old"}],
    })
    patch = nest({
        "containers": [{"name": "a", "volumeMounts": [{"mountPath": "/y", "name": "v2"}]}],
        "initContainers": [{"name": "init2", "image": "i:2"}],
        "volumes": [{"name": "v2", "configMap": {"name": "cm"}}],
        "imagePullSecrets": [{"name": "reg2"}],
        "tolerations": [{"key": "new"}],
    })
    result = strategic_merge_patch(doc, patch, api_version=api_version, kind=kind)
    spec = result
    for key in prefix:
        spec = spec[key]
    assert [c["name"] for c in spec["containers"]] == ["a", "b"]
    assert spec["containers"][0]["image"] == "a:1"
    assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/x", "/y"]
    assert [c["name"] for c in spec["initContainers"]] == ["init", "init2"]
    assert [v["name"] for v in spec["volumes"]] == ["v1", "v2"]
    assert spec["imagePullSecrets"] == [{"name": "reg"}, {"name": "reg2"}]
    assert spec["tolerations"] == [{"key": "new"}]  # no merge key: replaced


def test_service_ports_merge_by_port() -> None:
    doc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}}
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}
    result = strategic_merge_patch(doc, patch, api_version="v1", kind="Service")
    assert result["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443, "targetPort": 8443}]


def test_finalizers_merge_as_a_set_and_delete_from_primitive_list() -> None:
    doc = {"metadata": {"name": "x", "finalizers": ["a", "b"]}, "data": {"k": "v"}}
    merged = strategic_merge_patch(doc, {"metadata": {"finalizers": ["b", "c"]}}, api_version="v1", kind="ConfigMap")
    assert merged["metadata"]["finalizers"] == ["a", "b", "c"]
    removed = strategic_merge_patch(merged, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
                                    api_version="v1", kind="ConfigMap")
    assert removed["metadata"]["finalizers"] == ["b", "c"]
    assert not contains_directive(removed)


def test_owner_references_merge_by_uid_and_conditions_by_type() -> None:
    doc = {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]},
           "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Other", "status": "True"}]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    result = strategic_merge_patch(doc, patch, api_version="apps/v1", kind="Deployment")
    assert [r["uid"] for r in result["metadata"]["ownerReferences"]] == ["1", "2"]
    assert result["status"]["conditions"] == [{"type": "Ready", "status": "True"}, {"type": "Other", "status": "True"}]


def test_patch_replace_directive_on_a_list_and_on_a_map() -> None:
    doc = {"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}],
                                          "nodeSelector": {"x": "1", "y": "2"}}}}}
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "c:1"}, {"$patch": "replace"}],
        "nodeSelector": {"$patch": "replace", "z": "3"}}}}}
    spec = deployment_patch(patch, doc)["spec"]["template"]["spec"]
    assert spec["containers"] == [{"name": "c", "image": "c:1"}]
    assert spec["nodeSelector"] == {"z": "3"}


def test_patch_delete_directive_on_a_map_and_null_deletes_a_key() -> None:
    doc = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, "replicas": 3,
                    "paused": True}}
    result = deployment_patch({"spec": {"strategy": {"$patch": "delete"}, "paused": None}}, doc)
    assert result == {"spec": {"replicas": 3}}


def test_retain_keys_clears_the_other_keys() -> None:
    doc = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert deployment_patch(patch, doc)["spec"]["strategy"] == {"type": "Recreate"}


def test_new_subtree_is_stored_without_directives() -> None:
    doc: dict[str, Any] = {"spec": {}}
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "a"}],
                                            "containers": [{"name": "a", "env": [{"name": "X", "value": "1"}],
                                                            "$setElementOrder/env": [{"name": "X"}]}]}}}}
    result = deployment_patch(patch, doc)
    assert containers(result) == [{"name": "a", "env": [{"name": "X", "value": "1"}]}]


def test_merge_key_missing_is_an_error() -> None:
    doc = {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
    with pytest.raises(PatchError) as caught:
        deployment_patch({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, doc)
    assert caught.value.status == 422
    assert "merge key" in caught.value.message


def test_custom_resources_get_json_merge_patch_semantics() -> None:
    assert not supports_strategic("example.com/v1", "Widget")
    assert supports_strategic("apps/v1", "Deployment")
    doc = {"spec": {"items": [{"name": "a"}, {"name": "b"}], "keep": 1, "drop": 2}}
    result = strategic_merge_patch(doc, {"spec": {"items": [{"name": "c"}], "drop": None}},
                                   api_version="example.com/v1", kind="Widget")
    assert result == {"spec": {"items": [{"name": "c"}], "keep": 1}}


def test_unknown_directive_is_rejected() -> None:
    with pytest.raises(PatchError):
        deployment_patch({"spec": {"$patch": "explode"}}, {"spec": {}})


@pytest.mark.parametrize("kind", ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"])
def test_webhooks_merge_by_name_so_a_partial_entry_keeps_the_rest(kind: str) -> None:
    live = {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": "admission"},
        "webhooks": [
            {"name": "validate.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
             "clientConfig": {"service": {"name": "controller-admission", "namespace": "ingress", "path": "/x"}}},
            {"name": "other.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
             "clientConfig": {"url": "https://other.example.com"}},
        ],
    }
    # what helm 3's three-way merge sends when only the timeout of one webhook changed
    patch = {"webhooks": [{"name": "validate.example.com", "timeoutSeconds": 10}]}
    result = strategic_merge_patch(live, patch, api_version="admissionregistration.k8s.io/v1", kind=kind)
    by_name = {w["name"]: w for w in result["webhooks"]}
    assert set(by_name) == {"validate.example.com", "other.example.com"}
    assert by_name["validate.example.com"]["timeoutSeconds"] == 10
    assert by_name["validate.example.com"]["clientConfig"]["service"]["name"] == "controller-admission"
    assert by_name["other.example.com"]["clientConfig"] == {"url": "https://other.example.com"}
