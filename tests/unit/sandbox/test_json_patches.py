"""RFC 7386 JSON merge patch and RFC 6902 JSON patch."""

from __future__ import annotations

from typing import Any

import pytest

from helmkit.sandbox.patching import PatchError, json_patch, merge_patch


@pytest.mark.parametrize(
    ("doc", "patch", "expected"),
    [
        # the examples of RFC 7386, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_rfc7386_examples(doc: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(doc, patch) == expected


def test_merge_patch_does_not_modify_its_inputs() -> None:
    doc = {"data": {"a": "1", "b": "2"}}
    merge_patch(doc, {"data": {"a": None}})
    assert doc == {"data": {"a": "1", "b": "2"}}


def test_json_patch_add_replace_remove() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "spec": {"items": [1, 2, 3]}}
    result = json_patch(doc, [
        {"op": "add", "path": "/metadata/labels/b", "value": "2"},
        {"op": "replace", "path": "/metadata/labels/a", "value": "one"},
        {"op": "remove", "path": "/spec/items/0"},
        {"op": "add", "path": "/spec/items/-", "value": 4},
        {"op": "add", "path": "/spec/items/1", "value": 9},
    ])
    assert result == {"metadata": {"labels": {"a": "one", "b": "2"}}, "spec": {"items": [2, 9, 3, 4]}}
    assert doc["spec"]["items"] == [1, 2, 3]


def test_json_patch_pointer_escapes() -> None:
    doc = {"metadata": {"annotations": {"meta.helm.sh/release-name": "web", "a~b": "x"}}}
    result = json_patch(doc, [
        {"op": "replace", "path": "/metadata/annotations/meta.helm.sh~1release-name", "value": "api"},
        {"op": "remove", "path": "/metadata/annotations/a~0b"},
    ])
    assert result == {"metadata": {"annotations": {"meta.helm.sh/release-name": "api"}}}


def test_json_patch_move_copy_test() -> None:
    doc = {"a": {"x": 1}, "b": {}}
    result = json_patch(doc, [
        {"op": "test", "path": "/a/x", "value": 1},
        {"op": "copy", "from": "/a/x", "path": "/b/y"},
        {"op": "move", "from": "/a", "path": "/c"},
    ])
    assert result == {"b": {"y": 1}, "c": {"x": 1}}


def test_json_patch_replaces_managed_fields_like_helm4_migration() -> None:
    doc = {"metadata": {"name": "x", "managedFields": [{"manager": "helm", "operation": "Update"}]}}
    entries = [{"manager": "helm", "operation": "Apply"}]
    result = json_patch(doc, [{"op": "replace", "path": "/metadata/managedFields", "value": entries}])
    assert result["metadata"]["managedFields"] == entries


@pytest.mark.parametrize(
    ("ops", "status"),
    [
        ([{"op": "test", "path": "/a", "value": 2}], 422),
        ([{"op": "remove", "path": "/missing"}], 422),
        ([{"op": "replace", "path": "/missing/x", "value": 1}], 422),
        ([{"op": "add", "path": "/list/5", "value": 1}], 422),
        ([{"op": "add", "path": "/list/01", "value": 1}], 422),
        ([{"op": "move", "from": "/obj", "path": "/obj/child"}], 422),
        ([{"op": "frobnicate", "path": "/a"}], 400),
        ([{"path": "/a"}], 400),
        ([{"op": "add", "path": "a", "value": 1}], 400),
        ([{"op": "add", "path": "/a"}], 400),
    ],
)
def test_json_patch_errors(ops: list[dict[str, Any]], status: int) -> None:
    with pytest.raises(PatchError) as caught:
        json_patch({"a": 1, "list": [0], "obj": {}}, ops)
    assert caught.value.status == status


def test_json_patch_must_be_a_list() -> None:
    with pytest.raises(PatchError) as caught:
        json_patch({}, {"op": "add"})  # type: ignore[arg-type]
    assert caught.value.status == 400
