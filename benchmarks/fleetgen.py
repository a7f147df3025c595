"""Generate a fleet of any size: a helmkit repository and the same fleet as a helmfile.

:func:`generate_fleet` writes under ``dest`` a helmkit repository (``helmkit.yaml``, ``releases/``,
``environments/`` with cluster layers, ``charts/`` copied from this repository, ``schemas/``) and
``helmfile.yaml`` (helmfile 0.166) with the same release instances: one entry per (cluster,
release) with ``kubeContext``, ``namespace``, ``chart: ./charts/<chart>``, ``needs`` as
``<kubeContext>/<namespace>/<name>`` and ``values:`` files under ``helmfile-values/`` in helmkit's
layer order (release, environment, cluster; ``${cluster.name}``... resolved into the cluster's
file; ``ref+env://PAYMENTS_DB_PASSWORD`` as a ``requiredEnv`` in a ``.gotmpl`` file). Both describe
the same helm work (charts, values, namespaces, needs, kube version), so ``helmkit template`` and
``helmfile template --skip-deps`` compare like with like.

Each cluster gets ``releases_per_cluster`` releases: the example fleet's first (every prefix holds
the releases it needs), then ``svc-NNN`` services on ``web-service``. With ``heavy=True`` the fleet
weighs what a real one does: :mod:`heavychart` writes ``heavy-stack`` (megabytes of CRDs in the
chart's and its subchart's ``crds/``, dashboards, Capabilities-gated objects) and its releases
(``monitoring-stack``, a second log shipper, an exporter) come after the example ones.

Run ``python benchmarks/fleetgen.py DEST --releases-per-cluster 40 --clusters 20 --envs 1 [--heavy]``.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
KUBE_VERSION = "1.34.0"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1")
ENV_NAMES = ("prod", "staging", "dev", "qa", "perf", "sandbox")
SECRET_ENV = "PAYMENTS_DB_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
SECRET_REF = f"ref+env://{SECRET_ENV}"
HELMFILE_VALUES = "helmfile-values"

Values = dict[str, Any]


def sibling(name: str) -> ModuleType:
    """A module of this folder, loaded from its file (this one may be loaded the same way)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def heavychart() -> ModuleType:
    """:mod:`heavychart`: the heavy chart and its releases."""
    return sibling("heavychart")


_values = sibling("fleetvalues")
merge, interpolate, split_templated, _overlap = (_values.merge, _values.interpolate, _values.split_templated,
                                                 _values.overlap)


@dataclass(frozen=True)
class FleetInfo:
    """What :func:`generate_fleet` wrote."""

    root: Path  # the helmkit repository (also holds helmfile.yaml)
    helmfile: Path
    environments: tuple[str, ...]
    clusters: tuple[tuple[str, str], ...]  # (environment, cluster)
    releases: tuple[str, ...]  # release names, the same on every cluster
    instances: int  # release instances (all enabled) over the whole fleet
    kube_version: str = KUBE_VERSION
    secret_env: dict[str, str] = field(default_factory=dict)  # environment variables the fleet's secret references read


@dataclass(frozen=True)
class ClusterPlace:
    env: str
    name: str
    region: str
    index: int  # position in its environment; 0 is the canary

    def context(self, release: str, namespace: str) -> dict[str, str]:
        return {"env.name": self.env, "cluster.name": self.name, "cluster.region": self.region,
                "release.name": release, "release.namespace": namespace}


@dataclass(frozen=True)
class ReleaseBlueprint:
    """One release of the generated fleet and how its values differ per environment and cluster.

    ``values`` may hold ``${...}`` strings only at paths the environment layer never sets (checked),
    so that helmfile, which gets them resolved in the cluster's values file, layers them the same way.
    """

    name: str
    chart: str
    namespace: str
    labels: dict[str, str]
    needs: tuple[str, ...] = ()
    values: Values = field(default_factory=dict)
    env_values: Callable[[str], Values] = lambda env: {}
    cluster_values: Callable[[ClusterPlace], Values] = lambda place: {}


def _service_env(env: str) -> Values:
    return {"replicaCount": 3 if env == "prod" else 1, "app": {"env": {"ENVIRONMENT": env}}}


