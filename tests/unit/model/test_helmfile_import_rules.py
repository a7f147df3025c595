"""helmkit import's translation rules, one test each, on ``helmfile build`` output written by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helmkit.model.helmfile_import.notes import NotTranslated, locate
from helmkit.model.helmfile_import.setvalues import key_path, set_entry_values, typed
from helmkit.model.helmfile_import.state import condition_holds, need_name, parse_build
from helmkit.model.helmfile_import.translate import (
    chart_of,
    cluster_name,
    helm_fields,
    repositories,
    translate_release,
)

HELMFILE_TEXT = """\
repositories:
  - name: example
    url: https://charts.example.com
releases:
  - name: web
    namespace: web
    chart: example/web
    version: ~1.4.0
    secrets:
      - secrets/web.yaml
    strategicMergePatches:
      - kind: Deployment
    hooks:
      - events: [presync]
        command: migrate
  - chart: ./charts/api
    name: api
    needs: [ops/web/web, other/web/web]
    jsonPatches:
      - target: {kind: Deployment}
    set:
      - name: replicas
        value: "3"
      - name: caBundle
        file: ca.pem
"""


def build_output(tmp_path: Path, releases: list[dict[str, Any]], **top: Any) -> str:
    import yaml

    doc = {"repositories": [{"name": "example", "url": "https://charts.example.com"},
                            {"name": "registry", "url": "registry.example.com/charts", "oci": True}],
           "helmDefaults": {"kubeContext": "ops"}, "releases": releases,
           "renderedvalues": {"metrics": {"enabled": True}, "off": {"enabled": False}}, **top}
    return f"---\n#  Source: {tmp_path}/helmfile.yaml\n\n" + yaml.safe_dump(doc)


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    folder = tmp_path / "charts" / "api"
    folder.mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: api\nversion: 1.0.0\n")
    return folder


def translate(tmp_path: Path, releases: list[dict[str, Any]]) -> tuple[list[Any], list[NotTranslated]]:
    (state,) = parse_build(build_output(tmp_path, releases), "prod", tmp_path)
    notes: list[NotTranslated] = []
    instances = [translate_release(state, r, HELMFILE_TEXT, notes, locate) for r in state.releases]
    return instances, notes


def test_set_values_are_typed_as_helm_types_them() -> None:
    assert [typed(t) for t in ("true", "FALSE", "null", "0", "42", "-7", "007", "1.5", "1e3", "x")] == \
        [True, False, None, 0, 42, -7, "007", "1.5", "1e3", "x"]
    assert typed("9223372036854775808") == "9223372036854775808"  # beyond int64: a string, as helm keeps it


def test_set_names_split_on_unescaped_dots_and_refuse_list_indexes() -> None:
    assert key_path(r"a.b\.c.d") == ["a", "b.c", "d"]
    assert key_path("hosts[0]") is None
    assert key_path("a..b") is None
    assert set_entry_values({"name": "a.b", "value": 3}) == {"a": {"b": 3}}
    assert set_entry_values({"name": "a", "value": True}) == {"a": True}
    assert set_entry_values({"name": "hosts", "values": ["x", "2"]}) == {"hosts": ["x", 2]}
    assert set_entry_values({"name": "ca", "file": "ca.pem"}) is None
    assert set_entry_values({"name": "a", "value": "007"}, as_string=True) == {"a": "007"}
    assert set_entry_values({"name": "a", "values": [1, "true"]}, as_string=True) == {"a": ["1", "true"]}


def test_build_output_keeps_each_document_with_its_source(tmp_path: Path) -> None:
    text = build_output(tmp_path, [{"name": "a", "chart": "./c"}]) + \
        "---\n#  Source: sub/helmfile.yaml\n\nreleases:\n- name: b\n  chart: ./d\n  kubeContext: edge\n"
    states = parse_build(text, "prod", tmp_path)
    assert [s.source for s in states] == [tmp_path / "helmfile.yaml", tmp_path / "sub" / "helmfile.yaml"]
    assert [(r.name, r.kube_context) for s in states for r in s.releases] == [("a", "ops"), ("b", "edge")]


def test_conditions_and_needs_forms() -> None:
    values = {"metrics": {"enabled": True}, "off": {"enabled": False}}
    assert condition_holds("metrics.enabled", values)
    assert not condition_holds("off.enabled", values)
    assert not condition_holds("missing.enabled", values)
    assert [need_name(n) for n in ("web", "ns/web", "ctx/ns/web")] == [(None, "web"), (None, "web"), ("ctx", "web")]


def test_installed_and_condition_become_enabled(tmp_path: Path, chart: Path) -> None:
    instances, _ = translate(tmp_path, [
        {"name": "a", "chart": "./charts/api"},
        {"name": "b", "chart": "./charts/api", "installed": False},
        {"name": "c", "chart": "./charts/api", "condition": "metrics.enabled"},
        {"name": "d", "chart": "./charts/api", "condition": "off.enabled"},
    ])
    assert [i.fields["enabled"] for i in instances] == [True, False, True, False]
    assert {i.cluster for i in instances} == {"ops"}


def test_charts_local_repository_and_oci(tmp_path: Path, chart: Path) -> None:
    (state,) = parse_build(build_output(tmp_path, [
        {"name": "a", "chart": "./charts/api", "version": "1.0.0"},
        {"name": "b", "chart": "example/web"},
        {"name": "c", "chart": "registry/worker", "version": "2.0.1"},
        {"name": "d", "chart": "oci://ghcr.io/example/charts/gateway", "version": "0.9.0"},
        {"name": "e", "chart": "./manifests"},
        {"name": "f", "chart": "unknown/web"},
    ]), "prod", tmp_path)
    found = [chart_of(state, r) for r in state.releases]
    assert found[0] == ({"path": "", "version": "1.0.0"}, chart)
    assert found[1] == ({"repository": "example", "name": "web", "version": "*"}, None)
    assert found[2] == ({"repository": "registry", "name": "worker", "version": "2.0.1"}, None)
    assert found[3] == ({"repository": "ghcr.io-example-charts", "name": "gateway", "version": "0.9.0"}, None)
    assert found[4] == (None, None)
    assert found[5] == ({"repository": "unknown", "name": "web", "version": "*"}, None)
    repos, _ = repositories([state])
    assert repos == [{"name": "example", "url": "https://charts.example.com"},
                     {"name": "registry", "url": "oci://registry.example.com/charts"},
                     {"name": "ghcr.io-example-charts", "url": "oci://ghcr.io/example/charts"}]


def test_a_repository_helmfile_does_not_declare_is_listed(tmp_path: Path) -> None:
    (instance,), notes = translate(tmp_path, [{"name": "web", "chart": "stable/web", "version": "1.0.0"}])
    assert instance.fields["chart"] == {"repository": "stable", "name": "web", "version": "1.0.0"}
    assert [n.what for n in notes] == ["release `web`: repository `stable` is not in the helmfile's `repositories` "
                                       "(helm's own repository list)"]
    assert notes[0].line == 7  # the `chart:` line of release web in HELMFILE_TEXT


def test_release_capabilities_copied_from_the_top_level_are_not_listed(tmp_path: Path, chart: Path) -> None:
    (state,) = parse_build(build_output(tmp_path, [
        {"name": "web", "chart": "./charts/api", "kubeVersion": "v1.29.0", "apiVersions": ["x.io/v1"]},
        {"name": "api", "chart": "./charts/api", "kubeVersion": "v1.30.0", "apiVersions": ["x.io/v1"]},
    ], kubeVersion="v1.29.0", apiVersions=["x.io/v1"]), "prod", tmp_path)
    notes: list[NotTranslated] = []
    for release in state.releases:
        translate_release(state, release, HELMFILE_TEXT, notes, locate)
    assert [n.what for n in notes] == ["release `api`: `kubeVersion` is not translated"]


def test_helm_fields_and_cluster_names() -> None:
    assert helm_fields({"wait": True, "timeout": 600, "atomic": False, "historyMax": 3, "force": True}) == \
        {"wait": True, "timeout": "600s", "atomic": False, "historyMax": 3}
    assert helm_fields({"timeout": 0}) == {}
    assert cluster_name("arn:aws:eks:eu-west-1:1111:cluster/Prod") == "arn-aws-eks-eu-west-1-1111-cluster-prod"
    assert cluster_name("") == "default"


def test_values_entries_keep_their_order_and_set_values_follow(tmp_path: Path, chart: Path) -> None:
    (instance,), notes = translate(tmp_path, [{
        "name": "api", "chart": "./charts/api",
        "values": ["a.yaml", {"x": 1}, "b.yaml.gotmpl", "git::https://example.com/v.yaml"],
        "set": [{"name": "replicas", "value": "3"}],
    }])
    kinds = [("file", e.path.name, e.template) if not isinstance(e, dict) else ("map", e) for e in instance.entries]
    assert kinds == [("file", "a.yaml", False), ("map", {"x": 1}), ("file", "b.yaml.gotmpl", True)]
    assert instance.set_values == [{"replicas": 3}]
    assert [n.what for n in notes] == ["release `api`: values 'git::https://example.com/v.yaml' is not a local "
                                       "file or a map"]


def test_not_translated_items_name_file_and_line(tmp_path: Path, chart: Path) -> None:
    _, notes = translate(tmp_path, [
        {"name": "web", "namespace": "web", "chart": "example/web", "version": "~1.4.0",
         "secrets": ["secrets/web.yaml"], "strategicMergePatches": [{"kind": "Deployment"}],
         "hooks": [{"events": ["presync"], "command": "migrate"}], "force": False},
        {"name": "api", "chart": "./charts/api", "needs": ["ops/web/web", "other/web/web"],
         "jsonPatches": [{"target": {"kind": "Deployment"}}],
         "set": [{"name": "replicas", "value": "3"}, {"name": "caBundle", "file": "ca.pem"}]},
    ])
    shown = [f"{n.line}: {n.what}" for n in sorted(notes, key=lambda n: n.line or 0)]
    assert shown == [
        "9: release `web`: `secrets` is not translated",
        "11: release `web`: `strategicMergePatches` is not translated",
        "13: release `web`: `hooks` is not translated",
        "18: release `api` needs `other/web/web` on another kube context",
        "19: release `api`: `jsonPatches` is not translated",
        "24: release `api`: `set` of `caBundle` from a file (--set-file) is not translated",
    ]
    assert all(n.file == tmp_path / "helmfile.yaml" and n.todo for n in notes)
    secrets = next(n for n in notes if "secrets" in n.what)
    assert secrets.render(tmp_path).startswith("helmfile.yaml:9: release `web`: `secrets`")
    assert "ref+env://" in secrets.todo


def test_locate_finds_keys_written_before_the_name_and_repeated_names() -> None:
    text = "releases:\n  - chart: x\n    hooks: []\n    name: a\n  - name: a\n    hooks: []\n"
    assert locate(text, "a", "hooks") == 3
    assert locate(text, "a", "hooks", occurrence=1) == 6
    assert locate(text, "a", None, occurrence=1) == 5
    assert locate(text, "missing", "hooks") is None
    assert locate("helmDefaults:\n  wait: true\n  postRenderer: x\n", None, "helmDefaults.postRenderer") == 3
