"""Rendering with real helm and a local chart: parallel, cached by content, failures returned."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adapters"))
from chart_server import helm_env, write_chart

from helmkit.actions.charttext import crd_api_versions
from helmkit.actions.render import helm_client, render_instances
from helmkit.adapters.helm import HelmClient
from helmkit.adapters.tools import binary_path
from helmkit.context import Context
from helmkit.errors import InputError
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance

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
GUARDED = """{{- if .Capabilities.APIVersions.Has "example.com/v1/Widget" }}
apiVersion: example.com/v1
kind: Widget
metadata: {name: {{ .Release.Name }}}
{{- end }}
"""


def make_ctx(tmp_path: Path, folder: str = "helm-v4.1.4") -> tuple[Context, HelmClient]:
    """A context on a fresh repo, and the helm client the run would build (version cache included)."""
    ctx = Context(repo=tmp_path / "repo", helm_option=str(binary_path(REPO, folder)))
    ctx.repo.mkdir(exist_ok=True)
    if not (ctx.repo / "helmkit.yaml").exists():
        (ctx.repo / "helmkit.yaml").write_text('helm: {version: ">=3.19.0 <5.0.0"}\nkubeVersion: "1.33.0"\n')
    client = helm_client(ctx)
    return ctx, HelmClient(ctx.runner, client.binary, helm_env(tmp_path), version_cache=client.version_cache)


def instance(chart: Path, name: str = "web", cluster: str = "c1", **values: object) -> ReleaseInstance:
    return ReleaseInstance(env="prod", cluster=Cluster(cluster, "prod", cluster), name=name, namespace="apps",
                           chart=ChartRef(path=chart), values=dict(values))


@pytest.mark.parametrize("folder", ["helm-v3.19.0", "helm-v4.1.4"])
def test_cold_then_warm_run_starts_no_helm(tmp_path: Path, folder: str) -> None:
    ctx, helm = make_ctx(tmp_path, folder)
    chart = write_chart(ctx.repo / "charts", "web", "1.0.0")
    instances = [instance(chart, f"web{i}", greeting=f"hi {i}") for i in range(4)]
    cold = render_instances(ctx, instances, concurrency=2, helm=helm)
    assert [r.error for r in cold] == [None] * 4 and not any(r.cached for r in cold)
    assert 'greeting: "hi 3"' in (cold[3].manifest or "")
    assert "name: web3-web" in (cold[3].manifest or "")
    ctx2, helm2 = make_ctx(tmp_path, folder)
    warm = render_instances(ctx2, instances, concurrency=2, helm=helm2)
    assert all(r.cached for r in warm)
    assert [r.manifest for r in warm] == [r.manifest for r in cold]
    assert sum(ctx2.runner.started.values()) == 0
    cache = ctx.repo / ".helmkit" / "cache" / "render"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in cache.glob("*/*"))


def test_changes_miss_the_cache(tmp_path: Path) -> None:
    ctx, helm = make_ctx(tmp_path)
    chart = write_chart(ctx.repo / "charts", "web", "1.0.0")
    render_instances(ctx, [instance(chart)], helm=helm)
    changed_values = render_instances(ctx, [instance(chart, greeting="other")], helm=helm)[0]
    assert not changed_values.cached and "other" in (changed_values.manifest or "")
    (chart / "templates" / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n")
    ctx3, helm3 = make_ctx(tmp_path)
    changed_chart = render_instances(ctx3, [instance(chart)], helm=helm3)[0]
    assert not changed_chart.cached and "name: extra" in (changed_chart.manifest or "")
    other_ns = instance(chart)
    other_ns.namespace = "other"
    assert not render_instances(ctx3, [other_ns], helm=helm3)[0].cached


def test_kube_version_from_cluster_or_settings(tmp_path: Path) -> None:
    ctx, helm = make_ctx(tmp_path)
    chart = write_chart(ctx.repo / "charts", "kv", "1.0.0")
    (chart / "templates" / "kv.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kv}\n"
        "data: {kube: {{ .Capabilities.KubeVersion.Version }}}\n")
    default = render_instances(ctx, [instance(chart)], helm=helm)[0]
    assert "kube: v1.33.0" in (default.manifest or "")
    pinned = instance(chart, cluster="c2")
    pinned.cluster = Cluster("c2", "prod", "c2", kube_version="1.31.2")
    assert "kube: v1.31.2" in (render_instances(ctx, [pinned], helm=helm)[0].manifest or "")


def test_crds_of_the_cluster_become_api_versions(tmp_path: Path) -> None:
    ctx, helm = make_ctx(tmp_path)
    operator = write_chart(ctx.repo / "charts", "operator", "1.0.0")
    (operator / "crds").mkdir()
    (operator / "crds" / "widget.yaml").write_text(CRD)
    user = write_chart(ctx.repo / "charts", "user", "1.0.0")
    (user / "templates" / "widget.yaml").write_text(GUARDED)
    assert crd_api_versions(operator) == {"example.com/v1", "example.com/v1/Widget"}
    results = render_instances(ctx, [instance(operator, "op", "c1"), instance(user, "u", "c1"),
                                     instance(user, "u", "c2")], helm=helm)
    assert "kind: CustomResourceDefinition" in (results[0].manifest or "")  # --include-crds
    assert "kind: Widget" in (results[1].manifest or "")
    assert "kind: Widget" not in (results[2].manifest or "")  # no operator on c2


def test_failures_are_returned_per_instance(tmp_path: Path) -> None:
    ctx, helm = make_ctx(tmp_path)
    good = write_chart(ctx.repo / "charts", "good", "1.0.0")
    bad = write_chart(ctx.repo / "charts", "bad", "1.0.0")
    (bad / "templates" / "broken.yaml").write_text("{{ .Values.nope.deeper }}\n")
    missing = ctx.repo / "charts" / "missing"
    results = render_instances(ctx, [instance(good, "a"), instance(bad, "b"), instance(missing, "c")], helm=helm)
    assert results[0].error is None
    assert results[1].error is not None and "nil pointer" in results[1].error.render()
    assert isinstance(results[2].error, InputError) and "no Chart.yaml" in results[2].error.render()


def test_helm_version_outside_range_is_an_error(tmp_path: Path) -> None:
    ctx, helm = make_ctx(tmp_path, "helm-v3.19.0")
    (ctx.repo / "helmkit.yaml").write_text('helm: {version: ">=4.0.0"}\n')
    chart = write_chart(ctx.repo / "charts", "web", "1.0.0")
    with pytest.raises(Exception, match=r"helm v3.19.0 .* does not satisfy helm.version '>=4.0.0'"):
        render_instances(ctx, [instance(chart)], helm=helm)


def test_repository_chart_without_lock_says_run_lock(tmp_path: Path) -> None:
    ctx, helm = make_ctx(tmp_path)
    ref = ChartRef(repository="http://127.0.0.1:9/charts", repository_name="example", name="web", version="^1")
    inst = ReleaseInstance(env="prod", cluster=Cluster("c1", "prod", "c1"), name="web", namespace="web",
                           chart=ref, values={})
    result = render_instances(ctx, [inst], helm=helm)[0]
    assert isinstance(result.error, InputError)
    assert "not locked" in result.error.render() and "helmkit lock" in result.error.render()


def test_identical_inputs_on_several_clusters_render_once(tmp_path: Path) -> None:
    ctx, helm = make_ctx(tmp_path)
    chart = write_chart(ctx.repo / "charts", "web", "1.0.0")
    same = [instance(chart, "web", f"c{i}", greeting="same") for i in range(3)]
    different = instance(chart, "web", "c9", greeting="different")
    results = render_instances(ctx, [*same, different], concurrency=2, helm=helm)
    assert ctx.runner.started["helm"] == 2 + 1  # two renderings (+ `helm version` once)
    assert len({r.manifest for r in results[:3]}) == 1
    assert [r.cached for r in results] == [False, True, True, False]
    assert "different" in (results[3].manifest or "")


def test_helm_processes_collect_garbage_less_often_unless_the_user_says(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    ctx = Context(repo=tmp_path / "repo", helm_option=str(binary_path(REPO, "helm-v3.19.0")))
    assert helm_client(ctx).env["GOGC"] == "400"
    monkeypatch.setenv("GOGC", "100")
    client = helm_client(ctx)
    assert "GOGC" not in client.env  # the user's value reaches helm through the process environment
    assert client.runner.run(["sh", "-c", 'echo "$GOGC"'], env=client.env).stdout.strip() == "100"