def _canary_tag(next_tag: str) -> Callable[[ClusterPlace], Values]:
    """The canary cluster (index 0) runs the next image tag with a fixed replica count (over the environment's)."""
    return lambda place: {"image": {"tag": next_tag}, "replicaCount": 2} if place.index == 0 else {}


EXAMPLE_RELEASES: tuple[ReleaseBlueprint, ...] = (
    ReleaseBlueprint(
        "cert-manager", "cert-manager", "cert-manager", {"tier": "platform", "team": "platform"},
        values={"replicaCount": 1, "clusterResourceNamespace": "cert-manager",
                "podAnnotations": {"example.com/cluster": "${cluster.name}"}},
        env_values=lambda env: {"replicaCount": 2 if env == "prod" else 1},
    ),
    ReleaseBlueprint(
        "cluster-issuer", "cluster-issuer", "cert-manager", {"tier": "platform", "team": "platform"},
        needs=("cert-manager",),
        values={"acme": {"email": "platform+${env.name}@example.com"}},
        env_values=lambda env: {"acme": {"server": "https://acme-v02.api.letsencrypt.org/directory"}}
        if env == "prod" else {},
    ),
    ReleaseBlueprint(
        "ingress-nginx", "ingress-nginx", "ingress-nginx", {"tier": "platform", "team": "networking"},
        needs=("cert-manager",),
        values={"controller": {"replicaCount": 2, "podAnnotations": {"example.com/cluster": "${cluster.name}"}},
                "defaultCertificate": {"enabled": True, "dnsNames": ["ingress.${cluster.name}.example.com"]}},
        env_values=lambda env: {"autoscaling": {"enabled": True, "minReplicas": 3}} if env == "prod"
        else {"controller": {"replicaCount": 1}, "podDisruptionBudget": {"enabled": False}},
    ),
    ReleaseBlueprint(
        "prometheus-operator", "prometheus-operator", "monitoring", {"tier": "platform", "team": "observability"},
        env_values=lambda env: {"logLevel": "info" if env == "prod" else "debug"},
    ),
    ReleaseBlueprint(
        "storefront", "web-service", "storefront", {"tier": "service", "team": "storefront"},
        needs=("ingress-nginx", "prometheus-operator"),
        values={"image": {"repository": "registry.example.com/shop/storefront", "tag": "3.14.0"},
                "app": {"env": {"REGION": "${cluster.region}"}},
                "ingress": {"hosts": ["storefront.${cluster.region}.${env.name}.example.com"]},
                "serviceMonitor": {"enabled": True}},
        env_values=_service_env,
        cluster_values=_canary_tag("3.15.0"),
    ),
    ReleaseBlueprint(
        "payments", "web-service", "payments", {"tier": "service", "team": "payments"},
        needs=("cert-manager", "ingress-nginx"),
        values={"image": {"repository": "registry.example.com/payments/api", "tag": "2.8.1"},
                "app": {"port": 9000, "healthPath": "/health/ready"},
                "ingress": {"hosts": ["pay.${cluster.region}.${env.name}.example.com"],
                            "tls": {"enabled": True}},
                "database": {"host": "payments-db.${cluster.region}.${env.name}.internal.example.com",
                             "name": "payments", "user": "payments_app", "password": SECRET_REF}},
        env_values=_service_env,
    ),
    ReleaseBlueprint(
        "external-dns", "external-dns", "external-dns", {"tier": "platform", "team": "networking"},
        values={"txtOwnerId": "${cluster.name}"},
        env_values=lambda env: {"policy": "sync" if env == "prod" else "upsert-only"},
        cluster_values=lambda place: {"domainFilters": [f"{place.region}.{place.env}.example.com"]},
    ),
    ReleaseBlueprint(
        "log-shipper", "log-shipper", "logging", {"tier": "platform", "team": "observability"},
        values={"output": {"host": "logs.${cluster.region}.example.com", "clusterTag": "${cluster.name}"}},
        env_values=lambda env: {"flushSeconds": 1 if env == "prod" else 5},
        cluster_values=lambda place: {"output": {"port": 24240}} if place.index == 1 else {},
    ),
)




