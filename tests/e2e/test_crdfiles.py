"""The crds/ documents read from a chart's files are the ones ``helm template --include-crds`` emits:
the chart's own and its kept subcharts' (folders and packages, conditions, tags, aliases), with the
same ``# Source:`` lines. Real helm 3.19 / 4.1, no cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.actions.crdfiles import CrdFiles, crd_manifest
from helmkit.actions.crds import chart_crds
from helmkit.adapters.runner import Runner

pytestmark = pytest.mark.e2e


def crd(plural: str) -> str:
    return yaml.safe_dump({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": plural, "singular": plural[:-1], "kind": plural[:-1].title()},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]}})


def chart(path: Path, name: str, *, crds: dict[str, str] | None = None, values: dict[str, Any] | None = None,
          dependencies: list[dict[str, Any]] | None = None) -> Path:
    (path / "templates").mkdir(parents=True)
    meta: dict[str, Any] = {"apiVersion": "v2", "name": name, "version": "1.0.0"}
    if dependencies:
        meta["dependencies"] = dependencies
    (path / "Chart.yaml").write_text(yaml.safe_dump(meta))
    (path / "values.yaml").write_text(yaml.safe_dump(values or {}))
    (path / "templates" / "cm.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n")
    for file, text in (crds or {}).items():
        (path / "crds" / file).parent.mkdir(parents=True, exist_ok=True)
        (path / "crds" / file).write_text(text)
    return path


@pytest.fixture
def stack(tmp_path: Path, helm_bin: Path) -> Path:
    """Own crds/ (two documents in one file, a nested folder, a JSON file, a README), and subcharts: ``on``
    (condition true by default), ``off`` (condition false by default), ``tagged`` (tag ``extras``,
    false), ``aliased`` (one subchart twice under two aliases, one turned off), ``packaged`` (a .tgz with a
    nested subchart whose own condition reads the subchart's values), ``loose`` (not listed: always kept)."""
    top = chart(tmp_path / "stack", "stack", crds={"a.yaml": crd("alphas") + "---\n" + crd("betas"),
                                                   "more/c.yml": crd("gammas"),
                                                   "d.json": json.dumps(yaml.safe_load(crd("deltas"))),
                                                   "README.md": "not a manifest"},
                values={"on": {"enabled": True}, "off": {"enabled": False}, "tags": {"extras": False},
                        "second": {"enabled": False}},
                dependencies=[
                    {"name": "on", "version": "1.0.0", "condition": "on.enabled"},
                    {"name": "off", "version": "1.0.0", "condition": "off.enabled,on.enabled"},
                    {"name": "tagged", "version": "1.0.0", "tags": ["extras"]},
                    {"name": "twice", "version": "1.0.0", "alias": "first", "condition": "first.enabled"},
                    {"name": "twice", "version": "1.0.0", "alias": "second", "condition": "second.enabled"},
                    {"name": "packaged", "version": "1.0.0"},
                ])
    charts = top / "charts"
    chart(charts / "on", "on", crds={"on.yaml": crd("ons")})
    chart(charts / "off", "off", crds={"off.yaml": crd("offs")})
    chart(charts / "tagged", "tagged", crds={"t.yaml": crd("tags")})
    chart(charts / "twice", "twice", crds={"tw.yaml": crd("twices")})
    chart(charts / "loose", "loose", crds={"l.yaml": crd("looses")})
    packaged = chart(tmp_path / "build" / "packaged", "packaged", values={"inner": {"enabled": True}},
                     dependencies=[{"name": "inner", "version": "1.0.0", "condition": "inner.enabled"}])
    chart(packaged / "charts" / "inner", "inner", crds={"i.yaml": crd("inners")})
    Runner().run([str(helm_bin), "package", str(packaged), "-d", str(charts)], check=True, timeout=60)
    return top


def helm_crds(helm_bin: Path, chart_path: Path, values: dict[str, Any], tmp_path: Path) -> str:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    rendered = Runner().run([str(helm_bin), "template", "r", str(chart_path), "--include-crds", "-f",
                             str(values_file)], check=True, timeout=60).stdout
    return rendered


def crds_of(manifest: str) -> list[tuple[str, str]]:
    return sorted((o.source, o.key.name) for o in chart_crds(manifest, "default"))


@pytest.mark.parametrize("values", [
    {},
    {"on": {"enabled": False}, "off": {"enabled": True}},
    {"off": {"enabled": "yes"}},  # not a boolean: the next condition path decides
    {"tags": {"extras": True}, "first": {"enabled": False}, "second": {"enabled": True},
     "packaged": {"inner": {"enabled": False}}},
    {"on": None},  # null removes the default: no value, the dependency stays enabled
], ids=["defaults", "conditions", "non-boolean", "tags-alias-nested", "null"])
def test_the_crds_read_from_the_files_are_the_ones_helm_emits(stack: Path, helm_bin: Path, tmp_path: Path,
                                                              values: dict[str, Any]) -> None:
    emitted = crds_of(helm_crds(helm_bin, stack, values, tmp_path))
    assert emitted, "helm emitted no CRD"
    assert crds_of(crd_manifest(stack, values)) == emitted

    package = Runner().run([str(helm_bin), "package", str(stack), "-d", str(tmp_path / "pkg")], check=True, timeout=60)
    assert package.ok
    tgz = next((tmp_path / "pkg").glob("*.tgz"))
    assert crds_of(CrdFiles().manifest(tgz, values)) == crds_of(helm_crds(helm_bin, tgz, values, tmp_path))
