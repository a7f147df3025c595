"""The Kubernetes protobuf wire format, checked against bodies real helm v4.1.4 sent."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from helmkit.sandbox import protobuf

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def release_of(stored: str) -> dict[str, Any]:
    """Helm's release payload: base64 text of gzipped JSON."""
    result: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(stored)))
    return result


# hand-written wire helpers, independent of the module under test


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number: int, payload: bytes | int | str) -> bytes:
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def unknown(api_version: str, kind: str, raw: bytes) -> bytes:
    return b"k8s\x00" + field(1, field(1, api_version) + field(2, kind)) + field(2, raw) + field(3, "") + field(4, "")


def test_decodes_the_release_secret_helm4_posts() -> None:
    secret = protobuf.decode(fixture("helm4-release-secret-post.pb"))
    assert secret["apiVersion"] == "v1"
    assert secret["kind"] == "Secret"
    assert secret["type"] == "helm.sh/release.v1"
    assert secret["metadata"]["name"] == "sh.helm.release.v1.demo.v1"
    assert secret["metadata"]["labels"] == {"createdAt": "1795702530", "name": "demo", "owner": "helm",
                                            "status": "pending-install", "version": "1"}
    assert set(secret["metadata"]) == {"name", "labels"}
    assert set(secret["data"]) == {"release"}
    release = release_of(base64.b64decode(secret["data"]["release"]).decode())
    assert release["name"] == "demo"
    assert release["config"] == {"greeting": "hi"}


def test_decodes_the_release_secret_helm4_puts() -> None:
    secret = protobuf.decode(fixture("helm4-release-secret-put.pb"))
    assert secret["metadata"]["labels"]["status"] == "uninstalling"
    assert release_of(base64.b64decode(secret["data"]["release"]).decode())["info"]["status"] == "uninstalling"


def test_decodes_the_release_config_map_of_the_configmap_driver() -> None:
    config_map = protobuf.decode(fixture("helm4-release-configmap-post.pb"))
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["labels"]["name"] == "demo2"
    assert release_of(config_map["data"]["release"])["name"] == "demo2"
    assert "type" not in config_map


def test_decodes_the_empty_delete_options_helm4_sends_for_release_secrets() -> None:
    assert protobuf.decode(fixture("helm4-delete-options.pb")) == {"apiVersion": "v1", "kind": "DeleteOptions"}


def test_decodes_delete_options_with_every_field() -> None:
    raw = (field(1, 30) + field(2, field(1, "uid-1") + field(2, "42")) + field(3, 0)
           + field(4, "Foreground") + field(5, "All"))
    assert protobuf.decode(unknown("meta.k8s.io/v1", "DeleteOptions", raw)) == {
        "apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions", "gracePeriodSeconds": 30,
        "preconditions": {"uid": "uid-1", "resourceVersion": "42"}, "orphanDependents": False,
        "propagationPolicy": "Foreground", "dryRun": ["All"],
    }


def test_decodes_status() -> None:
    details = field(1, "web") + field(3, "secrets") + field(4, field(1, "FieldValueInvalid") + field(3, "data"))
    raw = field(1, field(2, "7")) + field(2, "Failure") + field(3, "not found") + field(4, "NotFound")
    raw += field(5, details) + field(6, 404)
    assert protobuf.decode(unknown("v1", "Status", raw)) == {
        "apiVersion": "v1", "kind": "Status", "metadata": {"resourceVersion": "7"}, "status": "Failure",
        "message": "not found", "reason": "NotFound", "code": 404,
        "details": {"name": "web", "kind": "secrets", "causes": [{"reason": "FieldValueInvalid", "field": "data"}]},
    }


