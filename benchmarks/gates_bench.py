"""What one gate check costs: a workload check against a sandbox cluster, an HTTP check and a
Prometheus query against local servers, a command check.

    .venv/bin/python benchmarks/gates_bench.py [--workloads 5,50] [--pods 3] [--repeat 20]

For each size N, a sandbox cluster holds N Deployments spread over 5 namespaces, each with
``--pods`` pods; the workload check reads them as a gate does (one reused connection; per check
one list of each workload kind and one of the pods, per namespace). Figures: median milliseconds
per check over ``--repeat`` checks, and API requests per check. Gate time is dominated by ``interval`` and ``soak`` in
practice; this shows a check itself is cheap next to them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helmkit.actions.gaterun import ChangedRelease, GateRunner, GateTarget, WorkloadProbe
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.errors import Location
from helmkit.model.gates import GateSpec
from helmkit.model.instance import Cluster
from helmkit.plan.gatecheck import Observation
from helmkit.sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.gateservers import Prometheus, Script, health_server, prometheus_server

NAMESPACES = 5


def median_ms(check: Callable[[], Observation], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        observation = check()
        times.append(time.perf_counter() - started)
        assert observation.ok, observation.summary
    return statistics.median(times) * 1000


def populate(kubeconfig: Path, workloads: int, pods: int) -> list[ChangedRelease]:
    releases: dict[str, list[str]] = {}
    with KubeClient(load_cluster_config("c1", Runner(), kubeconfig=kubeconfig)) as client:
        for index in range(NAMESPACES):
            client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns{index}"}})
        for index in range(workloads):
            namespace, name = f"ns{index % NAMESPACES}", f"app{index}"
            labels = {"app": name}
            client.create({"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": name, "namespace": namespace},
                           "spec": {"replicas": pods, "selector": {"matchLabels": labels},
                                    "template": {"metadata": {"labels": labels},
                                                 "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}})
            for pod in range(pods):
                client.create({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": f"{name}-{pod}", "namespace": namespace, "labels": labels},
                               "spec": {"containers": [{"name": "app", "image": "app:1"}]}})
            releases.setdefault(namespace, []).append(
                f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\n")
    return [ChangedRelease(f"release-{ns}", ns, "".join(docs)) for ns, docs in releases.items()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", default="5,50")
    parser.add_argument("--pods", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    cluster = Cluster("c1", "bench", "c1")
    print(f"{'check':<38} {'median ms':>10} {'API requests/check':>19}")
    for size in (int(n) for n in args.workloads.split(",")):
        with tempfile.TemporaryDirectory() as tmp, Sandbox(["c1"], admin=False) as sandbox:
            kubeconfig = sandbox.write_kubeconfig(Path(tmp) / "kubeconfig")
            releases = populate(kubeconfig, size, args.pods)
            probe = WorkloadProbe(GateTarget(cluster, releases), Runner(), kubeconfig, 10.0)
            probe()  # connection, discovery and the restart baseline
            before = len(sandbox.requests("c1"))
            ms = median_ms(probe, args.repeat)
            per_check = (len(sandbox.requests("c1")) - before) / args.repeat
            probe.close()
            print(f"{f'workload ({size} Deployments, {size * args.pods} pods)':<38} {ms:>10.1f} {per_check:>19.0f}")
    runner = GateRunner(Runner())
    target = GateTarget(cluster, [])
    with health_server(Script()) as url:
        http = runner.probe(GateSpec("h", "http", {"url": url + "/healthz"}, Location("bench")), target)
        print(f"{'http GET (local server)':<38} {median_ms(http, args.repeat):>10.1f} {'-':>19}")
    with prometheus_server(Prometheus({"up": [1.0]})) as url:
        query = runner.probe(GateSpec("p", "prometheus", {"url": url, "query": "up", "condition": "> 0"},
                                      Location("bench")), target)
        print(f"{'prometheus query (local server)':<38} {median_ms(query, args.repeat):>10.1f} {'-':>19}")
    command = runner.probe(GateSpec("c", "command", {"argv": ["true"]}, Location("bench")), target)
    print(f"{'command (true)':<38} {median_ms(command, args.repeat):>10.1f} {'-':>19}")


if __name__ == "__main__":
    main()
