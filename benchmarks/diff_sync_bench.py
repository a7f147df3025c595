"""Benchmark: `helmkit sync` / `helmkit diff` on a sandbox fleet vs helmfile and plain helm.

The fleet comes from :mod:`fleetgen` (``--clusters`` clusters of one environment, ``--releases-per-cluster``
releases each). Everything runs against sandbox API servers in this process (one per cluster).
Measured, each once (a sync changes the state the next step sees):

* helmkit sync from scratch (helm 3.19 by default, ``--helm 4`` for 4.1), its helm processes
* helmkit sync again (no-op): wall time and helm processes (expected: 0)
* helmkit diff, warm render cache and cold (``.helmkit/cache`` removed), helm processes
* plain helm "diff": per release ``helm get manifest`` + ``helm template`` (the merged values written
  beforehand, untimed), ``--parallel`` at a time -- what a script around helm-diff does
* helmfile sync from scratch on a fresh sandbox with the same fleet (helmfile 0.166.0, helm 3.15.3),
  and helmfile sync again (no helm-diff plugin: it upgrades every release again); helm processes
  counted through a wrapper script

Run: ``.venv/bin/python benchmarks/diff_sync_bench.py [--clusters 10 --releases-per-cluster 20]``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleetgen import FleetInfo, generate_fleet

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.sync import SyncOptions, sync
from helmkit.context import Context
from helmkit.output.console import Console
from helmkit.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".helmkit" / "tools"
HELMS = {"3": TOOLS / "helm-v3.19.0" / "helm", "4": TOOLS / "helm-v4.1.4" / "helm"}
HELMFILE = TOOLS / "helmfile-v0.166.0" / "helmfile"
HELMFILE_HELM = TOOLS / "helm-v3.15.3" / "helm"


def run_helmkit(root: Path, helm: Path, action: Callable[[Context, Any], int], options: Any,
                concurrency: int) -> tuple[float, int, int]:
    ctx = Context(repo=root, helm_option=str(helm), concurrency=concurrency)
    ctx.console = Console(masker=ctx.masker, out=io.StringIO(), err=io.StringIO(), colour=False)
    started = time.perf_counter()
    code = action(ctx, options)
    return time.perf_counter() - started, ctx.runner.started.get("helm", 0), code


def plain_helm_diff(info: FleetInfo, env: str, helm: Path, values_dir: Path, parallel: int) -> tuple[float, int]:
    """Per instance: `helm get manifest` and `helm template`, ``parallel`` at a time."""
    from helmkit.model.repository import load_repository
    from helmkit.model.resolve import resolve_instances
    from helmkit.model.secrets import apply_secrets, resolve_secrets

    values_dir.mkdir(parents=True, exist_ok=True)
    argvs: list[list[str]] = []
    environ = dict(os.environ) | info.secret_env
    for instance in resolve_instances(load_repository(info.root), env):
        values = apply_secrets(instance.values, resolve_secrets(instance, repo_root=info.root, environ=environ))
        path = values_dir / f"{instance.cluster.name}-{instance.name}.yaml"
        path.write_text(yaml.safe_dump(values))
        target = ["--namespace", instance.namespace, "--kube-context", instance.cluster.context]
        argvs.append([str(helm), "get", "manifest", instance.name, *target])
        argvs.append([str(helm), "template", instance.name, str(instance.chart.path), "--namespace",
                      instance.namespace, "--kube-version", info.kube_version, "-f", str(path)])
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        codes = list(pool.map(lambda argv: subprocess.run(argv, capture_output=True, check=False).returncode, argvs))
    elapsed = time.perf_counter() - started
    failed = sum(1 for c in codes if c)
    if failed:
        print(f"  (plain helm: {failed} of {len(argvs)} processes failed)")
    return elapsed, len(argvs)


def helm_wrapper(folder: Path, helm: Path, log: Path) -> Path:
    """A helm that logs each start, so helmfile's helm processes can be counted."""
    wrapper = folder / "helm"
    wrapper.write_text(f'#!/bin/sh\necho x >> "{log}"\nexec "{helm}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def helmfile_sync(info: FleetInfo, wrapper: Path, log: Path, concurrency: int) -> tuple[float, int, int]:
    log.write_text("")
    argv = [str(HELMFILE), "--helm-binary", str(wrapper), "-f", str(info.helmfile), "sync", "--skip-deps",
            "--concurrency", str(concurrency)]
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=info.root)
    elapsed = time.perf_counter() - started
    if proc.returncode:
        print("  helmfile failed:", proc.stderr[-800:])
    return elapsed, len(log.read_text().splitlines()), proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--releases-per-cluster", type=int, default=20)
    parser.add_argument("--helm", choices=sorted(HELMS), default="3")
    parser.add_argument("--concurrency", type=int, default=4, help="helmkit: per cluster; helmfile: overall")
    parser.add_argument("--parallel", type=int, default=4, help="plain helm processes at a time")
    parser.add_argument("--skip-helmfile", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="helmkit-bench-"))
    try:
        info = generate_fleet(work / "fleet", releases_per_cluster=args.releases_per_cluster, clusters=args.clusters)
        env = info.environments[0]
        os.environ.update(info.secret_env)
        for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
            os.environ[key] = str(work / "home" / key.lower())
        names = [name for _, name in info.clusters]
        helm = HELMS[args.helm]
        print(f"{info.instances} release instances on {len(names)} sandbox clusters; helmkit with {helm.parent.name}, "
              f"concurrency {args.concurrency} per cluster; {os.cpu_count()} CPUs")
        rows: list[tuple[str, float, int | str]] = []
        with Sandbox(names, admin=False) as sandbox:
            os.environ["KUBECONFIG"] = str(sandbox.write_kubeconfig(work / "kubeconfig"))
            sync_opts = SyncOptions(env=env, yes=True, concurrency=args.concurrency)
            diff_opts = DiffOptions(env=env, concurrency=args.concurrency)
            seconds, count, code = run_helmkit(info.root, helm, sync, sync_opts, args.concurrency)
            rows.append((f"helmkit sync from scratch (exit {code})", seconds, count))
            seconds, count, code = run_helmkit(info.root, helm, sync, sync_opts, args.concurrency)
            rows.append((f"helmkit sync again, no-op (exit {code})", seconds, count))
            seconds, count, _ = run_helmkit(info.root, helm, diff, diff_opts, args.concurrency)
            rows.append(("helmkit diff, warm cache", seconds, count))
            shutil.rmtree(info.root / ".helmkit" / "cache", ignore_errors=True)
            seconds, count, _ = run_helmkit(info.root, helm, diff, diff_opts, args.concurrency)
            rows.append(("helmkit diff, cold cache", seconds, count))
            seconds, count = plain_helm_diff(info, env, helm, work / "values", args.parallel)
            rows.append((f"plain helm get manifest + template, {args.parallel} parallel", seconds, count))
        if not args.skip_helmfile:
            with Sandbox(names, admin=False) as sandbox:
                os.environ["KUBECONFIG"] = str(sandbox.write_kubeconfig(work / "kubeconfig-helmfile"))
                log = work / "helm-starts.log"
                wrapper = helm_wrapper(work, HELMFILE_HELM, log)
                seconds, count, code = helmfile_sync(info, wrapper, log, args.concurrency)
                rows.append((f"helmfile sync from scratch (exit {code})", seconds, count))
                seconds, count, code = helmfile_sync(info, wrapper, log, args.concurrency)
                rows.append((f"helmfile sync again (exit {code})", seconds, count))
        width = max(len(r[0]) for r in rows)
        print(f"{'':<{width}}  {'seconds':>8}  {'helm processes':>14}")
        for label, seconds, count in rows:
            print(f"{label:<{width}}  {seconds:8.1f}  {count!s:>14}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
