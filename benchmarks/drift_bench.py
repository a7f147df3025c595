"""``helmkit drift`` over a sandbox fleet: wall time with a warm render cache, and API calls per cluster.

    .venv/bin/python benchmarks/drift_bench.py [--clusters 10] [--sizes 10,20] [--repeat 3]

For each size N (releases per cluster), every cluster of a sandbox gets N releases of a
four-object chart (ConfigMap, Secret, Service, Deployment). The first release is installed by real
helm 4; the others are copies of its release record and of its live objects under new names (real
records and objects, made fast). One drift scan renders everything into the cache (cold); the next
``--repeat`` scans are timed (warm: no helm process at all). Printed per size: the median wall time
of a warm scan and its CPU time (the sandbox serves from the same process), the findings (0: the
fleet is in sync), the helm processes started by the warm scans, and the Kubernetes API calls per
cluster -- release records (discovery + one list) and
live objects (discovery per group-version + one list per kind). That number must not grow with N.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from helmkit.actions.drift import scan
from helmkit.adapters.helmstorage import encode_release
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import binary_path
from helmkit.context import Context
from helmkit.plan.manifests import parse_manifest
from helmkit.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
NS = "shop"
ENV = "bench"
TARGET_SECONDS = 5.0


def write_repo(root: Path, clusters: list[str], releases: int) -> None:
    (root / "releases").mkdir(parents=True, exist_ok=True)
    (root / "environments").mkdir(exist_ok=True)
    (root / "helmkit.yaml").write_text(yaml.safe_dump({
        "helm": {"version": ">=3.19.0 <5.0.0"}, "kubeVersion": "1.34.0",
        "defaults": {"namespace": NS, "wait": False}}))
    for i in range(releases):
        (root / "releases" / f"svc-{i:02d}.yaml").write_text(yaml.safe_dump(
            {"chart": {"path": "charts/shop"}, "values": {"greeting": "hello"}}))
    (root / "environments" / f"{ENV}.yaml").write_text(yaml.safe_dump(
        {"clusters": [{"name": name, "region": "r1"} for name in clusters]}))
    chart = root / "charts" / "shop"
    if chart.exists():
        return
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("replicas: 1\ngreeting: hi\n")
    (chart / "templates" / "all.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-db\nstringData:\n  password: pw\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  selector: {app: {{ .Release.Name }}}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n"
        "  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n    spec:\n      containers:\n"
        "      - name: app\n        image: nginx:1.27\n")


def marker(cluster: str) -> dict[str, str]:
    return {"helmkit.dev/managed": "true", "helmkit.dev/env": ENV, "helmkit.dev/cluster": cluster}


def clone(client: KubeClient, template: dict[str, Any], cluster: str, first: int, last: int) -> None:
    """Copies of the first release (record and live objects) as svc-<first>..svc-<last-1>."""
    doc = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(template["data"]["release"]))))
    source = doc["name"]
    for i in range(first, last):
        name = f"svc-{i:02d}"
        release = copy.deepcopy(doc)
        release["name"] = name
        release["manifest"] = doc["manifest"].replace(source, name)
        labels = {"owner": "helm", "name": name, "status": "deployed", "version": "1", **marker(cluster)}
        client.create({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
                       "metadata": {"name": f"sh.helm.release.v1.{name}.v1", "namespace": NS, "labels": labels},
                       "data": {"release": base64.b64encode(encode_release(release).encode()).decode()}})
        for obj in parse_manifest(release["manifest"], NS).objects.values():
            body = copy.deepcopy(obj.body)
            meta = body["metadata"]
            meta["namespace"] = NS
            meta.setdefault("labels", {})["app.kubernetes.io/managed-by"] = "Helm"
            meta.setdefault("annotations", {}).update({"meta.helm.sh/release-name": name,
                                                       "meta.helm.sh/release-namespace": NS})
            client.create(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--sizes", default="10,20")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    names = [f"bench-{i:02d}" for i in range(args.clusters)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="helmkit-drift-bench-") as tmp, Sandbox(names, admin=False) as sandbox:
        work = Path(tmp)
        kubeconfig = sandbox.write_kubeconfig(work / "kubeconfig")
        for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
            os.environ[key] = str(work / key.lower())
        os.environ["KUBECONFIG"] = str(kubeconfig)
        helm = binary_path(REPO, "helm-v4.1.4")
        repo = work / "repo"
        write_repo(repo, names, sizes[0])
        runner = Runner()
        clients = {n: KubeClient(load_cluster_config(n, runner, kubeconfig=kubeconfig)) for n in names}
        for name in names:
            labels = ",".join(f"{k}={v}" for k, v in marker(name).items())
            runner.run([helm, "upgrade", "--install", "svc-00", repo / "charts" / "shop", "-n", NS,
                        "--create-namespace", "--set", "greeting=hello", "--labels", labels, "--kube-context", name],
                       timeout=120)
        (template,) = clients[names[0]].list("v1", "secrets", namespace=NS, label_selector="owner=helm")
        done = 1
        for size in sizes:
            write_repo(repo, names, size)
            for name in names:
                clone(clients[name], template, name, done, size)
            done = size
            ctx = Context(repo=repo, helm_option=str(helm), kubeconfig=kubeconfig)
            cold_start = time.perf_counter()
            cold = scan(ctx, [ENV])
            cold_s = time.perf_counter() - cold_start
            started = sum(ctx.runner.started.values())
            times, cpu = [], []
            for _ in range(args.repeat):
                begin, begin_cpu = time.perf_counter(), time.process_time()
                report = scan(ctx, [ENV])
                times.append(time.perf_counter() - begin)
                cpu.append(time.process_time() - begin_cpu)
            warm_helm = sum(ctx.runner.started.values()) - started
            calls = sorted({c.api_calls for c in report.clusters})
            rows.append({"releases_per_cluster": size, "clusters": len(names), "cold_s": round(cold_s, 3),
                         "warm_s": round(statistics.median(times), 3),
                         "warm_cpu_s": round(statistics.median(cpu), 3), "findings": len(report.findings),
                         "releases_assessed": sum(c.releases for c in report.clusters),
                         "cold_findings": len(cold.findings), "helm_processes_warm": warm_helm,
                         "api_calls_per_cluster": calls})
            print(json.dumps(rows[-1]), file=sys.stderr)
        for client in clients.values():
            client.close()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'clusters':>8} {'releases/cluster':>16} {'assessed':>8} {'cold':>8} {'warm':>8} {'warm CPU':>9} "
          f"{'findings':>8} {'helm procs':>10} {'API calls/cluster':>18}")
    for r in rows:
        print(f"{r['clusters']:>8} {r['releases_per_cluster']:>16} {r['releases_assessed']:>8} {r['cold_s']:>7.2f}s "
              f"{r['warm_s']:>7.2f}s "
              f"{r['warm_cpu_s']:>8.2f}s {r['findings']:>8} {r['helm_processes_warm']:>10} "
              f"{','.join(map(str, r['api_calls_per_cluster'])):>18}")
    slow = [r for r in rows if float(r["warm_s"]) >= TARGET_SECONDS]  # type: ignore[arg-type]
    grows = len({tuple(r["api_calls_per_cluster"]) for r in rows}) > 1  # type: ignore[arg-type]
    if slow or grows:
        print(f"FAIL: warm scan >= {TARGET_SECONDS}s or API calls grow with releases", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
