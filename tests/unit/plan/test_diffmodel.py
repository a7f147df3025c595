"""The diff model: typed changes, keyed lists, masking, and the text formats (golden files).

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/plan``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from helmkit.adapters.masking import MaskKey
from helmkit.plan.diffmodel import (
    FieldChange,
    ObjectChange,
    diff_fields,
    diff_objects,
    format_path,
    normalized_yaml,
    render_fields,
    render_summary,
    render_unified,
    to_json,
)
from helmkit.plan.manifests import ObjectKey, parse_manifest

CANARY = "canary-s3cret-value-42"

DEPLOYED = f"""\
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: web:1.0
        args: [--port, "8080"]
        env:
        - {{name: LEVEL, value: info}}
        - {{name: DEBUG, value: "1"}}
        ports: [{{containerPort: 8080}}]
      - name: sidecar
        image: proxy:2
---
apiVersion: v1
kind: Secret
metadata: {{name: db}}
data:
  password: {base64.b64encode(CANARY.encode()).decode()}
---
apiVersion: v1
kind: Service
metadata: {{name: web-old}}
spec:
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: same}}
data: {{a: "1", b: "2"}}
"""

DESIRED = f"""\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: same
data:
  b: "2"
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
    app.kubernetes.io/part-of: shop
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: sidecar
        image: proxy:2
      - name: web
        image: web:1.1
        args: ["--port", "8080", "--verbose"]
        env:
        - {{name: LEVEL, value: debug}}
        ports: [{{containerPort: 8080}}]
---
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData:
  password: {CANARY}-rotated
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: web-extra}}
data: {{x: "y"}}
"""


def changes() -> list[ObjectChange]:
    desired = parse_manifest(DESIRED, "prod").bodies()
    deployed = parse_manifest(DEPLOYED, "prod").bodies()
    return diff_objects(desired, deployed, digest=MaskKey.from_text("unit-test-key", "test").digest)


def test_typed_changes() -> None:
    result = changes()
    assert [(str(c.key), c.op) for c in result] == [
        ("ConfigMap prod/web-extra", "add"),
        ("Secret prod/db", "change"),
        ("Service prod/web-old", "remove"),
        ("apps/Deployment prod/web", "change"),
    ]
    deployment = result[-1]
    containers = "spec.template.spec.containers[name=web]"
    assert deployment.items == (
        FieldChange("add", 'metadata.labels["app.kubernetes.io/part-of"]', None, "shop"),
        FieldChange("change", "spec.replicas", 1, 3),
        FieldChange("add", f"{containers}.args[2]", None, "--verbose"),
        FieldChange("remove", f"{containers}.env[name=DEBUG]", {"name": "DEBUG", "value": "1"}, None),
        FieldChange("change", f"{containers}.env[name=LEVEL].value", "info", "debug"),
        FieldChange("change", f"{containers}.image", "web:1.0", "web:1.1"),
    )


def test_order_and_formatting_never_a_change() -> None:
    a = parse_manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: '1', b: \"2\"}\n", "n")
    b = parse_manifest("kind: ConfigMap\ndata:\n  b: '2'\n  a: \"1\"\nmetadata:\n  name: x\napiVersion: v1\n", "n")
    assert diff_objects(a.bodies(), b.bodies()) == []
    pod_a = {"spec": {"containers": [{"name": "a"}, {"name": "b"}], "volumes": [{"name": "v1"}, {"name": "v2"}]}}
    pod_b = {"spec": {"containers": [{"name": "b"}, {"name": "a"}], "volumes": [{"name": "v2"}, {"name": "v1"}]}}
    assert diff_fields(pod_a, pod_b) == []
    assert normalized_yaml(pod_a) == normalized_yaml(pod_b)


def test_positional_lists_and_fallback_keys() -> None:
    # args order matters; tolerations have no merge key; ports without names use containerPort
    assert diff_fields({"args": ["a", "b"]}, {"args": ["b", "a"]}) != []
    old = {"ports": [{"containerPort": 80}, {"containerPort": 443, "protocol": "TCP"}]}
    new = {"ports": [{"containerPort": 443, "protocol": "UDP"}, {"containerPort": 80}]}
    assert diff_fields(old, new) == [FieldChange("change", "ports[containerPort=443].protocol", "TCP", "UDP")]
    # duplicate names: compared by position
    dup = {"env": [{"name": "A"}, {"name": "A", "value": "x"}]}
    assert diff_fields(dup, {"env": [{"name": "A"}]}) == [
        FieldChange("remove", "env[1]", {"name": "A", "value": "x"}, None)]
    assert diff_fields({"env": []}, {"env": [{"name": "A"}]}) == [FieldChange("add", "env[0]", None, {"name": "A"})]


def test_type_change_and_whole_list_added() -> None:
    assert diff_fields({"a": 1}, {"a": "1"}) == [FieldChange("change", "a", 1, "1")]
    assert diff_fields({}, {"env": [{"name": "A", "value": "1"}]}) == [
        FieldChange("add", "env", None, [{"name": "A", "value": "1"}])]


def test_format_path_quotes_keys() -> None:
    assert format_path(["metadata", "annotations", "helm.sh/hook"]) == 'metadata.annotations["helm.sh/hook"]'
    assert format_path(["spec", "items", 0, "x y"]) == 'spec.items[0]["x y"]'


def test_secret_values_never_in_any_output() -> None:
    result = changes()
    texts = [render_fields(result), render_unified(result), json.dumps(to_json(result)), repr(result)]
    for text in texts:
        assert CANARY not in text
        assert base64.b64encode(CANARY.encode()).decode() not in text
    (secret,) = [c for c in result if c.key.kind == "Secret"]
    (item,) = secret.items
    assert item.op == "change" and item.path == "data.password" and item.old != item.new


def test_known_secret_values_masked_in_other_objects() -> None:
    key = ObjectKey("", "ConfigMap", "n", "c")
    old = {key: {"apiVersion": "v1", "kind": "ConfigMap", "data": {"dsn": f"pg://u:{CANARY}@h"}}}
    new = {key: {"apiVersion": "v1", "kind": "ConfigMap", "data": {"dsn": f"pg://u:{CANARY}x@h"}}}
    result = diff_objects(new, old, secret_values=[CANARY, CANARY + "x"])
    assert CANARY not in render_fields(result) + render_unified(result)
    assert len(result) == 1


def test_summary_and_golden_texts(golden: Callable[[str, str], None]) -> None:
    result = changes()
    assert render_summary(result) == "+1 ~2 -1"
    assert render_summary([]) == "+0 ~0 -0"
    golden("fields.txt", render_fields(result))
    golden("unified.txt", render_unified(result))
    golden("unified-context1.txt", render_unified(result, context=1, old_label="live", new_label="git"))
    golden("changes.json", json.dumps(to_json(result), indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize("fn", [render_fields, render_unified])
def test_empty_renders_nothing(fn: object) -> None:
    assert fn([]) == ""  # type: ignore[operator]
