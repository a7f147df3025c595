"""Parsing rendered manifests into keyed objects."""

from __future__ import annotations

import pytest

from helmkit.errors import InputError
from helmkit.plan.manifests import ObjectKey, object_key, parse_manifest

RENDERED = """\
---
# Source: web/templates/ns.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: extra
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
---
# Source: web/templates/empty.yaml
# only a comment
---
# Source: web/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: web-reader
---
# Source: web/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: web-reader
  namespace: other
---
# Source: web/crds/crd.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
---
# Source: web/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: web-migrate
  annotations:
    "helm.sh/hook": pre-install, pre-upgrade
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
"""


def test_objects_keyed_with_namespace_defaults_and_sources() -> None:
    manifest = parse_manifest(RENDERED, "prod")
    assert list(manifest.objects) == [
        ObjectKey("", "Namespace", "", "extra"),
        ObjectKey("apps", "Deployment", "prod", "web"),
        ObjectKey("rbac.authorization.k8s.io", "ClusterRole", "", "web-reader"),
        ObjectKey("rbac.authorization.k8s.io", "RoleBinding", "other", "web-reader"),
        ObjectKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com"),
        ObjectKey("example.com", "Widget", "prod", "w"),
    ]
    deployment = manifest.objects[ObjectKey("apps", "Deployment", "prod", "web")]
    assert deployment.source == "web/templates/deployment.yaml"
    assert deployment.api_version == "apps/v1"
    assert deployment.body["spec"] == {"replicas": 2}
    assert manifest.objects[ObjectKey("example.com", "Widget", "prod", "w")].source == "web/templates/job.yaml"
    assert [c.key.name for c in manifest.crds] == ["widgets.example.com"]
    (hook,) = manifest.hooks
    assert hook.key.name == "web-migrate" and hook.hook_events == ("pre-install", "pre-upgrade")
    assert list(manifest.bodies()) == list(manifest.objects)


def test_extra_cluster_scoped_kinds_for_crds() -> None:
    manifest = parse_manifest(RENDERED, "prod", extra_cluster_scoped=[("example.com", "Widget")])
    assert ObjectKey("example.com", "Widget", "", "w") in manifest.objects


def test_key_text() -> None:
    assert str(ObjectKey("apps", "Deployment", "prod", "web")) == "apps/Deployment prod/web"
    assert str(ObjectKey("", "Namespace", "", "x")) == "Namespace x"
    assert object_key({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "ns").namespace == "ns"


def test_document_separator_variants_and_empty_input() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- \napiVersion: v1\nkind: ConfigMap\n" \
           "metadata: {name: b}\n---\n\n"
    assert [k.name for k in parse_manifest(text, "x").objects] == ["a", "b"]
    assert parse_manifest("", "x").objects == {}
    assert parse_manifest("---\n---\n", "x").objects == {}


def test_errors_name_template_and_line() -> None:
    text = ("---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
            "---\n# Source: web/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
            "---\n# Source: web/templates/c.yaml\nfoo: [bar\n"
            "---\n# Source: web/templates/d.yaml\n- a list\n"
            "---\n# Source: web/templates/e.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
    with pytest.raises(InputError) as info:
        parse_manifest(text, "prod", origin="helm template web")
    rendered = info.value.render()
    assert "web/templates/b.yaml:8: ConfigMap prod/a is rendered twice (also by web/templates/a.yaml)" in rendered
    assert "web/templates/c.yaml:14: invalid YAML in helm template web" in rendered
    assert "web/templates/d.yaml:17: a document of helm template web is not a Kubernetes object" in rendered
    assert "web/templates/e.yaml:20: a ConfigMap of helm template web has no metadata.name" in rendered
    assert rendered.endswith("4 errors")


def test_alias_bomb_and_deep_nesting_refused_fast() -> None:
    import time

    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1},"
               f" *a{i - 1}]" for i in range(1, 10)]
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n" + "\n".join(f"  {x}" for x in levels)
    deep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * 5000 + "]" * 5000
    for text, message in ((bomb, "has more than 1000000 nodes"), (deep, "nest")):
        start = time.monotonic()
        with pytest.raises(InputError, match=message):
            parse_manifest(text, "ns")
        assert time.monotonic() - start < 2


def test_block_scalar_ending_a_document_keeps_its_final_newline() -> None:
    text = (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  conf: |\n    x = 1\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  conf: |\n    y"
    )
    objects = parse_manifest(text, "ns", origin="test").objects.values()
    assert sorted(o.body["data"]["conf"] for o in objects) == ["x = 1\n", "y\n"]