def _extra_service(number: int, present: set[str], previous: str | None) -> ReleaseBlueprint:
    name = f"svc-{number:03d}"
    needs = [n for n in ("ingress-nginx",) if n in present]
    monitored = number % 3 == 0 and "prometheus-operator" in present
    if monitored:
        needs.append("prometheus-operator")
    if previous is not None and number % 4 == 0:
        needs.append(previous)  # some services call another one: deeper dependency chains
    tag = f"1.{number % 7}.0"
    return ReleaseBlueprint(
        name, "web-service", f"apps-{(number - 1) // 10:02d}", {"tier": "service", "team": f"team-{number % 5}"},
        needs=tuple(needs),
        values={"image": {"repository": f"registry.example.com/services/{name}", "tag": tag},
                "app": {"env": {"SERVICE": name, "REGION": "${cluster.region}"}},
                "ingress": {"hosts": [f"{name}.${{cluster.name}}.example.com"]},
                "serviceMonitor": {"enabled": monitored}},
        env_values=_service_env,
        cluster_values=_canary_tag(f"1.{number % 7}.1"),
    )


def blueprints(count: int, *, heavy: bool = False) -> list[ReleaseBlueprint]:
    """The first ``count`` releases of a generated cluster."""
    heavy_ones = tuple(ReleaseBlueprint(**fields) for fields in heavychart().RELEASES) if heavy else ()
    chosen = list((EXAMPLE_RELEASES + heavy_ones)[:count])
    present = {b.name for b in chosen}
    previous: str | None = None
    for number in range(1, count - len(chosen) + 1):
        service = _extra_service(number, present, previous)
        chosen.append(service)
        present.add(service.name)
        previous = service.name
    return chosen


def _secret_split(values: Values) -> tuple[Values, bool]:
    """Remove the payments secret reference (helmfile reads it in a .gotmpl file)."""
    database = values.get("database")
    if isinstance(database, dict) and database.get("password") == SECRET_REF:
        out = copy.deepcopy(values)
        del out["database"]["password"]
        return out, True
    return values, False


