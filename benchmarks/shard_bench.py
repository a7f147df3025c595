"""Benchmark: ``helmkit drift`` of a 200-cluster sandbox fleet, whole and in 1, 2, 4 and 8 shards.

The fleet is :mod:`tests.support.shardfleet` (default 200 clusters x 20 releases, 4000 release
instances, a few planted drifts): real helm 4 installs one release, every other release record
(helm's storage format) and live object is a copy made through the API. All clusters are served
by this process (one sandbox).

Every run is a child process ``python -m helmkit drift --env fleet [--shard I/N] --report
json=FILE``, measured as in :mod:`fleet_scale_bench`: wall time, CPU (user + system of the child
and everything it waited for, from ``os.wait4``), peak RSS of its process tree (sampled from
``/proc``) and of its largest process. Shards run one after the other (as CI runners would run
them side by side, each on its own machine): per shard its own numbers; per N the slowest shard
(the wall time a CI matrix waits for), the sum of CPU, the largest peak RSS, and the ratios to the
single run measured in the same invocation. The merged report of each N is checked equal to the
single run's (``generatedAt`` aside). A warm-up drift fills the render cache first, so every
measured run is warm.

Run: ``.venv/bin/python benchmarks/shard_bench.py [--clusters 200] [--releases 20] [--shards 1,2,4,8]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from helmkit.adapters.tools import binary_path
from helmkit.sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet_scale_bench import Measure, measure

from tests.support import shardfleet

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--shards", default="1,2,4,8")
    args = parser.parse_args()
    counts = [int(n) for n in args.shards.split(",")]
    names = shardfleet.cluster_names(args.clusters)
    work = Path(tempfile.mkdtemp(prefix="helmkit-shard-bench-"))
    helm = binary_path(ROOT, "helm-v4.1.4")
    with Sandbox(names, admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(work / "kubeconfig")
        env = {key: str(work / key.lower()) for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")}
        os.environ.update(env)
        os.environ["KUBECONFIG"] = str(kubeconfig)
        os.environ.pop("HELMKIT_HELM", None)
        repo = shardfleet.write_repo(work / "repo", names, args.releases)
        template = shardfleet.install_template(repo, helm, kubeconfig, names[0], env)
        shardfleet.seed_fleet(names, args.releases, template, kubeconfig, installed_on=names[0])
        planted = shardfleet.plant_drifts(names, template, kubeconfig)
        print(f"{args.clusters} sandbox clusters x {args.releases} releases ({args.clusters * args.releases} "
              f"instances), drifts planted on {len(planted)} clusters; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)

        def drift(label: str, *extra: str, report: Path) -> Measure:
            argv = [sys.executable, "-m", "helmkit", "--repo", str(repo), "--helm", str(helm), "drift", "--env",
                    shardfleet.ENV, *extra, "--report", f"json={report}"]
            row = measure(label, argv, cwd=repo, log=work / "helm.log", out=work / f"{label.replace('/', '-')}.out")
            print(f"  {_row(row)}", flush=True)
            if row.code not in (0, 2):
                print((work / f"{label.replace('/', '-')}.out").read_text()[-2000:])
            return row

        print(HEADER)
        drift("warm-up (render cache)", report=work / "warmup.json")
        single = drift("single run", report=work / "single.json")
        expected = _comparable(work / "single.json")
        summary: list[str] = []
        for count in counts:
            rows = [drift(f"shard {i}/{count}", "--shard", f"{i}/{count}", report=work / f"n{count}-{i}.json")
                    for i in range(1, count + 1)]
            merged = work / f"merged-{count}.json"
            subprocess.run([sys.executable, "-m", "helmkit", "--repo", str(repo), "report", "merge",
                            *(str(work / f"n{count}-{i}.json") for i in range(1, count + 1)),
                            "--report", f"json={merged}", "-o", "json", "--output-file", str(work / "merged.out")],
                           check=False, capture_output=True)
            same = merged.exists() and _comparable(merged) == expected
            slowest = max(r.wall for r in rows)
            cpu = sum(r.cpu for r in rows)
            peak = max(r.tree_rss_mb for r in rows)
            summary.append(f"{count:>6} {slowest:>10.1f} {slowest / single.wall:>7.2f} {cpu:>9.1f} "
                           f"{cpu / single.cpu:>7.2f} {peak:>9.0f} {peak / single.tree_rss_mb:>7.2f} "
                           f"{'yes' if same else 'NO':>14}")
        print(f"\nsingle run: {single.wall:.1f} s wall, {single.cpu:.1f} s CPU, {single.tree_rss_mb:.0f} MB peak RSS")
        print(f"{'shards':>6} {'slowest s':>10} {'x wall':>7} {'sum CPU s':>9} {'x CPU':>7} {'peak MB':>9} "
              f"{'x RSS':>7} {'merged = run':>14}")
        print("\n".join(summary))
        print(f"load average {os.getloadavg()[0]:.1f} at the end; work folder {work}")
    return 0 if all(line.endswith("yes") for line in summary) else 1


def _comparable(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    doc.pop("generatedAt", None)
    return dict(doc)


HEADER = f"{'run':<24} {'exit':>4} {'wall s':>7} {'CPU s':>7} {'tree RSS MB':>11} {'max proc MB':>11} {'load':>5}"


def _row(m: Measure) -> str:
    return (f"{m.label:<24} {m.code:>4} {m.wall:>7.1f} {m.cpu:>7.1f} {m.tree_rss_mb:>11.0f} {m.max_rss_mb:>11.0f} "
            f"{m.load:>5.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
