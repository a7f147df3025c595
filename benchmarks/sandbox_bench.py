"""Benchmarks of the sandbox API server, with the real helm binaries.

    .venv/bin/python benchmarks/sandbox_bench.py [--cycles 7] [--releases 20] [--clusters 10]

Prints:
1. the median wall time of a helm install + upgrade + uninstall cycle of a 4-object chart
   (tests/e2e/charts/app), for helm 3.19 and helm 4.1 (target: <= 0.5 s), next to the time of a
   ``helm template`` of the same chart (no server at all) as a yardstick of the machine's speed;
2. the median time to list 1,000 of 2,000 ConfigMaps by label selector over HTTPS (target: < 50 ms);
3. the resident memory of a background sandbox process holding 10 clusters x 20 releases,
   installed with helm in parallel.
"""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import binary_path
from helmkit.sandbox import Sandbox, daemon, write_kubeconfig
from helmkit.sandbox.status import ApiError

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "tests" / "e2e" / "charts" / "app"
HELMS = {"3": "helm-v3.19.0", "4": "helm-v4.1.4"}


def tool_env(folder: Path, kubeconfig: Path) -> dict[str, str]:
    return {"KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(folder / "kube-cache"),
            "HELM_CACHE_HOME": str(folder / "cache"), "HELM_CONFIG_HOME": str(folder / "config"),
            "HELM_DATA_HOME": str(folder / "data")}


def helm_cycles(cycles: int, work: Path) -> dict[str, tuple[float, float]]:
    """Per helm major: median cycle time, and median ``helm template`` time (no server) for reference."""
    runner = Runner()
    medians = {}
    with Sandbox(["bench"]) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(work / "kubeconfig")
        for major, folder in HELMS.items():
            helm = str(binary_path(REPO, folder))
            env = tool_env(work / f"helm{major}", kubeconfig)
            runner.run([helm, "list"], env=env)  # warm the discovery cache, as everyday use would
            times = []
            for i in range(cycles):
                name = f"bench{major}-{i}"
                started = time.perf_counter()
                runner.run([helm, "install", name, str(CHART)], env=env)
                runner.run([helm, "upgrade", name, str(CHART), "--set", "greeting=hi"], env=env)
                runner.run([helm, "uninstall", name], env=env)
                times.append(time.perf_counter() - started)
            templates = []
            for _ in range(cycles):
                started = time.perf_counter()
                runner.run([helm, "template", "x", str(CHART)], env=env)
                templates.append(time.perf_counter() - started)
            medians[major] = (statistics.median(times), statistics.median(templates))
    return medians


def list_by_label(objects: int, rounds: int) -> tuple[float, int]:
    with Sandbox(["list"], admin=False) as sandbox:
        store = sandbox.cluster("list").store
        for i in range(2 * objects):  # half of them match the selector
            store.create("/configmaps", {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i:05d}", "namespace": "default",
                             "labels": {"owner": "helm" if i % 2 else "other", "name": f"r{i % 10}"}},
                "data": {"release": "x" * 200}}, error=lambda: ApiError(409, "exists"))
        assert sandbox.identity is not None
        parts = urlsplit(sandbox.url("list"))
        context = ssl.create_default_context(cadata=sandbox.identity.certificate_pem)
        conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=context)
        headers = {"Authorization": f"Bearer {sandbox.token('list')}", "Accept": "application/json"}
        times, count = [], 0
        for _ in range(rounds):
            started = time.perf_counter()
            conn.request("GET", "/api/v1/namespaces/default/configmaps?labelSelector=owner%3Dhelm", headers=headers)
            body = conn.getresponse().read()
            times.append(time.perf_counter() - started)
            count = len(json.loads(body)["items"])
        conn.close()
    return statistics.median(times), count


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def fleet_memory(clusters: int, releases: int, work: Path) -> tuple[int, int, float]:
    names = [f"c{i}" for i in range(clusters)]
    folder = work / "daemon"
    info = daemon.start(folder, names)
    try:
        baseline = rss_of(info["pid"])
        kubeconfig = write_kubeconfig(work / "fleet-kubeconfig",
                                      {n: (c["url"], c["token"]) for n, c in info["clusters"].items()},
                                      info["certificateAuthority"])
        runner = Runner()
        helm = str(binary_path(REPO, HELMS["4"]))
        env = tool_env(work / "fleet", kubeconfig)
        runner.run([helm, "list", "--kube-context", names[0]], env=env)
        jobs = [(n, r) for n in names for r in range(releases)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda job: runner.run(
                [helm, "install", f"r{job[1]}", str(CHART), "--kube-context", job[0]], env=env), jobs))
        elapsed = time.perf_counter() - started
        return baseline, rss_of(info["pid"]), elapsed
    finally:
        daemon.stop(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=7)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--releases", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="helmkit-bench-") as tmp:
        work = Path(tmp)
        for major, (median, template) in helm_cycles(args.cycles, work).items():
            print(f"helm {major} install+upgrade+uninstall (4 objects): median {median:.3f} s over {args.cycles} "
                  f"(helm template alone, no server: {template:.3f} s)")
        median, count = list_by_label(args.objects, 20)
        print(f"list {count} of {2 * args.objects} ConfigMaps by label selector: median {median * 1000:.1f} ms")
        baseline, rss, elapsed = fleet_memory(args.clusters, args.releases, work)
        print(f"sandbox RSS: {baseline / 2**20:.1f} MiB empty, {rss / 2**20:.1f} MiB with "
              f"{args.clusters} clusters x {args.releases} releases (installed in {elapsed:.1f} s, 4 in parallel)")


if __name__ == "__main__":
    main()
