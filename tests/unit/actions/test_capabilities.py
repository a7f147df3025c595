"""Offline capabilities: declared, else last-known, else computed over all of a cluster's releases."""

from __future__ import annotations

import io
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adapters"))
from chart_server import helm_env, write_chart

from helmkit.actions.capabilities import RenderTarget, last_known, save_last_known, state_file
from helmkit.actions.render import RenderResult, helm_client, render_instances
from helmkit.adapters.discovery import Capabilities
from helmkit.adapters.helm import HelmClient
from helmkit.adapters.tools import binary_path
from helmkit.context import Context
from helmkit.errors import InputError
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository
from helmkit.model.resolve import resolve_environment
from helmkit.model.selectors import parse_selector
from helmkit.output.console import Console

REPO = Path(__file__).resolve().parents[3]
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
"""
USER = """apiVersion: v1
kind: ConfigMap
metadata: {name: seen}
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  widget: {{ .Capabilities.APIVersions.Has "example.com/v1/Widget" | quote }}
"""


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[Context, HelmClient]:
    root = tmp_path / "repo"
    operator = write_chart(root / "charts", "operator", "1.0.0")
    (operator / "crds").mkdir()
    (operator / "crds" / "widget.yaml").write_text(CRD)
    user = write_chart(root / "charts", "user", "1.0.0")
    (user / "templates" / "seen.yaml").write_text(USER)
    (root / "helmkit.yaml").write_text('kubeVersion: "1.33.0"\n')
    (root / "releases").mkdir()
    (root / "releases" / "operator.yaml").write_text("chart: {path: charts/operator}\nnamespace: ops\n")
    (root / "releases" / "user.yaml").write_text("chart: {path: charts/user}\nnamespace: apps\n")
    (root / "environments").mkdir()
    (root / "environments" / "prod.yaml").write_text(yaml.safe_dump({"clusters": [{"name": "c1"}, {"name": "c2"}]}))
    ctx = Context(repo=root, helm_option=str(binary_path(REPO, "helm-v4.1.4")))
    ctx.console = Console(masker=ctx.masker, out=io.StringIO(), err=io.StringIO(), colour=False)
    client = helm_client(ctx)
    return ctx, HelmClient(ctx.runner, client.binary, helm_env(tmp_path), version_cache=client.version_cache)


def render_user(ctx: Context, helm: HelmClient, cluster: str = "c1") -> tuple[dict[str, str], str]:
    resolution = resolve_environment(load_repository(ctx.repo), "prod", cluster=cluster,
                                     selector=parse_selector("name=user"))
    result: RenderResult = render_instances(ctx, resolution.instances, helm=helm)[0]
    assert result.manifest is not None, result.error
    data = yaml.safe_load(result.manifest.split("# Source: user/templates/seen.yaml")[1])["data"]
    err = ctx.console.err
    assert isinstance(err, io.StringIO)
    return data, err.getvalue()


def test_computed_from_all_the_clusters_releases_whatever_is_selected(fleet: tuple[Context, HelmClient]) -> None:
    ctx, helm = fleet
    data, said = render_user(ctx, helm)  # only `user` selected; `operator` serves the Widget CRD on c1
    assert data == {"kube": "v1.33.0", "widget": "true"}
    assert "capabilities: prod/c1 computed\n" in said


def test_whole_environments_compute_the_same_without_a_second_resolution(fleet: tuple[Context, HelmClient],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, helm = fleet
    from helmkit.actions import render

    def refused(*_: object) -> None:
        raise AssertionError("the environment was resolved again")

    monkeypatch.setattr(render, "enabled_instances_by_cluster", refused)
    instances = resolve_environment(load_repository(ctx.repo), "prod").instances
    results = render_instances(ctx, instances, helm=helm, whole_envs=True)
    user = next(r for r in results if r.instance.name == "user" and r.instance.cluster.name == "c1")
    assert user.manifest is not None, user.error
    assert 'widget: "true"' in user.manifest


def test_last_known_capabilities_beat_the_computed_ones(fleet: tuple[Context, HelmClient]) -> None:
    ctx, helm = fleet
    seen = Capabilities("v1.31.4", ("apps/v1", "apps/v1/Deployment", "v1"), "2026-11-30T09:00:00+00:00")
    save_last_known(ctx, Cluster("c1", "prod", "c1"), seen)
    saved = state_file(ctx, "prod", "c1")
    confirmed = datetime(2026, 12, 1, 14, 3, 9, tzinfo=UTC).timestamp()
    os.utime(saved, (confirmed, confirmed))
    assert last_known(ctx, "prod", "c1") == Capabilities(seen.kube_version, seen.api_versions,
                                                          "2026-12-01T14:03:09+00:00")
    assert "Secret" not in saved.read_text()
    data, said = render_user(ctx, helm)
    assert data == {"kube": "v1.31.4", "widget": "false"}
    assert "capabilities: prod/c1 last-known (2026-12-01 14:03)\n" in said
    later = Capabilities(seen.kube_version, seen.api_versions, "2026-12-02T10:00:00+00:00")
    save_last_known(ctx, Cluster("c1", "prod", "c1"), later)  # unchanged: only confirmed, not rewritten
    assert '"observedAt": "2026-11-30T09:00:00+00:00"' in saved.read_text()
    assert saved.stat().st_mtime > confirmed
    state_file(ctx, "prod", "c1").write_text("{broken")
    assert render_user(ctx, helm)[1].endswith("capabilities: prod/c1 computed\n")


def test_declared_capabilities_beat_everything(fleet: tuple[Context, HelmClient]) -> None:
    ctx, helm = fleet
    save_last_known(ctx, Cluster("c2", "prod", "c2"), Capabilities("v1.31.4", (), "2026-12-01T14:03:09+00:00"))
    env = ctx.repo / "environments" / "prod.yaml"
    env.write_text(yaml.safe_dump({
        "capabilities": {"kubeVersion": "1.32.1", "apiVersions": ["example.com/v1/Widget"]},
        "clusters": [{"name": "c1"}, {"name": "c2"}],
    }))
    (ctx.repo / "environments" / "prod" / "clusters").mkdir(parents=True)
    (ctx.repo / "environments" / "prod" / "clusters" / "c2.yaml").write_text(
        "capabilities: {kubeVersion: '1.30.2', apiVersions: []}\n")
    assert render_user(ctx, helm, "c1")[0] == {"kube": "v1.32.1", "widget": "true"}
    data, said = render_user(ctx, helm, "c2")  # the cluster layer beats the environment
    assert data == {"kube": "v1.30.2", "widget": "false"}
    assert said.endswith("capabilities: prod/c2 declared\n")


def test_a_malformed_declaration_names_file_and_line(fleet: tuple[Context, HelmClient]) -> None:
    ctx, _ = fleet
    (ctx.repo / "environments" / "prod.yaml").write_text(
        "clusters:\n  - name: c1\n    capabilities:\n      apiVersions: [monitoring.coreos.com]\n")
    with pytest.raises(InputError) as caught:
        load_repository(ctx.repo)
    text = caught.value.render()
    assert "environments/prod.yaml:4" in text and 'like "monitoring.coreos.com/v1"' in text, text


def test_a_target_sets_capabilities_and_upgrade_and_each_is_part_of_the_cache_key(
        fleet: tuple[Context, HelmClient]) -> None:
    ctx, helm = fleet
    chart = ctx.repo / "charts" / "user"
    (chart / "templates" / "upgrade.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: upgrade}\n"
        "data: {upgrade: {{ .Release.IsUpgrade | quote }}}\n")
    instance = resolve_environment(load_repository(ctx.repo), "prod", cluster="c1",
                                   selector=parse_selector("name=user")).instances[0]
    widget = Capabilities("v1.34.0", ("example.com/v1/Widget",))

    def manifest(target: RenderTarget) -> str:
        result = render_instances(ctx, [instance], helm=helm, targets=lambda _: target)[0]
        assert result.manifest is not None, result.error
        return result.manifest

    install = manifest(RenderTarget(widget))
    assert 'upgrade: "false"' in install and 'widget: "true"' in install and 'kube: "v1.34.0"' in install
    assert 'upgrade: "true"' in manifest(RenderTarget(widget, is_upgrade=True))
    assert 'widget: "false"' in manifest(RenderTarget(Capabilities("v1.34.0", ())))
    assert 'kube: "v1.35.1"' in manifest(RenderTarget(Capabilities("v1.35.1", ("example.com/v1/Widget",))))
    assert ctx.runner.started["helm"] == 1 + 4  # `helm version`, then no cache hit between the four
    err = ctx.console.err
    assert isinstance(err, io.StringIO) and "capabilities:" not in err.getvalue()  # online: nothing to say
