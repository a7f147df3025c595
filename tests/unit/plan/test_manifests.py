"""Parsing rendered manifests into keyed objects."""

from __future__ import annotations

import pytest

from helmkit.errors import InputError
from helmkit.plan.manifests import (
    DocumentCache,
    ObjectKey,
    differing_documents,
    from_crds_folder,
    object_key,
    parse_documents,
    parse_manifest,
    split_documents,
    template_documents,
)

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
    assert "web/templates/c.yaml:15: invalid YAML in helm template web" in rendered
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


# What `helm template --include-crds` prints for a chart whose crds/ file opens with a licence
# comment and `---` and holds two CRDs, a subchart's crds/ file, and templates (one in a folder
# named crds): each crds/ file is printed once behind one header, each template document behind its own.
HELM_OUTPUT = """\
---
# Source: odd/crds/doodads.yaml
# Copyright The Oddities Authors.
# Licensed under the Apache License, Version 2.0
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: doodads.example.com
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          properties:
            operator: {type: string, enum: [=, "!="]}
---
# A second CRD of the same file
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: whatsits.example.com
---
# Source: odd/charts/gadgets/crds/gadgets.yaml
# SPDX-License-Identifier: Apache-2.0
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
---
# Source: odd/templates/crds/readme.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: readme
data:
  note: =
---
# Source: odd/charts/gadgets/templates/gadget.yaml
apiVersion: example.com/v1
kind: Gadget
metadata:
  name: g
spec: {mode: on, permissions: 0644, since: 2001-12-14}
"""
TEMPLATES_ONLY = HELM_OUTPUT[HELM_OUTPUT.index("---\n# Source: odd/templates/crds/readme.yaml"):]


def test_documents_without_a_header_carry_the_template_before_them() -> None:
    documents = split_documents(HELM_OUTPUT)
    assert [(d.line, d.source) for d in documents] == [
        (6, "odd/crds/doodads.yaml"),  # the header stood in a comment-only document
        (18, "odd/crds/doodads.yaml"),  # no header of its own
        (27, "odd/charts/gadgets/crds/gadgets.yaml"),
        (32, "odd/templates/crds/readme.yaml"),
        (40, "odd/charts/gadgets/templates/gadget.yaml"),
    ]
    assert [d.from_crds_folder for d in documents] == [True, True, True, False, False]
    manifest = parse_manifest(HELM_OUTPUT, "ns")
    assert {c.key.name: c.source for c in manifest.crds} == {
        "doodads.example.com": "odd/crds/doodads.yaml", "whatsits.example.com": "odd/crds/doodads.yaml",
        "gadgets.example.com": "odd/charts/gadgets/crds/gadgets.yaml"}
    crd = manifest.objects[ObjectKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "doodads.example.com")]
    assert crd.body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["operator"]["enum"] == ["=", "!="]
    gadget = manifest.objects[ObjectKey("example.com", "Gadget", "ns", "g")]
    assert gadget.body["spec"] == {"mode": True, "permissions": 420, "since": "2001-12-14"}


@pytest.mark.parametrize(("source", "crds"), [
    ("odd/crds/x.yaml", True),
    ("odd/crds/sub/x.yaml", True),
    ("odd/charts/gadgets/crds/x.yaml", True),
    ("odd/charts/a/charts/b/crds/x.yaml", True),
    ("crds/crds/x.yaml", True),  # a chart named crds
    ("templates/crds/x.yaml", True),  # a chart named templates
    ("odd/templates/crds/x.yaml", False),
    ("odd/charts/crds/templates/x.yaml", False),  # a subchart named crds
    ("templates/templates/crds.yaml", False),
    ("odd/charts/gadgets/templates/crds/x.yaml", False),
    ("", False),
])
def test_crds_folder_is_told_from_templates_by_path(source: str, crds: bool) -> None:
    assert from_crds_folder(source) is crds