def _dump(path: Path, data: Any, schema: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    path.write_text(head + yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def _places(clusters: int, envs: int) -> list[ClusterPlace]:
    names = [ENV_NAMES[i] if i < len(ENV_NAMES) else f"env{i + 1}" for i in range(envs)]
    return [ClusterPlace(env, f"{env}-{REGIONS[k % len(REGIONS)]}-{k + 1:02d}", REGIONS[k % len(REGIONS)], k)
            for env in names for k in range(clusters)]


def generate_fleet(dest: Path, *, releases_per_cluster: int, clusters: int, envs: int = 1,
                   source: Path = REPO_ROOT, heavy: bool = False) -> FleetInfo:
    """Write a helmkit repository and the equivalent helmfile.yaml under ``dest`` (created if missing)."""
    if releases_per_cluster < 1 or clusters < 1 or envs < 1:
        raise ValueError("releases_per_cluster, clusters and envs must be at least 1")
    dest.mkdir(parents=True, exist_ok=True)
    for stale in ("releases", "environments", HELMFILE_VALUES):  # a smaller fleet must not keep old files
        shutil.rmtree(dest / stale, ignore_errors=True)
    shutil.copytree(source / "charts", dest / "charts", dirs_exist_ok=True)
    if heavy:
        heavychart().write_heavy_chart(dest / "charts")
    if (source / "schemas").is_dir():
        shutil.copytree(source / "schemas", dest / "schemas", dirs_exist_ok=True)
    chosen = blueprints(releases_per_cluster, heavy=heavy)
    places = _places(clusters, envs)
    env_names = list(dict.fromkeys(p.env for p in places))
    _dump(dest / "helmkit.yaml", {
        "helm": {"version": ">=3.19.0 <5.0.0"},
        "defaults": {"namespace": "default", "wait": True, "timeout": "5m", "atomic": True,
                     "createNamespace": True, "historyMax": 10},
        "concurrency": 4,
        "kubeVersion": KUBE_VERSION,
    }, "schemas/helmkit.schema.json")
    for bp in chosen:
        static, templated = split_templated(bp.values)
        for env in env_names:
            clash = _overlap(templated, bp.env_values(env))
            if clash:
                raise ValueError(f"{bp.name}: the {env} layer sets {clash}, which the base interpolates")
        release: Values = {"chart": {"path": f"charts/{bp.chart}"}, "namespace": bp.namespace}
        if bp.needs:
            release["needs"] = list(bp.needs)
        release["labels"] = dict(bp.labels)
        release["values"] = bp.values
        _dump(dest / "releases" / f"{bp.name}.yaml", release, "../schemas/release.schema.json")
        base, _ = _secret_split(static)
        _dump(dest / HELMFILE_VALUES / "base" / f"{bp.name}.yaml", base)
    for env in env_names:
        env_places = [p for p in places if p.env == env]
        overrides = {bp.name: {"values": v} for bp in chosen if (v := bp.env_values(env))}
        _dump(dest / "environments" / f"{env}.yaml", {
            "name": env,
            "kubeVersion": KUBE_VERSION,
            "clusters": [{"name": p.name, "context": p.name, "region": p.region, "wave": min(p.index, 2)}
                         for p in env_places],
            "releases": overrides,
        }, "../schemas/environment.schema.json")
        for name, override in overrides.items():
            _dump(dest / HELMFILE_VALUES / env / f"{name}.yaml", override["values"])
        for place in env_places:
            layer = {bp.name: {"values": v} for bp in chosen if (v := bp.cluster_values(place))}
            if layer:
                _dump(dest / "environments" / env / "clusters" / f"{place.name}.yaml", {"releases": layer},
                      "../../../schemas/cluster.schema.json")
    helmfile = _write_helmfile(dest, chosen, places)
    return FleetInfo(
        root=dest, helmfile=helmfile, environments=tuple(env_names),
        clusters=tuple((p.env, p.name) for p in places), releases=tuple(bp.name for bp in chosen),
        instances=len(chosen) * len(places),
        secret_env={SECRET_ENV: "fleetgen-payments-password"} if any(b.name == "payments" for b in chosen) else {},
    )


def _write_helmfile(dest: Path, chosen: list[ReleaseBlueprint], places: list[ClusterPlace]) -> Path:
    namespaces = {bp.name: bp.namespace for bp in chosen}
    secret_file = f"{HELMFILE_VALUES}/secrets/payments.yaml.gotmpl"
    entries: list[Values] = []
    for place in places:
        for bp in chosen:
            _, templated = split_templated(bp.values)
            files = [f"{HELMFILE_VALUES}/base/{bp.name}.yaml"]
            if bp.env_values(place.env):
                files.append(f"{HELMFILE_VALUES}/{place.env}/{bp.name}.yaml")
            cluster_values = merge(interpolate(templated, place.context(bp.name, bp.namespace)),
                                   bp.cluster_values(place))
            if cluster_values:
                rel = f"{HELMFILE_VALUES}/{place.env}/{place.name}/{bp.name}.yaml"
                _dump(dest / rel, cluster_values)
                files.append(rel)
            if _secret_split(bp.values)[1]:
                files.append(secret_file)
            entry: Values = {
                "name": bp.name,
                "namespace": bp.namespace,
                "chart": f"./charts/{bp.chart}",
                "kubeContext": place.name,
                "labels": {**bp.labels, "env": place.env, "cluster": place.name},
                "values": files,
            }
            if bp.needs:
                entry["needs"] = [f"{place.name}/{namespaces[n]}/{n}" for n in bp.needs]
            entries.append(entry)
    if any(_secret_split(bp.values)[1] for bp in chosen):
        path = dest / secret_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'database:\n  password: {{{{ requiredEnv "{SECRET_ENV}" | quote }}}}\n')
    helmfile = dest / "helmfile.yaml"
    _dump(helmfile, {
        "helmDefaults": {"wait": True, "timeout": 300, "atomic": True, "createNamespace": True,
                         "historyMax": 10},
        "kubeVersion": KUBE_VERSION,
        "releases": entries,
    })
    return helmfile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--releases-per-cluster", type=int, default=len(EXAMPLE_RELEASES))
    parser.add_argument("--clusters", type=int, default=4, help="clusters of each environment")
    parser.add_argument("--envs", type=int, default=1)
    parser.add_argument("--heavy", action="store_true", help="add the heavy chart and its releases")
    args = parser.parse_args()
    info = generate_fleet(args.dest, releases_per_cluster=args.releases_per_cluster, clusters=args.clusters,
                          envs=args.envs, heavy=args.heavy)
    print(f"{info.instances} release instances on {len(info.clusters)} clusters in {info.root}")
    print(f"helmfile: {info.helmfile}")
    for name in info.secret_env:
        print(f"needs the environment variable {name}")


if __name__ == "__main__":
    main()
