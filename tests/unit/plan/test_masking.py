"""Secret masking in objects: values hidden, changes still visible."""

from __future__ import annotations

import base64
import json
from typing import Any

from helmkit.adapters.masking import MaskKey
from helmkit.plan.masking import LAST_APPLIED, mask_object, mask_objects

CANARY = "canary-s3cret-value-42"
KEY = MaskKey.from_text("unit-test-key", "test")
digest_mask = KEY.digest


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, **fields}


def test_data_and_string_data_masked_by_value_and_folded() -> None:
    obj = secret(data={"a": base64.b64encode(CANARY.encode()).decode()}, stringData={"b": CANARY, "c": "other"})
    masked = mask_object(obj, digest=digest_mask)
    assert CANARY not in json.dumps(masked)
    assert masked["data"] == {"a": digest_mask(CANARY), "b": digest_mask(CANARY), "c": digest_mask("other")}
    assert "stringData" not in masked
    assert obj["stringData"]["b"] == CANARY  # the input is not changed


def test_same_value_in_either_field_gives_same_mask_and_change_shows() -> None:
    as_data = mask_object(secret(data={"k": base64.b64encode(CANARY.encode()).decode()}), digest=digest_mask)
    as_string = mask_object(secret(stringData={"k": CANARY}), digest=digest_mask)
    changed = mask_object(secret(stringData={"k": CANARY + "!"}), digest=digest_mask)
    assert as_data == as_string
    assert changed != as_string


def test_last_applied_annotation_of_secrets_masked_only() -> None:
    annotation = json.dumps({"data": {"k": CANARY}})
    annotated = secret(metadata={"name": "db", "annotations": {LAST_APPLIED: annotation, "x": "y"}})
    masked = mask_object(annotated, digest=digest_mask)
    assert masked["metadata"]["annotations"] == {LAST_APPLIED: digest_mask(annotation), "x": "y"}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"annotations": {LAST_APPLIED: "{}"}}}
    assert mask_object(cm, digest=digest_mask) == cm


def test_known_secret_values_masked_in_any_object() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
          "data": {"url": f"postgres://app:{CANARY}@db/app", CANARY: "as key", "n": 3}}
    masked = mask_objects({"k": cm}, [CANARY, ""], digest=digest_mask)["k"]
    text = json.dumps(masked)
    assert CANARY not in text
    assert masked["data"]["url"] == f"postgres://app:{digest_mask(CANARY)}@db/app"
    assert masked["data"]["n"] == 3


def test_non_v1_secret_kinds_untouched() -> None:
    other = {"apiVersion": "example.com/v1", "kind": "Secret", "data": {"a": "b"}}
    assert mask_object(other, digest=digest_mask) == other


def test_escaped_and_encoded_forms_of_a_secret_value_are_masked_in_any_object() -> None:
    value = 'CANARY"q\\x-9\'%é'
    config = json.dumps({"password": value}) + " " + base64.b64encode(value.encode()).decode()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"config.json": config}}
    masked = json.dumps(mask_object(cm, [value], digest=digest_mask))
    assert "CANARY" not in masked and base64.b64encode(value.encode()).decode() not in masked
    assert masked.count(digest_mask(value)) == 2
