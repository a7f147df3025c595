"""Benchmark: the fleet benchmark's steps on any helmkit repository, spread over N sandbox clusters.

:mod:`fleet_scale_bench` measures fleetgen's generated fleet; this one takes a repository of
your own (say, upstream charts vendored under ``charts/`` in a scratch folder: cert-manager,
ingress-nginx, kube-prometheus-stack...), copies it into a work folder, gives its environment
``--clusters`` sandbox clusters in 4 regions (waves as fleetgen: 0, 1, then all others), and writes the same fleet as a
``helmfile.yaml``: one release per (cluster, instance), the instance's merged values in a file,
``needs`` as ``context/namespace/name``, helmDefaults as fleetgen's (wait, atomic, 5m). Then it runs
the same steps, helmkit and helmfile side by side from the same run, with wall time, CPU time,
peak RSS and helm processes (see :mod:`fleet_scale_bench`).

Only local charts (``chart.path``) and releases without secret references are supported (the
helmfile side would need them resolved). Run:
``.venv/bin/python benchmarks/repo_fleet_bench.py --repo DIR [--env prod] [--clusters 20] [--helm 3|4]
[--skip-helmfile] [--one-wave] [--keep DIR] [--sync-pairs N]``.

``--sync-pairs N`` measures only the sync from scratch, N times: helmkit (cold cache) then helmfile,
each on fresh sandbox clusters, one right after the other, with each pair's ratio and the median.
The machine's speed drifts between runs; a ratio within a pair is steadier than one run's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet_scale_bench import HEADER, HELMS, Bench, compile_bytecode, isolate_helm, run_fleet, sandbox_process
from fleetgen import FleetInfo

from helmkit.model.repository import load_repository
from helmkit.model.resolve import resolve_environment

REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-1", "sa-east-1")


def prepare(repo: Path, env: str, clusters: int, dest: Path, *, one_wave: bool = False) -> FleetInfo:
    """Copy ``repo`` to ``dest`` with ``clusters`` clusters in ``env``, and write its helmfile.yaml."""
    shutil.copytree(repo, dest, ignore=shutil.ignore_patterns(".helmkit", ".git"))
    names = [f"{env}-{REGIONS[i % len(REGIONS)]}-{i // len(REGIONS) + 1:02d}" for i in range(clusters)]
    env_file = dest / "environments" / f"{env}.yaml"
    spec = yaml.safe_load(env_file.read_text()) or {}
    spec["clusters"] = [{"name": name, "context": name, "region": REGIONS[i % len(REGIONS)],
                         "wave": 0 if one_wave else min(i, 2)} for i, name in enumerate(names)]
    env_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    resolution = resolve_environment(load_repository(dest), env)
    if resolution.problems:
        raise SystemExit("\n".join(p.render() for p in resolution.problems))
    instances = [i for i in resolution.instances if i.enabled]
    namespaces = {(i.cluster.name, i.name): i.namespace for i in instances}
    entries: list[dict[str, Any]] = []
    for instance in instances:
        if instance.chart.path is None or instance.secrets:
            raise SystemExit(f"{instance.key}: only local charts without secret references are supported")
        values = dest / "helmfile-values" / instance.cluster.name / f"{instance.name}.yaml"
        values.parent.mkdir(parents=True, exist_ok=True)
        values.write_text(yaml.safe_dump(instance.values))
        entry: dict[str, Any] = {"name": instance.name, "namespace": instance.namespace,
                                 "chart": "./" + str(instance.chart.path.relative_to(dest)),
                                 "kubeContext": instance.cluster.name, "values": [str(values.relative_to(dest))]}
        if instance.needs:
            entry["needs"] = [f"{instance.cluster.name}/{namespaces[(instance.cluster.name, n)]}/{n}"
                              for n in instance.needs]
        entries.append(entry)
    defaults = load_repository(dest).settings
    helmfile = dest / "helmfile.yaml"
    helmfile.write_text(yaml.safe_dump({
        "helmDefaults": {"wait": True, "timeout": 300, "atomic": True, "createNamespace": True, "historyMax": 10},
        **({"kubeVersion": defaults.kube_version} if defaults.kube_version else {}),
        "releases": entries,
    }, sort_keys=False))
    releases = tuple(sorted({i.name for i in instances}))
    return FleetInfo(root=dest, helmfile=helmfile, environments=(env,),
                     clusters=tuple((env, name) for name in names), releases=releases, instances=len(instances))


def sync_pairs(info: FleetInfo, work: Path, env: str, args: argparse.Namespace) -> None:
    """``--sync-pairs N``: helmkit's sync from scratch then helmfile's, N times, each on fresh clusters."""
    isolate_helm(work)
    compile_bytecode()
    names = [name for _, name in info.clusters]
    bench, conc = Bench(info, work, HELMS[args.helm], args.concurrency), str(args.concurrency)
    print(f"{info.instances} release instances on {len(names)} sandbox clusters; helmkit with "
          f"{HELMS[args.helm].parent.name}, helmfile 0.166.0 with helm 3.15.3; {os.cpu_count()} CPUs")
    print(HEADER)
    ratios: list[tuple[float, float]] = []
    for n in range(1, args.sync_pairs + 1):
        with sandbox_process(names, work / "kubeconfig") as (kubeconfig, bench.server):
            os.environ["KUBECONFIG"] = str(kubeconfig)
            bench.clear_cache()
            mine = bench.helmkit(f"#{n} sync from scratch (cold cache)", "sync", "--env", env, "--yes",
                                 "--concurrency", conc)
        with sandbox_process(names, work / "kubeconfig") as (kubeconfig, bench.server):
            os.environ["KUBECONFIG"] = str(kubeconfig)
            theirs = bench.helmfile(f"#{n} helmfile sync from scratch", "sync", "--skip-deps", "--concurrency", conc)
        bench.server = None
        ratios.append((mine.wall / theirs.wall, mine.cpu / theirs.cpu))
        print(f"  pair {n}: helmkit / helmfile = {ratios[-1][0]:.2f} wall, {ratios[-1][1]:.2f} CPU", flush=True)
    print(f"\nmedian of {len(ratios)} pairs: {statistics.median(r[0] for r in ratios):.2f} wall, "
          f"{statistics.median(r[1] for r in ratios):.2f} CPU (pairs, wall: "
          f"{', '.join(f'{r[0]:.2f}' for r in ratios)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a helmkit repository with local charts")
    parser.add_argument("--env", default="prod")
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--helm", choices=sorted(HELMS), default="3", help="helm major helmkit uses")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--skip-helmfile", action="store_true")
    parser.add_argument("--one-wave", action="store_true", help="every cluster in wave 0 (helmfile has no waves)")
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp folder)")
    parser.add_argument("--sync-pairs", type=int, default=0, metavar="N",
                        help="only the sync from scratch: N pairs of helmkit then helmfile")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="helmkit-repo-bench-"))
    try:
        info = prepare(args.repo.resolve(), args.env, args.clusters, work / "fleet", one_wave=args.one_wave)
        if args.sync_pairs:
            sync_pairs(info, work, args.env, args)
        else:
            run_fleet(info, work, args.env, args, source=f" of {args.repo}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
