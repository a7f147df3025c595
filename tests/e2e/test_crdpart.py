"""A rendering that takes the kept ``crds/`` part of an earlier one is, byte for byte, helm's own
``helm template --include-crds`` output: the part depends only on the values that decide which
subcharts helm keeps (conditions, tags, aliases). Real helm 3.19 / 4.1, no cluster."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.actions.crdpart import CrdParts
from helmkit.adapters.cache import ContentCache
from helmkit.adapters.helm import VALUES_STDIN, HelmClient, TemplateRequest
from helmkit.plan.manifests import template_documents
from helmkit.plan.rendering import crds_prefix
from tests.e2e.test_crdfiles import helm_crds, stack
from tests.e2e.test_sync_support import RecordingRunner

pytestmark = pytest.mark.e2e
__all__ = ["stack"]  # the fixture: a chart with crds/ in its own folder and in subcharts


@pytest.fixture
def folders(stack: Path) -> Path:
    """The stack without its packaged subchart: every subchart a folder."""
    meta = yaml.safe_load((stack / "Chart.yaml").read_text())
    meta["dependencies"] = [d for d in meta["dependencies"] if d["name"] != "packaged"]
    (stack / "Chart.yaml").write_text(yaml.safe_dump(meta))
    for package in (stack / "charts").glob("*.tgz"):
        package.unlink()
    return stack


def request(chart: Path) -> TemplateRequest:
    return TemplateRequest(release="r", chart=chart, namespace="default", kube_version=None,
                           values_files=(VALUES_STDIN,), include_crds=True)


@pytest.mark.parametrize("values", [
    {},
    {"on": {"enabled": False}, "off": {"enabled": True}},
    {"off": {"enabled": "yes"}},
    {"tags": {"extras": True}, "first": {"enabled": False}, "second": {"enabled": True}},
    {"on": None},
], ids=["defaults", "conditions", "non-boolean", "tags-alias", "null"])
def test_a_rendering_with_the_kept_crds_part_is_helms_own(folders: Path, helm_bin: Path, tmp_path: Path,
                                                         values: Mapping[str, Any]) -> None:
    runner = RecordingRunner()
    parts = CrdParts(HelmClient(runner, helm_bin, {}), ContentCache(tmp_path / "cache"), "helm", lambda _: "digest")
    first = parts.template(request(folders), values, shared=True)
    assert "/crds/" in first and "kind: ConfigMap" in first
    again = {**values, "unrelated": {"replicas": 3}}  # another cluster's values: the same subcharts
    second = parts.template(request(folders), again, shared=True)
    assert [("--include-crds" in argv) for argv in runner.argvs] == [True, False]  # the part was kept
    assert second == helm_crds(helm_bin, folders, again, tmp_path)
    assert first == helm_crds(helm_bin, folders, dict(values), tmp_path)
    # both carry their part, one object (hashed once where it keys a dict), as a scan finds it
    assert crds_prefix(first) is crds_prefix(second)
    assert crds_prefix(second) == crds_prefix(str(second))
    assert template_documents(second) == template_documents(str(second))
    later = CrdParts(HelmClient(runner, helm_bin, {}), ContentCache(tmp_path / "cache"), "helm", lambda _: "digest")
    third = later.template(request(folders), again, shared=True)  # the next run: the part from the cache
    assert third == second and crds_prefix(third) == crds_prefix(str(second))


def test_values_that_change_the_kept_subcharts_change_the_part(folders: Path, helm_bin: Path, tmp_path: Path) -> None:
    runner = RecordingRunner()
    parts = CrdParts(HelmClient(runner, helm_bin, {}), ContentCache(tmp_path / "cache"), "helm", lambda _: "digest")
    parts.template(request(folders), {}, shared=True)
    off = {"on": {"enabled": False}}
    assert parts.template(request(folders), off, shared=True) == helm_crds(helm_bin, folders, off, tmp_path)
    assert "/charts/on/crds/" not in parts.template(request(folders), off, shared=True)
    assert [("--include-crds" in argv) for argv in runner.argvs] == [True, True, False]


def test_a_packaged_subchart_renders_whole(stack: Path, helm_bin: Path, tmp_path: Path) -> None:
    runner = RecordingRunner()
    parts = CrdParts(HelmClient(runner, helm_bin, {}), ContentCache(tmp_path / "cache"), "helm", lambda _: "digest")
    assert parts.key(stack, {}) is None  # charts/packaged-1.0.0.tgz: its crds/ are not read here
    for _ in range(2):
        assert parts.template(request(stack), {}, shared=True) == helm_crds(helm_bin, stack, {}, tmp_path)
    assert [("--include-crds" in argv) for argv in runner.argvs] == [True, True]


def test_values_with_resolved_secrets_key_no_part(folders: Path, helm_bin: Path, tmp_path: Path) -> None:
    runner = RecordingRunner()
    parts = CrdParts(HelmClient(runner, helm_bin, {}), ContentCache(tmp_path / "cache"), "helm", lambda _: "digest")
    for _ in range(2):
        parts.template(request(folders), {"password": "s3cret"}, shared=False)
    assert [("--include-crds" in argv) for argv in runner.argvs] == [True, True]
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # nothing kept
