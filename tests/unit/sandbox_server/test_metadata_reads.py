"""Metadata-only reads (``as=PartialObjectMetadata[List]``) and the content negotiation of reads."""

from __future__ import annotations

import pytest

from helmkit.sandbox.negotiate import Target, negotiate
from helmkit.sandbox.status import ApiError
from tests.unit.sandbox_server.conftest import Api, configmap

CMS = "/api/v1/namespaces/default/configmaps"
AS_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
AS_ONE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def fill(api: Api) -> None:
    for i in range(5):
        labels = {"parity": "even" if i % 2 == 0 else "odd", "owner": "helm"}
        assert api.post(CMS, configmap(f"cm{i}", labels=labels, data={"big": "x" * 1000})).status == 201


def test_list_metadata_pages_and_selects_like_a_full_list(api: Api) -> None:
    fill(api)
    full = api.get(CMS).json()
    first = api.get(CMS + "?limit=2", accept=AS_LIST).json()
    assert (first["kind"], first["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert first["metadata"]["resourceVersion"] == full["metadata"]["resourceVersion"]
    assert [o["metadata"] for o in first["items"]] == [o["metadata"] for o in full["items"][:2]]
    assert {(o["kind"], o["apiVersion"]) for o in first["items"]} == {("PartialObjectMetadata", "meta.k8s.io/v1")}
    assert all(set(o) == {"kind", "apiVersion", "metadata"} for o in first["items"])
    rest = api.get(f"{CMS}?limit=10&continue={first['metadata']['continue']}", accept=AS_LIST).json()
    assert [o["metadata"]["name"] for o in rest["items"]] == ["cm2", "cm3", "cm4"]
    assert "continue" not in rest["metadata"]
    even = api.get(CMS + "?labelSelector=parity%3Deven", accept=AS_LIST).json()["items"]
    assert [o["metadata"]["name"] for o in even] == ["cm0", "cm2", "cm4"]
    named = api.get("/api/v1/configmaps?fieldSelector=metadata.name%3Dcm3", accept=AS_LIST).json()["items"]
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in named] == [("default", "cm3")]
    beta = api.get(CMS, accept=AS_LIST.replace("v=v1", "v=v1beta1")).json()
    assert (beta["apiVersion"], beta["items"][0]["apiVersion"]) == ("meta.k8s.io/v1beta1", "meta.k8s.io/v1beta1")


def test_get_metadata_of_one_object(api: Api) -> None:
    fill(api)
    live = api.get(CMS + "/cm1").json()
    partial = api.get(CMS + "/cm1", accept=AS_ONE).json()
    assert partial == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": live["metadata"]}
    missing = api.get(CMS + "/nope", accept=AS_ONE)
    assert (missing.status, missing.json()["reason"]) == (404, "NotFound")


def test_negotiation_takes_the_first_acceptable_type(api: Api) -> None:
    fill(api)
    # client-go's metadata client: protobuf first (the sandbox writes JSON only), then JSON, then plain JSON
    metadata_client = f"application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1," \
                      f"{AS_LIST},application/json"
    assert api.get(CMS, accept=metadata_client).json()["kind"] == "PartialObjectMetadataList"
    # a kind or group-version the server cannot make is skipped: the plain alternative wins
    for unknown in ("application/json;as=Gadget;g=meta.k8s.io;v=v1", "application/json;as=PartialObjectMetadataList",
                    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v2"):
        reply = api.get(CMS, accept=f"{unknown},application/json")
        assert (reply.status, reply.json()["kind"]) == (200, "ConfigMapList")
        refused = api.get(CMS, accept=unknown)
        assert (refused.status, refused.json()["reason"]) == (406, "NotAcceptable")
        assert "only the following media types are accepted" in refused.json()["message"]
    # a higher q wins over the order given; a plain type first wins over a transformation after it
    assert api.get(CMS, accept=f"application/json;q=0.5,{AS_LIST}").json()["kind"] == "PartialObjectMetadataList"
    assert api.get(CMS, accept=f"application/json,{AS_LIST}").json()["kind"] == "ConfigMapList"
    assert api.get(CMS, accept="*/*;as=Table;g=meta.k8s.io;v=v1").json()["kind"] == "Table"
    assert api.get(CMS, accept="text/html").status == 406


def test_a_list_transformation_on_one_object_is_not_acceptable(api: Api) -> None:
    fill(api)
    one = api.get(CMS + "/cm1", accept=AS_LIST)
    assert (one.status, one.json()["reason"]) == (406, "NotAcceptable")
    assert "is not a list" in one.json()["message"]
    many = api.get(CMS, accept=AS_ONE)
    assert (many.status, many.json()["reason"]) == (406, "NotAcceptable")
    assert "is a list" in many.json()["message"]


@pytest.mark.parametrize(("accept", "expected"), [
    ("", Target()),
    ("application/json", Target()),
    ("application/vnd.kubernetes.protobuf, */*", Target()),
    ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", Target("Table", "v1")),
    ('application/json; as="PartialObjectMetadata"; g=meta.k8s.io; v=v1beta1', Target("PartialObjectMetadata",
                                                                                         "v1beta1")),
    ("*/*;q=0.1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1;q=0.2",
     Target("PartialObjectMetadataList", "v1")),
    ("application/json;as=Table;g=meta.k8s.io;v=v1;q=0,application/yaml", Target()),
])
def test_negotiate(accept: str, expected: Target) -> None:
    assert negotiate(accept) == expected


def test_negotiate_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ApiError) as info:
        negotiate("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
    assert info.value.code == 406
