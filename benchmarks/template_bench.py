"""Benchmark: `helmkit template` (cold and warm) vs plain parallel `helm template` vs `helmfile template`.

The fleet comes from :mod:`fleetgen` (the example charts, ``--releases-per-cluster`` releases on each
of ``--clusters`` clusters of one environment, values layered per environment and cluster, one
secret reference). Each round times, interleaved so that outside load hits all of them alike:

* plain helm: one ``helm template`` per instance, 2 at a time (a Python pool), with the same
  merged values helmkit computes (written beforehand, untimed), the same namespace and kube version
* helmkit cold: ``helmkit template --env E --output-dir ... --concurrency 2`` on an empty cache
* helmkit warm: the same again (every manifest from the cache, no helm process)
* helmfile: ``helmfile template --concurrency 2`` of the same fleet (fleetgen's helmfile.yaml),
  helmfile 0.166.0 with helm 3.15.3 via ``--helm-binary``

The best time of each over the rounds is reported (the least disturbed run), wall clock and CPU
(this process plus every process it waited for): on a shared machine the CPU column shows the
work each approach does when the wall clock is disturbed by other load.
Run: ``.venv/bin/python benchmarks/template_bench.py [--clusters 10 --releases-per-cluster 20 --repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleetgen import FleetInfo, generate_fleet

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".helmkit" / "tools"
HELM = TOOLS / "helm-v3.19.0" / "helm"
HELMFILE = TOOLS / "helmfile-v0.166.0" / "helmfile"
HELMFILE_HELM = TOOLS / "helm-v3.15.3" / "helm"
PARALLEL = 2


def plain_helm_argvs(info: FleetInfo, env: str, values_dir: Path) -> list[list[str]]:
    """One `helm template` argv per instance, with the merged values helmkit would pass (written now)."""
    from helmkit.model.repository import load_repository
    from helmkit.model.resolve import resolve_instances
    from helmkit.model.secrets import apply_secrets, resolve_secrets

    values_dir.mkdir(parents=True, exist_ok=True)
    repo = load_repository(info.root)
    environ = dict(os.environ) | info.secret_env
    argvs = []
    for instance in resolve_instances(repo, env):
        values = apply_secrets(instance.values, resolve_secrets(instance, repo_root=info.root, environ=environ))
        path = values_dir / f"{instance.cluster.name}-{instance.name}.yaml"
        path.write_text(yaml.safe_dump(values))
        chart = instance.chart.path
        assert chart is not None
        argvs.append([str(HELM), "template", instance.name, str(chart), "--namespace", instance.namespace,
                      "--kube-version", instance.cluster.kube_version or info.kube_version, "--include-crds",
                      "-f", str(path)])
    return argvs


def helm_env(folder: Path, info: FleetInfo) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder / "home"), **info.secret_env}
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        env[key] = str(folder / "helmhome" / key.lower())
    return env


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(what: str, fn: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and every waited-for descendant) of ``fn``."""
    cpu, start = _cpu(), time.perf_counter()
    fn()
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    print(f"  {what}: {seconds:.2f}s wall, {cpu:.2f}s cpu", file=sys.stderr)
    return seconds, cpu


def run_helmkit(info: FleetInfo, env_name: str, out: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "helmkit", "--repo", str(info.root), "--helm", str(HELM), "template",
         "--env", env_name, "--output-dir", str(out), "--concurrency", str(PARALLEL)],
        check=True, env=helm_env(info.root, info) | {"PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
    )


def run_plain_helm(info: FleetInfo, argvs: list[list[str]]) -> None:
    env = helm_env(info.root, info)

    def one(argv: list[str]) -> None:
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, argvs))


def run_helmfile(info: FleetInfo) -> None:
    subprocess.run([str(HELMFILE), "--helm-binary", str(HELMFILE_HELM), "--file", str(info.helmfile), "template",
                    "--concurrency", str(PARALLEL), "--skip-deps", "--include-crds"],
                   check=True, env=helm_env(info.root, info), cwd=info.root, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--releases-per-cluster", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the best of each is reported")
    parser.add_argument("--skip-helmfile", action="store_true")
    parser.add_argument("--keep", type=Path, help="generate the fleet here and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="helmkit-bench-"))
    try:
        info = generate_fleet(folder, releases_per_cluster=args.releases_per_cluster, clusters=args.clusters)
        env_name = info.environments[0]
        argvs = plain_helm_argvs(info, env_name, folder / "plain-values")
        print(f"fleet: {info.instances} release instances on {len(info.clusters)} clusters, "
              f"{PARALLEL} in parallel", file=sys.stderr)
        out = folder / "out"
        runs: dict[str, list[tuple[float, float]]] = {}
        for round_ in range(args.repeat):
            print(f"round {round_ + 1} of {args.repeat}", file=sys.stderr)
            shutil.rmtree(info.root / ".helmkit" / "cache" / "render", ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            runs.setdefault("plain", []).append(timed("plain helm", lambda: run_plain_helm(info, argvs)))
            runs.setdefault("cold", []).append(timed("helmkit cold", lambda: run_helmkit(info, env_name, out)))
            runs.setdefault("warm", []).append(timed("helmkit warm", lambda: run_helmkit(info, env_name, out)))
            if not args.skip_helmfile:
                runs.setdefault("helmfile", []).append(timed("helmfile", lambda: run_helmfile(info)))
        rendered = len(list(out.glob("*/*/*.yaml")))
        best = {key: min(v[0] for v in values) for key, values in runs.items()}
        cpu = {key: min(v[1] for v in values) for key, values in runs.items()}
        labels = {"plain": "plain helm template (2 parallel)", "cold": "helmkit template cold",
                  "warm": "helmkit template warm", "helmfile": "helmfile template"}
        print(f"\n{info.instances} instances, {rendered} files rendered; best of {args.repeat} interleaved rounds")
        print(f"{'run':<36}{'wall s':>10}{'vs plain':>10}{'vs cold':>10}{'cpu s':>10}{'cpu vs plain':>14}")
        for key, seconds in best.items():
            print(f"{labels[key]:<36}{seconds:>10.2f}{seconds / best['plain']:>10.2f}{seconds / best['cold']:>10.2f}"
                  f"{cpu[key]:>10.2f}{cpu[key] / cpu['plain']:>14.2f}")
        checks = [("cold <= 1.2x plain helm", best["cold"] <= 1.2 * best["plain"]),
                  ("warm <= 0.1x cold", best["warm"] <= 0.1 * best["cold"])]
        if "helmfile" in best:
            checks.append(("cold and warm faster than helmfile", best["cold"] < best["helmfile"]))
        for name, ok in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {name}")
        return 0 if all(ok for _, ok in checks) else 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
