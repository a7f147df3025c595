"""Fields a chart generates on every render: found by comparing two renders, then left out of comparisons."""

from __future__ import annotations

import json

from helmkit.plan.diffmodel import diff_objects
from helmkit.plan.generated import adopt_generated, from_data, to_data, volatile_paths
from helmkit.plan.manifests import ObjectKey, parse_manifest
from helmkit.plan.status import manifest_difference

RENDER = """---
# Source: app/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata: {{name: auth}}
data:
  password: {password}
  username: YWRtaW4=
---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  template:
    metadata:
      annotations: {{checksum/secret: "{checksum}", team: a}}
    spec:
      containers:
        - {{name: web, image: "web:1", env: [{{name: BOOT, value: "{boot}"}}]}}
---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {{name: plain}}
data: {{level: info}}
"""
SECRET = ObjectKey("", "Secret", "apps", "auth")
DEPLOYMENT = ObjectKey("apps", "Deployment", "apps", "web")


def render(password: str, checksum: str, boot: str = "x", replicas: int = 1) -> str:
    return RENDER.format(password=password, checksum=checksum, boot=boot, replicas=replicas)


def test_the_paths_that_differ_between_two_renders_are_the_generated_ones() -> None:
    found = volatile_paths(render("AAAA", "1111", "u1"), render("BBBB", "2222", "u2"), "apps")
    assert found == {
        SECRET: frozenset({"/data/password"}),
        DEPLOYMENT: frozenset({"/spec/template/metadata/annotations/checksum~1secret",
                               "/spec/template/spec/containers/0/env/0/value"}),
    }
    assert volatile_paths(render("A", "1"), render("A", "1"), "apps") == {}
    assert from_data(json.dumps(to_data(found))) == found
    assert from_data("not json") == {}


def test_a_comparison_takes_the_deployed_value_at_generated_paths_only() -> None:
    generated = volatile_paths(render("AAAA", "1111"), render("BBBB", "2222"), "apps")
    deployed = render("KEPT", "9999")
    assert manifest_difference(render("NEW1", "8888"), deployed, "apps") == "+0 ~2 -0"
    assert manifest_difference(render("NEW1", "8888"), deployed, "apps", generated) is None
    assert manifest_difference(render("NEW1", "8888", replicas=3), deployed, "apps", generated) == "+0 ~1 -0"

    wanted = parse_manifest(render("NEW1", "8888", replicas=3), "apps").bodies()
    have = parse_manifest(deployed, "apps").bodies()
    changes = diff_objects(wanted, have, generated=generated)
    assert [(str(c.key), [i.path for i in c.items]) for c in changes] == [
        ("apps/Deployment apps/web", ["spec.replicas"])]


def test_a_generated_path_present_on_one_side_only_is_still_a_change() -> None:
    desired = {"data": {"password": "new"}}
    assert adopt_generated(desired, {"data": {}}, frozenset({"/data/password"})) is desired
    assert adopt_generated(desired, {"data": {"password": "old"}}, frozenset({"/data/password"})) == \
        {"data": {"password": "old"}}
    assert desired == {"data": {"password": "new"}}  # never changed in place
    escaped = {"a": {"b/c": 1, "d~e": 2}}
    assert adopt_generated(escaped, {"a": {"b/c": 5, "d~e": 6}}, frozenset({"/a/b~1c", "/a/d~0e"})) == \
        {"a": {"b/c": 5, "d~e": 6}}


HOOK_AND_CRD = """---
# Source: app/crds/widgets.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com}
"""
TEST_HOOK = """---
# Source: app/templates/tests/test.yaml
apiVersion: v1
kind: Pod
metadata: {name: web-test, annotations: {helm.sh/hook: test}}
spec: {containers: [{name: t, image: "busybox"}]}
"""


def test_a_rendering_beside_a_helm_record_pairs_documents_by_text() -> None:
    # a record holds no crds/ documents and no hooks: the documents do not line up one to one
    rendering = HOOK_AND_CRD + render("AAAA", "1111", "u1") + TEST_HOOK
    record = render("BBBB", "2222", "u1")
    assert volatile_paths(rendering, record, "apps") == {
        SECRET: frozenset({"/data/password"}),
        DEPLOYMENT: frozenset({"/spec/template/metadata/annotations/checksum~1secret"}),
    }
    assert volatile_paths(HOOK_AND_CRD + record + TEST_HOOK, record, "apps") == {}


def test_documents_of_templates_absent_from_the_record_are_not_read() -> None:
    unreadable = "---\n# Source: app/crds/broken.yaml\nkind: CustomResourceDefinition\nspec: {group: [\n"
    rendering = unreadable + render("AAAA", "1111", "u1")
    # were the crds/ document read, the rendering could not be parsed and nothing would be found
    assert volatile_paths(rendering, render("BBBB", "1111", "u1"), "apps") == {SECRET: frozenset({"/data/password"})}
