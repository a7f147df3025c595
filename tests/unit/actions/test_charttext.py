"""What a chart's templates can make its output depend on, read from the chart and its subcharts."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from helmkit.actions import charttext
from helmkit.actions.charttext import ChartTraits, chart_traits, crd_api_versions, kept_traits


def chart(root: Path, name: str, templates: dict[str, str]) -> Path:
    folder = root / name
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    for file, text in templates.items():
        (folder / "templates" / file).write_text(text)
    return folder


def package(folder: Path, dest: Path) -> Path:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    dest.write_bytes(data.getvalue())
    return dest


def test_literal_api_version_tests_phase_and_generators(tmp_path: Path) -> None:
    plain = chart(tmp_path, "plain", {"cm.yaml": "{{/* .Capabilities, IsUpgrade, now */}}\nn: {{ .Release.Name }}\n"})
    assert chart_traits(plain) == ChartTraits()
    literal = chart(tmp_path, "literal", {
        "pdb.yaml": '{{ if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" }}x{{ end }}'
                    '{{ if $.Capabilities.APIVersions.Has `monitoring.coreos.com/v1` }}y{{ end }}'
                    '{{ .Capabilities.KubeVersion.Version }}',
        "_helpers.tpl": '{{ define "x" }}{{ if .Release.IsInstall }}{{ uuidv4 }}{{ end }}{{ end }}',
    })
    assert chart_traits(literal) == ChartTraits(True, True, frozenset({"policy/v1/PodDisruptionBudget",
                                                                        "monitoring.coreos.com/v1"}))


def test_any_other_use_of_api_versions_needs_them_all_even_in_a_packaged_subchart(tmp_path: Path) -> None:
    sub = chart(tmp_path / "src", "common", {
        "_capabilities.tpl": '{{ define "has" }}{{ if .ctx.Capabilities.APIVersions.Has .version }}1{{ end }}{{ end }}',
    })
    parent = chart(tmp_path, "parent", {"a.yaml": '{{ if .Capabilities.APIVersions.Has "apps/v1" }}a{{ end }}'})
    (parent / "charts").mkdir()
    package(sub, parent / "charts" / "common-0.1.0.tgz")
    assert chart_traits(parent).api_literals is None
    packaged = package(parent, tmp_path / "parent-0.1.0.tgz")
    assert chart_traits(packaged).api_literals is None
    whole = chart(tmp_path, "whole", {"dump.yaml": "{{ toJson .Capabilities }} {{ toYaml .Release }}"})
    assert chart_traits(whole) == ChartTraits(False, True, None)


def test_crds_of_a_chart_and_its_subcharts(tmp_path: Path) -> None:
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w.example.com}\n"
           "spec: {group: example.com, names: {kind: Widget}, versions: [{name: v1}, {name: v2}]}\n")
    parent = chart(tmp_path, "parent", {})
    (parent / "charts" / "sub" / "crds").mkdir(parents=True)
    (parent / "charts" / "sub" / "crds" / "w.yaml").write_text(crd)
    assert crd_api_versions(parent) == {"example.com/v1", "example.com/v1/Widget", "example.com/v2",
                                        "example.com/v2/Widget"}


def test_kept_traits_scan_a_chart_once_until_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = chart(tmp_path, "web", {"cm.yaml": "n: {{ (lookup \"v1\" \"Secret\" \"a\" \"b\").data }}\n"})
    old = 1_000_000_000  # files older than the 2 s rule, so their digest is kept
    for path in (folder, folder / "Chart.yaml", folder / "templates", folder / "templates" / "cm.yaml"):
        os.utime(path, ns=(old, old))
    scans: list[Path] = []

    def counted(root: Path) -> ChartTraits:
        scans.append(root)
        return chart_traits(root)

    monkeypatch.setattr(charttext, "chart_traits", counted)
    assert kept_traits(tmp_path / "state").of(folder).looks_up
    assert kept_traits(tmp_path / "state").of(folder).looks_up  # another run: kept
    assert len(scans) == 1
    (folder / "templates" / "cm.yaml").write_text("n: {{ .Release.IsUpgrade }}\n")
    changed = kept_traits(tmp_path / "state").of(folder)
    assert len(scans) == 2 and not changed.looks_up and changed.release_phase
