"""helmkit import's layering: each field in the lowest layer where the instances below it agree."""

from __future__ import annotations

from typing import Any

from helmkit.model.helmfile_import.layout import Placed, compose_values, layer_release
from helmkit.model.helmfile_import.state import discover_environments

DEFAULTS = {"namespace": "default", "enabled": True, "wait": False}
CLUSTERS = {"dev": ["dev"], "prod": ["eu", "us"]}
CHART = {"path": "charts/app"}


def placed(env: str, cluster: str, values: dict[str, Any] | None = None, **fields: Any) -> Placed:
    return Placed(env, cluster, "web", {"chart": CHART, "namespace": "web", "enabled": True, "wait": False,
                                        **fields}, ["values/web.yaml"], values or {})


def test_fields_every_instance_shares_go_to_the_base_without_defaults() -> None:
    base, envs, clusters = layer_release(
        [placed("dev", "dev"), placed("prod", "eu"), placed("prod", "us")], CLUSTERS, DEFAULTS)
    assert base == {"name": "web", "chart": CHART, "namespace": "web", "valuesFiles": ["values/web.yaml"]}
    assert envs == {} and clusters == {}


def test_an_environment_difference_goes_to_the_environment_layer() -> None:
    base, envs, clusters = layer_release(
        [placed("dev", "dev", {"replicas": 1}), placed("prod", "eu", {"replicas": 3}),
         placed("prod", "us", {"replicas": 3})], CLUSTERS, DEFAULTS)
    assert "values" not in base and "valuesFiles" not in base
    assert envs == {"dev": {"valuesFiles": ["values/web.yaml"], "values": {"replicas": 1}},
                    "prod": {"valuesFiles": ["values/web.yaml"], "values": {"replicas": 3}}}
    assert clusters == {}


def test_a_cluster_difference_goes_to_the_cluster_layer() -> None:
    base, envs, clusters = layer_release(
        [placed("dev", "dev"), placed("prod", "eu", wait=True), placed("prod", "us")], CLUSTERS, DEFAULTS)
    assert "wait" not in base
    assert envs == {"dev": {"wait": False}}
    assert clusters == {("prod", "eu"): {"wait": True}, ("prod", "us"): {"wait": False}}


def test_a_release_missing_from_an_environment_or_cluster_is_disabled_there() -> None:
    base, envs, clusters = layer_release([placed("prod", "eu")], CLUSTERS, DEFAULTS)
    assert envs == {"dev": {"enabled": False}}
    assert clusters == {("prod", "us"): {"enabled": False}}
    assert "enabled" not in base


def test_a_chart_that_differs_replaces_the_base_chart() -> None:
    other = {"repository": "example", "name": "web", "version": "1.0.0"}
    base, envs, _ = layer_release(
        [placed("dev", "dev"), placed("prod", "eu", chart=other), placed("prod", "us", chart=other)],
        CLUSTERS, DEFAULTS)
    assert base["chart"] == CHART
    assert envs["prod"]["chart"] == {"path": None, **other}
    assert envs["dev"]["chart"] == CHART


def test_values_keep_helmfile_order() -> None:
    written: list[tuple[int, dict[str, Any]]] = []

    def as_file(position: int, data: dict[str, Any]) -> str:
        written.append((position, data))
        return f"inline-{position}.yaml"

    files, inline = compose_values(["a.yaml", {"x": 1}, "b.yaml", {"y": {"z": 1}}, {"y": {"w": 2}}],
                                   [{"y": {"z": 5}}, {"image": {"tag": "1.2"}}], as_file)
    assert files == ["a.yaml", "inline-1.yaml", "b.yaml"]
    assert written == [(1, {"x": 1})]
    assert inline == {"y": {"z": 5, "w": 2}, "image": {"tag": "1.2"}}


def test_environments_are_read_from_the_helmfile_text() -> None:
    text = ("environments:\n  dev:\n    values: [a.yaml]\n  {{ if true }}\n  prod:\n    kubeContext: p\n"
            "  {{ end }}\n---\nreleases: []\n")
    assert discover_environments(text) == ("dev", "prod")
    assert discover_environments("releases: []\n") == ()
