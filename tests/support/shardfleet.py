"""A big sandbox fleet for sharding tests and benchmarks, seeded fast and honestly.

``K`` clusters x ``R`` releases of a four-object chart (ConfigMap, Secret, Service, Deployment)
in one sandbox process. Real helm installs the first release on the first cluster once; every
other release on every cluster is a copy of that real release record (helm's storage format:
base64 of gzip of the release JSON in a ``helm.sh/release.v1`` Secret, written with
:func:`helmkit.adapters.helmstorage.encode_release`) and of its live objects under the new name,
created through the API. Installing 4000 releases with helm would take an hour; what drift reads
(records and live objects) is the same.

:func:`plant_drifts` then makes a few deliberate drifts on clusters spread over the fleet: a hand
scale (live drift), a deleted ConfigMap (live drift), a deleted release record (missing), an
orphan record (installed by helmkit, gone from git) and a failed release (unhealthy).
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helmkit.adapters.helmstorage import encode_release
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import KubeconfigFiles, load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.plan.manifests import parse_manifest

NS = "shop"
ENV = "fleet"
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    "values.yaml": "replicas: 1\ngreeting: hi\n",
    "templates/all.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-db\nstringData:\n  password: pw\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  selector: {app: {{ .Release.Name }}}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n"
        "  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n    spec:\n      containers:\n"
        "      - name: app\n        image: nginx:1.27\n"),
}


def cluster_names(count: int) -> list[str]:
    return [f"c{i:03d}" for i in range(count)]


def release_names(count: int) -> list[str]:
    return [f"svc-{i:02d}" for i in range(count)]


def write_repo(root: Path, clusters: list[str], releases: int, *, waves: int = 3) -> Path:
    """The release repository: one env, ``clusters`` spread over ``waves`` waves, ``releases`` releases."""
    (root / "releases").mkdir(parents=True, exist_ok=True)
    (root / "environments").mkdir(exist_ok=True)
    (root / "helmkit.yaml").write_text(yaml.safe_dump({
        "helm": {"version": ">=3.19.0 <5.0.0"}, "kubeVersion": "1.34.0",
        "defaults": {"namespace": NS, "wait": False, "atomic": False}}))
    for name in release_names(releases):
        (root / "releases" / f"{name}.yaml").write_text(yaml.safe_dump(
            {"chart": {"path": "charts/shop"}, "values": {"greeting": "hello"}}))
    (root / "environments" / f"{ENV}.yaml").write_text(yaml.safe_dump({"clusters": [
        {"name": name, "region": "r1", "wave": min(index * waves // len(clusters), waves - 1)}
        for index, name in enumerate(clusters)]}))
    chart = root / "charts" / "shop"
    for rel, text in CHART.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    return root


def marker(cluster: str) -> dict[str, str]:
    return {"helmkit.dev/managed": "true", "helmkit.dev/env": ENV, "helmkit.dev/cluster": cluster}


@dataclass
class Template:
    """The real release of ``svc-00`` as helm wrote it."""

    release: dict[str, Any]


def install_template(repo: Path, helm: Path, kubeconfig: Path, cluster: str, env: dict[str, str]) -> Template:
    """``helm upgrade --install svc-00`` on ``cluster`` (real helm); its record, decoded."""
    labels = ",".join(f"{k}={v}" for k, v in marker(cluster).items())
    Runner(base_env={**os.environ, **env}).run(
        [str(helm), "upgrade", "--install", "svc-00", str(repo / "charts" / "shop"), "-n", NS, "--create-namespace",
         "--set", "greeting=hello", "--labels", labels, "--kube-context", cluster, "--kubeconfig", str(kubeconfig)],
        timeout=180)
    with client_for(cluster, kubeconfig) as client:
        (secret,) = client.list("v1", "secrets", namespace=NS, label_selector="owner=helm")
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    return Template(json.loads(gzip.decompress(raw)))


def client_for(cluster: str, kubeconfig: Path, files: KubeconfigFiles | None = None) -> KubeClient:
    return KubeClient(load_cluster_config(cluster, Runner(), kubeconfig=kubeconfig, files=files))


def record(template: Template, cluster: str, name: str, *, status: str = "deployed",
           revision: int = 1) -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of the template's record as release ``name`` of ``cluster`` (Secret, release JSON)."""
    doc = template.release
    source = doc["name"]
    release = copy.deepcopy(doc)
    release["name"] = name
    release["version"] = revision
    release["manifest"] = doc["manifest"].replace(source, name)
    release.setdefault("info", {})["status"] = status
    labels = {"owner": "helm", "name": name, "status": status, "version": str(revision), **marker(cluster)}
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
              "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": NS, "labels": labels},
              "data": {"release": base64.b64encode(encode_release(release).encode()).decode()}}
    return secret, release


def seed_cluster(client: KubeClient, template: Template, cluster: str, names: list[str]) -> None:
    """The records and live objects of ``names`` on one cluster (namespace created when absent)."""
    if client.get("v1", "namespaces", NS) is None:
        client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    for name in names:
        secret, release = record(template, cluster, name)
        client.create(secret)
        for obj in parse_manifest(release["manifest"], NS).objects.values():
            body = copy.deepcopy(obj.body)
            meta = body["metadata"]
            meta["namespace"] = NS
            meta.setdefault("labels", {})["app.kubernetes.io/managed-by"] = "Helm"
            meta.setdefault("annotations", {}).update({"meta.helm.sh/release-name": name,
                                                       "meta.helm.sh/release-namespace": NS})
            client.create(body)


def seed_fleet(clusters: list[str], releases: int, template: Template, kubeconfig: Path, *,
               installed_on: str) -> None:
    """Every release on every cluster (``svc-00`` on ``installed_on`` is helm's own)."""
    names = release_names(releases)
    files = KubeconfigFiles()  # one parse of the fleet's kubeconfig, not one per cluster

    def one(cluster: str) -> None:
        with client_for(cluster, kubeconfig, files) as client:
            seed_cluster(client, template, cluster, [n for n in names if not (cluster == installed_on
                                                                               and n == "svc-00")])

    with ThreadPoolExecutor(max_workers=8) as pool:  # requests wait on the sandbox's threads: overlap them
        list(pool.map(one, clusters))


def plant_drifts(clusters: list[str], template: Template, kubeconfig: Path) -> dict[str, str]:
    """A few drifts spread over the fleet (on ``svc-00``, which every fleet has; never on the first
    cluster, where helm installed it); returns cluster -> what was done there."""
    picks = {clusters[len(clusters) * k // 6 + 1]: what for k, what in
             enumerate(("scale", "delete-configmap", "missing", "orphan", "failed"))}
    for cluster, what in picks.items():
        with client_for(cluster, kubeconfig) as client:
            if what == "scale":
                client.patch("apps/v1", "deployments", "svc-00", {"spec": {"replicas": 3}}, namespace=NS)
            elif what == "delete-configmap":
                client.delete("v1", "configmaps", "svc-00-cfg", namespace=NS)
            elif what == "missing":
                client.delete("v1", "secrets", "sh.helm.release.v1.svc-00.v1", namespace=NS)
            elif what == "orphan":
                secret, _ = record(template, cluster, "gone-from-git")
                client.create(secret)
            elif what == "failed":
                client.delete("v1", "secrets", "sh.helm.release.v1.svc-00.v1", namespace=NS)
                secret, _ = record(template, cluster, "svc-00", status="failed")
                client.create(secret)
    return picks
