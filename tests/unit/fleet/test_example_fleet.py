"""The example fleet at the repository top level: schema-valid files, consistent references, and
charts that real helm 3 and helm 4 lint cleanly and render identically without a cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from helmkit.adapters.tools import binary_path

REPO = Path(__file__).resolve().parents[3]
MAJORS = ("helm-v3.19.0", "helm-v4.1.4")
KUBE_VERSION = "1.34.0"
CHART_KINDS = {
    "cert-manager": {"CustomResourceDefinition": 3, "Deployment": 1, "ServiceAccount": 1, "ClusterRole": 1,
                     "ClusterRoleBinding": 1, "Service": 1},
    "cluster-issuer": {"ClusterIssuer": 2},
    "ingress-nginx": {"Deployment": 1, "Service": 1, "IngressClass": 1, "ConfigMap": 1, "ServiceAccount": 1,
                      "ClusterRole": 1, "ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1,
                      "PodDisruptionBudget": 1},
    "external-dns": {"Deployment": 1, "ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1},
    "prometheus-operator": {"CustomResourceDefinition": 2, "Deployment": 1, "ServiceAccount": 1, "ClusterRole": 1,
                            "ClusterRoleBinding": 1, "Service": 1},
    "log-shipper": {"DaemonSet": 1, "ConfigMap": 1, "ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1},
    "web-service": {"Deployment": 1, "Service": 1, "PodDisruptionBudget": 1},
}
# Values that switch on every optional object of a chart.
ALL_ON = {
    "ingress-nginx": ["autoscaling.enabled=true", "defaultCertificate.enabled=true",
                      "defaultCertificate.dnsNames[0]=ingress.example.com"],
    "web-service": ["autoscaling.enabled=true", "serviceMonitor.enabled=true", "database.password=not-a-real-one",
                    "ingress.hosts[0]=shop.example.com", "ingress.tls.enabled=true"],
}
ALL_ON_EXTRA = {"ingress-nginx": {"HorizontalPodAutoscaler": 1, "Certificate": 1},
                "web-service": {"HorizontalPodAutoscaler": 1, "ServiceMonitor": 1, "Secret": 1, "Ingress": 1}}


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def fleet_files() -> dict[Path, str]:
    files = {REPO / "helmkit.yaml": "helmkit.schema.json"}
    files |= {p: "release.schema.json" for p in sorted((REPO / "releases").glob("*.yaml"))}
    files |= {p: "environment.schema.json" for p in sorted((REPO / "environments").glob("*.yaml"))}
    files |= {p: "cluster.schema.json" for p in sorted((REPO / "environments").glob("*/clusters/*.yaml"))}
    return files


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("helmhome")
    env = dict(os.environ)
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        env[key] = str(home / key.lower())
    return env


def helm(major: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary_path(REPO, major)), *args], check=False, capture_output=True, text=True, env=env,
                          timeout=60)


def kinds(manifest: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in yaml.safe_load_all(manifest):
        if doc:
            counts[doc["kind"]] = counts.get(doc["kind"], 0) + 1
    return counts


def test_the_fleet_has_the_documented_shape() -> None:
    assert sorted(p.stem for p in (REPO / "releases").glob("*.yaml")) == sorted([
        "cert-manager", "cluster-issuer", "ingress-nginx", "external-dns", "prometheus-operator", "log-shipper",
        "storefront", "payments"])
    clusters = {p.stem: [c["name"] for c in read(p)["clusters"]] for p in (REPO / "environments").glob("*.yaml")}
    assert {env: len(names) for env, names in clusters.items()} == {"dev": 1, "staging": 2, "prod": 4}
    assert sorted(p.name for p in (REPO / "charts").iterdir()) == sorted(CHART_KINDS)


def test_every_file_is_schema_valid_and_names_its_schema() -> None:
    schemas = {p.name: json.loads(p.read_text()) for p in (REPO / "schemas").glob("*.schema.json")}
    registry: Registry = Registry().with_resources(
        (name, Resource.from_contents(schema)) for name, schema in schemas.items())
    for path, kind in fleet_files().items():
        validator = jsonschema.Draft202012Validator(schemas[kind], registry=registry)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(read(path))]
        assert errors == [], (path, errors)
        first = path.read_text().splitlines()[0]
        expected = os.path.relpath(REPO / "schemas" / kind, path.parent)
        assert first == f"# yaml-language-server: $schema={expected}", path


def test_references_between_files_resolve() -> None:
    releases = {p.stem: read(p) for p in (REPO / "releases").glob("*.yaml")}
    for name, release in releases.items():
        assert (REPO / release["chart"]["path"] / "Chart.yaml").is_file(), name
        for file in release.get("valuesFiles", []):
            assert (REPO / file).is_file(), (name, file)
        assert set(release.get("needs", [])) <= set(releases), name
    for env_file in (REPO / "environments").glob("*.yaml"):
        env = read(env_file)
        cluster_names = {c["name"] for c in env["clusters"]}
        layers = {env_file.stem: env} | {
            p.stem: read(p) for p in (REPO / "environments" / env_file.stem).glob("clusters/*.yaml")}
        for layer_name, layer in layers.items():
            assert layer_name == env_file.stem or layer_name in cluster_names, layer_name
            for release, override in (layer.get("releases") or {}).items():
                assert release in releases, (layer_name, release)
                for file in override.get("valuesFiles", []):
                    assert (REPO / file).is_file(), (layer_name, file)
                assert set(override.get("needs", [])) <= set(releases)


def test_needs_form_no_cycle() -> None:
    needs = {p.stem: read(p).get("needs", []) for p in (REPO / "releases").glob("*.yaml")}
    done: set[str] = set()
    while len(done) < len(needs):
        ready = {n for n, deps in needs.items() if n not in done and set(deps) <= done}
        assert ready, f"cycle among {sorted(set(needs) - done)}"
        done |= ready


def test_no_literal_secret_in_the_fleet() -> None:
    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key.lower() in {"password", "token", "secret"} and isinstance(child, str):
                    assert child.startswith(("ref+env://", "ref+file://")), f"{path}/{key}"
                walk(child, f"{path}/{key}")
        elif isinstance(value, list):
            for child in value:
                walk(child, path)
    for path in [*fleet_files(), *(REPO / "values").rglob("*.yaml")]:
        walk(read(path), str(path.relative_to(REPO)))


def test_charts_lint_clean_and_render_the_same_with_both_majors(helm_env: dict[str, str]) -> None:
    jobs = []
    for chart in CHART_KINDS:
        for flags, extra in (([], {}), ([a for s in ALL_ON.get(chart, []) for a in ("--set", s)],
                                        ALL_ON_EXTRA.get(chart, {}))):
            for major in MAJORS:
                jobs.append((chart, flags, extra, major))

    def run(job: tuple[str, list[str], dict[str, int], str]) -> tuple[str, str]:
        chart, flags, _, major = job
        path = str(REPO / "charts" / chart)
        if not flags:  # lint the chart as shipped: no errors, warnings or notes
            lint = helm(major, ["lint", "--strict", path, "--kube-version", KUBE_VERSION], helm_env)
            assert lint.returncode == 0 and "[" not in lint.stdout, (major, chart, lint.stdout, lint.stderr)
        out = helm(major, ["template", chart, path, "-n", "example", "--kube-version", KUBE_VERSION, *flags], helm_env)
        assert out.returncode == 0, (major, chart, out.stderr)
        return chart, out.stdout

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, jobs))
    for index in range(0, len(jobs), 2):
        chart, flags, extra, _ = jobs[index]
        helm3, helm4 = results[index][1], results[index + 1][1]
        assert helm3 == helm4, chart
        expected = {**CHART_KINDS[chart], **extra}
        assert kinds(helm3) == expected, (chart, flags)
        assert "\n \n" not in helm3 and not any(line != line.rstrip() for line in helm3.splitlines()), chart


def test_web_service_values_schema_is_enforced_by_helm(helm_env: dict[str, str]) -> None:
    schema = json.loads((REPO / "charts" / "web-service" / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    defaults = read(REPO / "charts" / "web-service" / "values.yaml")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(defaults)) == []
    for major in MAJORS:
        bad = helm(major, ["template", "x", str(REPO / "charts" / "web-service"), "--set", "replicaCount=-1",
                           "--set", "app.port=http", "--set", "ingress.hostz[0]=typo.example.com"], helm_env)
        assert bad.returncode != 0
        for needle in ("replicaCount", "app/port", "hostz"):
            assert needle in bad.stderr, (major, needle, bad.stderr)


def test_helmkit_validate_accepts_the_example_fleet(helm_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "helmkit", "--repo", str(REPO), "validate", "--no-render"],
                          check=False, capture_output=True, text=True, env=helm_env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "53 release instances in 3 environments" in proc.stdout