def test_decodes_object_meta_fields() -> None:
    time = field(1, 1767225600) + field(2, 0)
    owner = field(1, "Deployment") + field(3, "web") + field(4, "u-1") + field(5, "apps/v1") + field(6, 1)
    managed = field(1, "helm") + field(2, "Update") + field(3, "v1") + field(4, time) + field(6, "FieldsV1")
    managed += field(7, field(1, '{"f:data":{"f:a":{}}}'))
    meta = (field(1, "cm") + field(2, "") + field(3, "ns") + field(5, "u-2") + field(6, "12") + field(7, 3)
            + field(8, time) + field(11, field(1, "app") + field(2, "web")) + field(12, field(1, "note") + field(2, ""))
            + field(13, owner) + field(14, "a/b") + field(17, managed) + field(99, "ignored"))
    decoded = protobuf.decode(unknown("v1", "ConfigMap", field(1, meta) + field(2, field(1, "a") + field(2, "1"))))
    assert decoded["metadata"] == {
        "name": "cm", "namespace": "ns", "uid": "u-2", "resourceVersion": "12", "generation": 3,
        "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": "web"}, "annotations": {"note": ""},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u-1",
                             "controller": True}],
        "finalizers": ["a/b"],
        "managedFields": [{"manager": "helm", "operation": "Update", "apiVersion": "v1",
                           "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:data": {"f:a": {}}}}],
    }
    assert decoded["data"] == {"a": "1"}


SECRET = {
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "s", "namespace": "default", "uid": "u", "resourceVersion": "3", "generation": 1,
                 "creationTimestamp": "2026-01-01T10:00:00Z", "labels": {"b": "2", "a": "1"},
                 "annotations": {"x": "y"}, "finalizers": ["f"],
                 "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "pu",
                                      "blockOwnerDeletion": False}],
                 "managedFields": [{"manager": "m", "operation": "Apply", "apiVersion": "v1",
                                    "time": "2026-01-01T10:00:00Z", "fieldsType": "FieldsV1",
                                    "fieldsV1": {"f:data": {"f:k": {}}}}]},
    "data": {"k": base64.b64encode(b"\x00\xffbinary").decode(), "empty": ""},
    "stringData": {"plain": "text"},
    "type": "Opaque",
    "immutable": True,
}
CONFIG_MAP = {
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
    "data": {"greeting": "héllo", "multi": "a\nb"}, "binaryData": {"bin": base64.b64encode(b"\x01\x02").decode()},
    "immutable": False,
}


@pytest.mark.parametrize("obj", [SECRET, CONFIG_MAP], ids=["secret", "configmap"])
def test_encode_decode_round_trip(obj: dict[str, Any]) -> None:
    body = protobuf.encode(obj)
    assert body.startswith(b"k8s\x00")
    assert protobuf.decode(body) == obj


def test_encoding_matches_what_helm_sends() -> None:
    body = fixture("helm4-release-secret-post.pb")
    decoded = protobuf.decode(body)
    again = protobuf.decode(protobuf.encode(decoded))
    assert again == decoded


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "magic"),
        (unknown("apps/v1", "ControllerRevision", b""), "not supported"),
        (b"k8s\x00\x0a\x05\x0a", "truncated"),
        (b"k8s\x00\x0b", "wire type"),
    ],
)
def test_bad_bodies_raise_value_error(body: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        protobuf.decode(body)


def test_encode_refuses_other_kinds() -> None:
    with pytest.raises(ValueError, match="cannot encode"):
        protobuf.encode({"apiVersion": "apps/v1", "kind": "Deployment"})


def test_namespace_body_as_kubectl_create_namespace_sends_it() -> None:
    from helmkit.sandbox.protowire import field_bytes, field_str

    meta = field_str(1, "team-a") + field_bytes(11, field_str(1, "team") + field_str(2, "a"))
    raw = field_bytes(1, meta) + field_bytes(2, field_str(1, "kubernetes"))
    unknown = field_bytes(1, field_str(1, "v1") + field_str(2, "Namespace")) + field_bytes(2, raw)
    decoded = protobuf.decode(b"k8s\x00" + unknown)
    assert decoded == {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "team-a", "labels": {"team": "a"}},
        "spec": {"finalizers": ["kubernetes"]},
    }
