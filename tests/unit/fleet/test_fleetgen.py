"""The benchmark fleet generator: a valid helmkit repository and a helmfile of the same work.

The equivalence check lets real helm merge both sides: for each instance, helm renders the chart
once with helmkit's layers (base values interpolated for the cluster, environment override,
cluster override) and once with the helmfile entry's values files; the manifests must be equal.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from helmkit.adapters.tools import binary_path
from helmkit.errors import Problem
from helmkit.model.interpolation import interpolate_values

REPO = Path(__file__).resolve().parents[3]
SECRET = "canary-fleetgen-secret"


def load_fleetgen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fleetgen", REPO / "benchmarks" / "fleetgen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fleetgen"] = module
    spec.loader.exec_module(module)
    return module


fleetgen = load_fleetgen()


def schema_validators() -> dict[str, jsonschema.Draft202012Validator]:
    schemas = {p.name: json.loads(p.read_text()) for p in (REPO / "schemas").glob("*.schema.json")}
    registry: Registry = Registry().with_resources(
        (name, Resource.from_contents(schema)) for name, schema in schemas.items())
    return {name: jsonschema.Draft202012Validator(schema, registry=registry) for name, schema in schemas.items()}


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def helm_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        env[key] = str(tmp_path / "helmhome" / key.lower())
    return env


def test_sizes_names_and_schema_valid_files(tmp_path: Path) -> None:
    info = fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=11, clusters=3, envs=2)
    root = info.root
    assert info.instances == 11 * 3 * 2
    assert info.environments == ("prod", "staging")
    assert len(info.clusters) == 6 and len({c for _, c in info.clusters}) == 6
    assert info.releases[:8] == tuple(b.name for b in fleetgen.EXAMPLE_RELEASES)
    assert info.releases[8:] == ("svc-001", "svc-002", "svc-003")
    assert info.secret_env == {"PAYMENTS_DB_PASSWORD": info.secret_env["PAYMENTS_DB_PASSWORD"]}
    assert sorted(p.name for p in (root / "charts").iterdir()) == sorted(
        p.name for p in (REPO / "charts").iterdir())

    validators = schema_validators()
    kinds = {"helmkit.yaml": "helmkit.schema.json"}
    kinds |= {str(p.relative_to(root)): "release.schema.json" for p in (root / "releases").glob("*.yaml")}
    kinds |= {str(p.relative_to(root)): "environment.schema.json" for p in (root / "environments").glob("*.yaml")}
    kinds |= {str(p.relative_to(root)): "cluster.schema.json" for p in (root / "environments").glob("*/clusters/*")}
    for rel, kind in kinds.items():
        path = root / rel
        errors = [e.message for e in validators[kind].iter_errors(read(path))]
        assert errors == [], (rel, errors)
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        assert (path.parent / first.split("=", 1)[1]).resolve() == (root / "schemas" / kind).resolve()

    releases = {p.stem: read(p) for p in (root / "releases").glob("*.yaml")}
    assert set(releases) == set(info.releases)
    for name, release in releases.items():
        assert set(release.get("needs", [])) <= set(releases), name
    assert releases["payments"]["values"]["database"]["password"] == "ref+env://PAYMENTS_DB_PASSWORD"
    assert releases["svc-003"]["needs"] == ["ingress-nginx", "prometheus-operator"]
    assert releases["svc-003"]["values"]["serviceMonitor"] == {"enabled": True}
    prod = read(root / "environments" / "prod.yaml")
    assert [c["wave"] for c in prod["clusters"]] == [0, 1, 2]


def test_helmfile_lists_every_instance_with_resolvable_needs(tmp_path: Path) -> None:
    info = fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=13, clusters=2, envs=1)
    entries = read(info.helmfile)["releases"]
    assert len(entries) == info.instances == 26
    ids = {f"{e['kubeContext']}/{e['namespace']}/{e['name']}" for e in entries}
    assert len(ids) == len(entries)
    for entry in entries:
        assert entry["chart"].startswith("./charts/") and (info.root / entry["chart"]).is_dir()
        for need in entry.get("needs", []):
            assert need in ids and need.startswith(entry["kubeContext"] + "/")
        for values in entry["values"]:
            assert (info.root / values).is_file()
        assert entry["labels"]["cluster"] == entry["kubeContext"]
    text = "\n".join(p.read_text() for p in (info.root / fleetgen.HELMFILE_VALUES).rglob("*") if p.is_file())
    assert "${" not in text and "ref+env://" not in text
    assert 'requiredEnv "PAYMENTS_DB_PASSWORD"' in text
    svc4 = next(e for e in entries if e["name"] == "svc-004")
    assert svc4["needs"][-1] == f"{svc4['kubeContext']}/apps-00/svc-003"


def test_one_release_is_generated_without_needs(tmp_path: Path) -> None:
    fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=9, clusters=2, envs=2)
    info = fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=1, clusters=1)
    assert info.releases == ("cert-manager",) and info.instances == 1 and info.secret_env == {}
    written = sorted(str(p.relative_to(info.root)) for p in info.root.rglob("*")
                     if p.is_file() and p.parts[len(info.root.parts)] not in {"charts", "schemas"})
    assert written == ["environments/prod.yaml", "helmfile-values/base/cert-manager.yaml",
                       "helmfile-values/prod/cert-manager.yaml",
                       "helmfile-values/prod/prod-us-east-1-01/cert-manager.yaml",  # the interpolated annotation
                       "helmfile.yaml", "helmkit.yaml", "releases/cert-manager.yaml"]
    assert read(info.helmfile)["releases"][0].get("needs") is None
    with pytest.raises(ValueError, match="at least 1"):
        fleetgen.generate_fleet(tmp_path / "other", releases_per_cluster=0, clusters=1)



def render_both_sides(info: Any, tmp_path: Path, only: set[str] | None = None) -> dict[str, tuple[str, str]]:
    """instance -> (helm template with helmkit's layers, with the helmfile entry's values files)."""
    root, work = info.root, tmp_path / "values"
    work.mkdir()
    helm = str(binary_path(REPO, "helm-v3.19.0"))
    env = helm_env(tmp_path)
    secret_file = work / "secret.yaml"
    secret_file.write_text(yaml.safe_dump({"database": {"password": SECRET}}))
    releases = {p.stem: read(p) for p in (root / "releases").glob("*.yaml")}
    jobs: list[tuple[str, list[str], list[str]]] = []
    for entry in read(info.helmfile)["releases"]:
        name, cluster = entry["name"], entry["kubeContext"]
        if only is not None and name not in only:
            continue
        env_name = entry["labels"]["env"]
        environment = read(root / "environments" / f"{env_name}.yaml")
        place = next(c for c in environment["clusters"] if c["name"] == cluster)
        context = {"env.name": env_name, "cluster.name": cluster, "cluster.region": place["region"],
                   "release.name": name, "release.namespace": releases[name]["namespace"]}
        problems: list[Problem] = []
        base = copy.deepcopy(interpolate_values(releases[name]["values"], context, lambda path: None, problems))
        assert problems == []
        if base.get("database", {}).get("password") == "ref+env://PAYMENTS_DB_PASSWORD":
            base["database"]["password"] = SECRET
        layer_path = root / "environments" / env_name / "clusters" / f"{cluster}.yaml"
        cluster_layer = (read(layer_path) if layer_path.exists() else {}).get("releases") or {}
        layers = [base, (environment.get("releases") or {}).get(name, {}).get("values", {}),
                  cluster_layer.get(name, {}).get("values", {})]
        helmkit_files = []
        for index, layer in enumerate(layers):
            path = work / f"{cluster}-{name}-{index}.yaml"
            path.write_text(yaml.safe_dump(layer))
            helmkit_files.append(str(path))
        helmfile_files = [str(secret_file) if v.endswith(".gotmpl") else str(root / v) for v in entry["values"]]
        chart = ["template", name, str(root / entry["chart"]), "-n", entry["namespace"], "--kube-version",
                 info.kube_version]
        jobs.append((f"{cluster}/{name}", chart + [a for f in helmkit_files for a in ("-f", f)],
                     chart + [a for f in helmfile_files for a in ("-f", f)]))

    def render(argv: list[str]) -> str:
        proc = subprocess.run([helm, *argv], check=False, capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    with ThreadPoolExecutor(2) as pool:
        helmkit_side = list(pool.map(render, [j[1] for j in jobs]))
        helmfile_side = list(pool.map(render, [j[2] for j in jobs]))
    return {job[0]: (mine, theirs) for job, mine, theirs in zip(jobs, helmkit_side, helmfile_side, strict=True)}


def test_helm_renders_the_same_manifests_from_both_sides(tmp_path: Path) -> None:
    info = fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=9, clusters=1, envs=2)
    rendered = render_both_sides(info, tmp_path)
    assert len(rendered) == 18
    for what, (mine, theirs) in rendered.items():
        assert mine == theirs, what
        assert "${" not in mine, what
    storefront = rendered["prod-us-east-1-01/storefront"][0]
    assert "kind: ServiceMonitor" in storefront and "storefront:3.15.0" in storefront  # the canary's tag


def test_helmkit_validate_accepts_the_generated_fleet(tmp_path: Path) -> None:
    info = fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=12, clusters=2, envs=2)
    proc = subprocess.run([sys.executable, "-m", "helmkit", "--repo", str(info.root), "validate", "--no-render"],
                          check=False, capture_output=True, text=True, env=helm_env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{info.instances} release instances in 2 environments" in proc.stdout


def test_the_heavy_fleet_weighs_what_a_real_one_does(tmp_path: Path) -> None:
    info = fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=11, clusters=4, heavy=True)
    assert info.instances == 44
    assert info.releases[8:] == ("monitoring-stack", "log-aggregator", "blackbox-exporter")
    assert {c.split("-", 1)[1].rsplit("-", 1)[0] for _, c in info.clusters} == set(fleetgen.REGIONS)
    chart = info.root / "charts" / "heavy-stack"
    crds = sorted(chart.glob("crds/*.yaml")) + sorted(chart.glob("charts/*/crds/*.yaml"))
    assert len(crds) >= 8 and len(list(chart.glob("charts/*/crds/*.yaml"))) >= 3
    assert sum(p.stat().st_size for p in crds) >= 3_000_000
    assert sum(1 for p in crds if p.read_text().startswith("#") and "\n---\n" in p.read_text()[:400]) >= 3
    templates = [p for p in chart.rglob("templates/*.yaml")]
    assert len(templates) >= 50
    gated = [p for p in templates if '.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"' in p.read_text()]
    assert any("charts" in p.relative_to(chart).parts for p in gated) and len(gated) >= 10
    for crd in crds:
        docs = [d for d in yaml.safe_load_all(crd.read_text()) if d]
        assert [d["kind"] for d in docs] == ["CustomResourceDefinition"], crd
        schema = docs[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        assert "enum" in json.dumps(schema) and _depth(schema) >= 6, crd

    helm = str(binary_path(REPO, "helm-v3.19.0"))
    base = [helm, "template", "stack", str(chart), "-n", "mon", "--kube-version", info.kube_version]
    plain = subprocess.run(base, check=True, capture_output=True, text=True, env=helm_env(tmp_path), timeout=60)
    served = subprocess.run([*base, "--api-versions", "monitoring.coreos.com/v1"], check=True, capture_output=True,
                            text=True, env=helm_env(tmp_path), timeout=60)
    kinds_plain, kinds_served = kinds(plain.stdout), kinds(served.stdout)
    assert "ServiceMonitor" not in kinds_plain and kinds_served["ServiceMonitor"] >= 10
    assert kinds_served["PrometheusRule"] >= 5
    assert len(plain.stdout) >= 2_000_000  # dashboards: megabytes of JSON in ConfigMaps
    dashboards = [d for d in yaml.safe_load_all(plain.stdout) if d and "grafana_dashboard" in d["metadata"]["labels"]]
    assert len(dashboards) >= 8
    board = json.loads(next(iter(dashboards[0]["data"].values())))
    assert "{{namespace}}/{{pod}}" in json.dumps(board)  # the escaped legend comes out literally
    config = next(d for d in yaml.safe_load_all(plain.stdout) if d and d["metadata"]["name"].endswith("grafana-config"))
    assert config["data"]["config.yaml"].count("\n") >= 20  # a multi-line config file


def test_the_heavy_releases_render_the_same_from_both_sides(tmp_path: Path) -> None:
    info = fleetgen.generate_fleet(tmp_path / "fleet", releases_per_cluster=11, clusters=2, heavy=True)
    rendered = render_both_sides(info, tmp_path, only={"monitoring-stack", "log-aggregator", "blackbox-exporter"})
    assert len(rendered) == 6
    for what, (mine, theirs) in rendered.items():
        assert mine == theirs, what
    stack = rendered["prod-us-east-1-01/monitoring-stack"][0]
    assert "--log.level=debug" in stack and "prod-us-east-1-01" in stack  # canary layer, interpolated value


def _depth(schema: Any) -> int:
    children = list((schema.get("properties") or {}).values()) + ([schema["items"]] if "items" in schema else [])
    return 1 + max((_depth(c) for c in children), default=0)


def kinds(manifest: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in yaml.safe_load_all(manifest):
        if doc:
            counts[doc["kind"]] = counts.get(doc["kind"], 0) + 1
    return counts
