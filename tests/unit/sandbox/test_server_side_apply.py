"""Server-side apply and managedFields, with the apply bodies real helm 4 sends."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from helmkit.sandbox.apply import (
    ApplyConflict,
    field_set,
    from_fields_v1,
    path_text,
    record_update,
    server_side_apply,
    to_fields_v1,
)
from helmkit.sandbox.patching import list_rules_for, merge_patch

FIXTURES = Path(__file__).parent / "fixtures"
T0 = "2026-01-01T00:00:00Z"
T1 = "2026-01-01T00:01:00Z"
T2 = "2026-01-01T00:02:00Z"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def config_map(data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "default"},
            "data": data}


def managers(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"]["managedFields"]}


def test_apply_creates_and_records_fields_v1() -> None:
    created = server_side_apply(None, config_map({"greeting": "hello"}), manager="helm", force=False, now=T0)
    assert created["data"] == {"greeting": "hello"}
    assert created["metadata"]["managedFields"] == [{
        "manager": "helm", "operation": "Apply", "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:greeting": {}}},
    }]


def test_conflict_with_kubectl_patch_then_force() -> None:
    live = server_side_apply(None, config_map({"greeting": "hello"}), manager="helm", force=False, now=T0)
    patched = record_update(live, merge_patch(live, {"data": {"greeting": "hi"}}), manager="kubectl-patch", now=T1)
    assert managers(patched) == {("kubectl-patch", "Update"): {"f:data": {"f:greeting": {}}}}

    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(patched, config_map({"greeting": "hello"}), manager="helm", force=False, now=T2)
    assert caught.value.conflicts == [("kubectl-patch", ".data.greeting")]
    assert str(caught.value) == 'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.greeting'

    forced = server_side_apply(patched, config_map({"greeting": "hello"}), manager="helm", force=True, now=T2)
    assert forced["data"] == {"greeting": "hello"}
    assert managers(forced) == {("helm", "Apply"): {"f:data": {"f:greeting": {}}}}


def test_reapplying_the_same_value_another_manager_set_is_no_conflict() -> None:
    live = server_side_apply(None, config_map({"greeting": "hello"}), manager="helm", force=False, now=T0)
    patched = record_update(live, merge_patch(live, {"data": {"greeting": "hi"}}), manager="kubectl-patch", now=T1)
    result = server_side_apply(patched, config_map({"greeting": "hi"}), manager="helm", force=False, now=T2)
    assert result["data"] == {"greeting": "hi"}
    assert set(managers(result)) == {("helm", "Apply"), ("kubectl-patch", "Update")}


def test_field_dropped_from_applied_config_disappears() -> None:
    live = server_side_apply(None, config_map({"a": "1", "b": "2"}), manager="helm", force=False, now=T0)
    result = server_side_apply(live, config_map({"a": "1"}), manager="helm", force=False, now=T1)
    assert result["data"] == {"a": "1"}
    assert managers(result) == {("helm", "Apply"): {"f:data": {"f:a": {}}}}


def test_dropped_field_still_owned_by_another_manager_stays() -> None:
    live = server_side_apply(None, config_map({"a": "1", "b": "2"}), manager="helm", force=False, now=T0)
    live = server_side_apply(live, config_map({"b": "2"}), manager="other", force=False, now=T1)
    result = server_side_apply(live, config_map({"a": "1"}), manager="helm", force=False, now=T2)
    assert result["data"] == {"a": "1", "b": "2"}


def test_fields_set_by_others_survive_an_apply() -> None:
    live = server_side_apply(None, config_map({"a": "1"}), manager="helm", force=False, now=T0)
    edited = record_update(live, merge_patch(live, {"data": {"extra": "x"}}), manager="kubectl-edit", now=T1)
    result = server_side_apply(edited, config_map({"a": "2"}), manager="helm", force=False, now=T2)
    assert result["data"] == {"a": "2", "extra": "x"}


def test_helm4_deployment_apply_then_upgrade() -> None:
    first = server_side_apply(None, load("helm4-apply-deployment-v1.json"), manager="helm", force=False, now=T0)
    fields = managers(first)[("helm", "Apply")]
    app = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert app["."] == {}
    assert app["f:image"] == {}
    assert set(app["f:env"]) == {'k:{"name":"FOO"}', 'k:{"name":"BAR"}', 'k:{"name":"BAZ"}'}
    assert set(app["f:ports"]) == {'k:{"containerPort":8080,"protocol":"TCP"}',
                                   'k:{"containerPort":9090,"protocol":"TCP"}'}
    assert fields["f:spec"]["f:selector"] == {"f:matchLabels": {"f:app": {}}}
    assert "f:name" not in fields["f:metadata"]

    # a controller scales the deployment and adds a status; a person adds an env var to the sidecar
    scaled = record_update(first, merge_patch(first, {"spec": {"replicas": 3}}), manager="kube-controller",
                           now=T1)
    edited = json.loads(json.dumps(scaled))
    edited["spec"]["template"]["spec"]["containers"][1]["env"].append({"name": "DEBUG", "value": "1"})
    edited = record_update(scaled, edited, manager="kubectl-edit", now=T1)

    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(edited, load("helm4-apply-deployment-v2.json"), manager="helm", force=False, now=T2)
    assert caught.value.conflicts == [("kube-controller", ".spec.replicas")]

    upgraded = server_side_apply(edited, load("helm4-apply-deployment-v2.json"), manager="helm", force=True, now=T2)
    app_spec, sidecar = upgraded["spec"]["template"]["spec"]["containers"]
    assert app_spec["image"] == "app:2"
    assert app_spec["env"] == [{"name": "FOO", "value": "2"}, {"name": "BAZ", "value": "baz"}]
    assert sidecar["env"] == [{"name": "SIDE", "value": "s"}, {"name": "DEBUG", "value": "1"}]
    assert upgraded["spec"]["replicas"] == 1
    assert ("kube-controller", "Update") not in managers(upgraded)


def test_record_update_on_create_owns_everything_with_map_markers() -> None:
    obj = config_map({"a": "1"})
    obj["metadata"]["labels"] = {"app": "web"}
    created = record_update(None, obj, manager="kubectl-client-side-apply", now=T0)
    assert created["metadata"]["managedFields"] == [{
        "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1", "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
    }]


def test_record_update_without_changes_keeps_entries() -> None:
    created = record_update(None, config_map({"a": "1"}), manager="helm", now=T0)
    again = record_update(created, created, manager="kubectl-patch", now=T1)
    assert again["metadata"]["managedFields"] == created["metadata"]["managedFields"]


def test_record_update_removed_fields_leave_every_set() -> None:
    created = record_update(None, config_map({"a": "1", "b": "2"}), manager="helm", now=T0)
    removed = record_update(created, merge_patch(created, {"data": {"b": None}}), manager="kubectl-patch", now=T1)
    assert managers(removed) == {("helm", "Update"): {"f:data": {".": {}, "f:a": {}}}}


def test_record_update_honours_managed_fields_the_client_rewrites() -> None:
    created = record_update(None, config_map({"a": "1"}), manager="helm", now=T0)
    rewritten = json.loads(json.dumps(created))
    rewritten["metadata"]["managedFields"][0]["operation"] = "Apply"
    result = record_update(created, rewritten, manager="helm", now=T1)
    assert result["metadata"]["managedFields"] == rewritten["metadata"]["managedFields"]

    cleared = json.loads(json.dumps(created))
    cleared["metadata"]["managedFields"] = []
    assert "managedFields" not in record_update(created, cleared, manager="helm", now=T1)["metadata"]


def test_fields_v1_round_trip_and_path_text() -> None:
    obj = load("helm4-apply-deployment-v1.json")
    obj["metadata"]["finalizers"] = ["example.com/cleanup"]
    paths = field_set(obj, list_rules_for("apps/v1", "Deployment"))
    assert from_fields_v1(to_fields_v1(paths)) == paths
    assert ("f:metadata", 'f:finalizers', 'v:"example.com/cleanup"') in paths
    image = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"app"}', "f:image")
    assert path_text(image) == '.spec.template.spec.containers[name="app"].image'
    assert path_text(("f:metadata", "f:finalizers", 'v:"x"')) == '.metadata.finalizers[="x"]'


def test_several_conflicts_are_listed_per_manager() -> None:
    live = server_side_apply(None, config_map({"a": "1", "b": "1"}), manager="one", force=False, now=T0)
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, config_map({"a": "2", "b": "2"}), manager="two", force=False, now=T1)
    assert str(caught.value) == ('Apply failed with 2 conflicts: conflicts with "one" using v1:\n'
                                 "- .data.a\n- .data.b")


def test_custom_resource_lists_are_atomic() -> None:
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
          "spec": {"items": [{"name": "a"}]}}
    live = server_side_apply(None, cr, manager="helm", force=False, now=T0)
    assert managers(live)[("helm", "Apply")] == {"f:spec": {"f:items": {}}}
    cr["spec"]["items"] = [{"name": "b"}]
    assert server_side_apply(live, cr, manager="helm", force=False, now=T1)["spec"]["items"] == [{"name": "b"}]


def test_record_update_leaves_the_object_it_was_given_alone() -> None:
    """It copies only what it writes (the top level and metadata), so the sent object is unchanged."""
    sent = config_map({"greeting": "hello"})
    before = copy.deepcopy(sent)
    created = record_update(None, sent, manager="kubectl-create", now=T0)
    assert managers(created) == {("kubectl-create", "Update"): {"f:data": {".": {}, "f:greeting": {}}}}
    assert sent == before and "managedFields" not in sent["metadata"]
    live = server_side_apply(None, config_map({"greeting": "hello"}), manager="helm", force=False, now=T0)
    live_before = copy.deepcopy(live)
    changed = merge_patch(live, {"data": {"greeting": "hi"}})
    changed_before = copy.deepcopy(changed)
    record_update(live, changed, manager="kubectl-patch", now=T1)
    assert live == live_before and changed == changed_before