def test_a_header_counts_only_on_a_documents_first_line() -> None:
    text = ("---\n# Source: odd/crds/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
            "  # Source: odd/templates/fake.yaml\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    assert [d.source for d in split_documents(text)] == ["odd/crds/a.yaml", "odd/crds/a.yaml"]


def test_only_documents_that_differ_in_text_are_left_and_crds_folders_are_dropped() -> None:
    changed = TEMPLATES_ONLY.replace("note: =", "note: '='")
    assert differing_documents(HELM_OUTPUT, TEMPLATES_ONLY) == ([], [])
    wanted, have = differing_documents(HELM_OUTPUT, changed)
    assert [d.source for d in wanted] == [d.source for d in have] == ["odd/templates/crds/readme.yaml"]
    assert parse_documents(wanted, "ns").bodies() == parse_documents(have, "ns").bodies()
    twice = TEMPLATES_ONLY + TEMPLATES_ONLY.split("---\n# Source: odd/charts", maxsplit=1)[0]
    wanted, have = differing_documents(twice, TEMPLATES_ONLY)  # identical texts pair once each
    assert ([d.source for d in wanted], have) == (["odd/templates/crds/readme.yaml"], [])


def test_an_unreadable_document_names_its_template_and_line() -> None:
    text = HELM_OUTPUT.replace("spec: {mode: on", "spec: {mode: !!int on")
    with pytest.raises(InputError) as info:
        parse_manifest(text, "ns", origin="rendered manifest")
    assert info.value.problems[0].render() == (
        "odd/charts/gadgets/templates/gadget.yaml:45: invalid YAML in rendered manifest: "
        "cannot decode !!bool `on` as a !!int")


def test_a_document_cache_reads_each_document_once_per_namespace() -> None:
    cache = DocumentCache()
    first = parse_manifest(TEMPLATES_ONLY, "a", cache=cache)
    again = parse_manifest(TEMPLATES_ONLY.replace("name: readme", "name: other"), "a", cache=cache)
    elsewhere = parse_manifest(TEMPLATES_ONLY, "b", cache=cache)
    gadget = ObjectKey("example.com", "Gadget", "a", "g")
    assert again.objects[gadget] is first.objects[gadget]  # the same text: read once, shared
    assert ObjectKey("", "ConfigMap", "a", "other") in again.objects
    assert ObjectKey("example.com", "Gadget", "b", "g") in elsewhere.objects
    assert len(cache.objects) == 5  # readme twice in a, gadget once in a, both in b
    broken = "---\n# Source: odd/templates/x.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"
    for _ in range(2):  # a problem is not kept: it names this manifest's line
        with pytest.raises(InputError, match=r"odd/templates/x\.yaml:17: a ConfigMap of manifest has no"):
            parse_manifest(TEMPLATES_ONLY + broken, "a", cache=cache)


def test_template_documents_step_over_the_crds_part_with_the_same_documents_and_lines() -> None:
    crds = "".join(f"---\n# Source: stack/crds/c{n}.yaml\n# a comment\napiVersion: apiextensions.k8s.io/v1\n"
                   f"kind: CustomResourceDefinition\nmetadata:\n  name: c{n}.example.com\n---\nkind: Extra\n"
                   for n in range(3))
    templates = ("---\n# Source: stack/templates/a.yaml\nkind: ConfigMap\nmetadata: {name: a}\n"
                 "---\n# Source: stack/templates/b.yaml\nkind: Secret\n---\nkind: Service\n")
    for text in (crds + templates, templates, crds, "kind: Lone\n" + templates):
        expected = [d for d in split_documents(text) if not d.from_crds_folder]
        assert template_documents(text) == expected
    found = template_documents(crds + templates)
    assert [(d.source, d.line) for d in found] == [("stack/templates/a.yaml", 29), ("stack/templates/b.yaml", 33),
                                                   ("stack/templates/b.yaml", 36)]
