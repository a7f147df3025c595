"""Reading the releases of a cluster whose records keep a history: full list vs metadata list + GETs.

    .venv/bin/python benchmarks/release_read_bench.py [--releases 20] [--revisions 1,3,10] [--kb 400]

A sandbox cluster gets ``--releases`` releases of ``--revisions`` revisions each (the last deployed,
the others superseded); each record carries a manifest of about ``--kb`` KiB of YAML that gzip
does not shrink to nothing. Then, median of ``--repeat`` runs with a fresh client each:

- ``full list``: :func:`read_releases` (one paginated list of every record with its data, every
  record decoded; before metadata lists, ``read_current_releases`` transferred the same list and
  decoded only the current revisions);
- ``current, eager``: :func:`read_current_releases` (a metadata list, then one GET per current
  revision: what diff and drift do);
- ``current, lazy``: ``decode=False`` (the metadata list only: what status does when verdicts
  settle every release).

``count`` is records decoded (full list) or releases known (current).
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from helmkit.adapters.helmstorage import encode_release, read_current_releases, read_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import ClusterConfig, load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.sandbox import Sandbox


def manifest(kb: int, seed: int) -> str:
    rnd = random.Random(seed)
    lines = [f"  key{i}: {rnd.getrandbits(64):016x}" for i in range(kb * 1024 // 28)]
    return "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n" + "\n".join(lines) + "\n"


def populate(kube: KubeClient, releases: int, revisions: int, kb: int) -> None:
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
    for r in range(releases):
        name = f"rel{r:03d}"
        for revision in range(1, revisions + 1):
            status = "deployed" if revision == revisions else "superseded"
            doc = {"name": name, "namespace": "bench", "version": revision,
                   "manifest": manifest(kb, r * 100 + revision), "info": {"status": status},
                   "chart": {"metadata": {"name": "bench", "version": "1.0.0"}}, "config": {}}
            kube.create({
                "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
                "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}", "namespace": "bench",
                             "labels": {"owner": "helm", "name": name, "status": status, "version": str(revision)}},
                "data": {"release": base64.b64encode(encode_release(doc).encode()).decode()},
            })


def median_time(fn: Callable[[KubeClient], int], config: ClusterConfig, repeat: int) -> tuple[float, int, int]:
    times, count, calls = [], 0, 0
    for _ in range(repeat):
        with KubeClient(config) as client:
            start = time.perf_counter()
            count = fn(client)
            times.append(time.perf_counter() - start)
            calls = client.calls
    return statistics.median(times), count, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--revisions", default="1,3,10")
    parser.add_argument("--kb", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    methods: dict[str, Callable[[KubeClient], int]] = {
        "full list": lambda c: len(read_releases(c).records),
        "current, eager": lambda c: len(read_current_releases(c).histories),
        "current, lazy": lambda c: len(read_current_releases(c, decode=False).histories),
    }
    print(f"{args.releases} releases, records of ~{args.kb} KiB of manifest; median of {args.repeat}")
    print(f"{'revisions':>9}  {'method':<15} {'seconds':>8} {'calls':>6} {'count':>6}")
    for revisions in (int(n) for n in args.revisions.split(",")):
        with tempfile.TemporaryDirectory() as tmp, Sandbox(["bench"], admin=False) as sandbox:
            config = load_cluster_config("bench", Runner(), kubeconfig=sandbox.write_kubeconfig(Path(tmp) / "kc"))
            with KubeClient(config) as setup:
                populate(setup, args.releases, revisions, args.kb)
            for method, fn in methods.items():
                seconds, count, calls = median_time(fn, config, args.repeat)
                print(f"{revisions:>9}  {method:<15} {seconds:>8.3f} {calls:>6} {count:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
