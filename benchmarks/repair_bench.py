"""Benchmark: the API cost of comparing live objects in `helmkit diff` (what `sync` repairs).

A generated fleet (:mod:`fleetgen`) is synced onto sandbox clusters, then a no-op `helmkit diff`
runs with the live check (default) and with ``--no-repair``; the sandbox's request log counts
the API requests each made per cluster (the live check adds one list call per kind the in-sync
releases hold, plus discovery, per cluster: a number that does not grow with the releases).
Then one Deployment per cluster is edited by hand and one ConfigMap deleted, and a `helmkit
sync` repairs them: its helm processes are counted (expected: one per cluster).

Run: ``.venv/bin/python benchmarks/repair_bench.py [--clusters 4 --releases-per-cluster 20 --helm 4]``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleetgen import generate_fleet

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.sync import SyncOptions, sync
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.context import Context
from helmkit.output.console import Console
from helmkit.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
HELMS = {"3": ROOT / ".helmkit" / "tools" / "helm-v3.19.0" / "helm",
         "4": ROOT / ".helmkit" / "tools" / "helm-v4.1.4" / "helm"}


def run(root: Path, helm: Path, action: Any, options: Any) -> tuple[int, float, int, str]:
    ctx = Context(repo=root, helm_option=str(helm))
    ctx.console = Console(masker=ctx.masker, out=io.StringIO(), err=io.StringIO(), colour=False)
    started = time.perf_counter()
    code = action(ctx, options)
    out = ctx.console.out
    assert isinstance(out, io.StringIO)
    return code, time.perf_counter() - started, ctx.runner.started.get("helm", 0), out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=4)
    parser.add_argument("--releases-per-cluster", type=int, default=20)
    parser.add_argument("--helm", choices=sorted(HELMS), default="4")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="helmkit-repair-bench-"))
    try:
        info = generate_fleet(work / "fleet", releases_per_cluster=args.releases_per_cluster, clusters=args.clusters)
        env = info.environments[0]
        os.environ.update(info.secret_env)
        for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
            os.environ[key] = str(work / "home" / key.lower())
        names = [name for _, name in info.clusters]
        helm = HELMS[args.helm]
        with Sandbox(names, admin=False) as sandbox:
            os.environ["KUBECONFIG"] = str(sandbox.write_kubeconfig(work / "kubeconfig"))
            code, seconds, _, _ = run(info.root, helm, sync, SyncOptions(env=env, yes=True))
            print(f"{info.instances} release instances on {len(names)} clusters, {helm.parent.name}: "
                  f"sync exit {code} in {seconds:.1f}s")
            for label, repair in (("diff (live check)", True), ("diff --no-repair", False)):
                before = {n: len(sandbox.requests(n)) for n in names}
                code, seconds, _, _ = run(info.root, helm, diff, DiffOptions(env=env, detailed_exitcode=True,
                                                                             repair=repair))
                calls = [len(sandbox.requests(n)) - before[n] for n in names]
                print(f"{label:<20} exit {code}  {seconds:5.1f}s  API requests per cluster: {calls}")
            for name in names:
                edit_by_hand(name)
            code, seconds, _, out = run(info.root, helm, diff, DiffOptions(env=env, detailed_exitcode=True))
            print(f"diff after hand edits exit {code}: {out.count('live-drift')} live-drift lines")
            code, seconds, helms, out = run(info.root, helm, sync, SyncOptions(env=env, yes=True))
            print(f"sync repairs: exit {code} in {seconds:.1f}s, {helms} helm processes; {out.splitlines()[0]}")
            code, seconds, _, _ = run(info.root, helm, diff, DiffOptions(env=env, detailed_exitcode=True))
            print(f"diff afterwards exit {code}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def edit_by_hand(cluster: str) -> None:
    """Scale nothing, but change a Deployment's image and delete a ConfigMap of a Helm release."""
    with KubeClient(load_cluster_config(cluster, Runner())) as client:
        deployments = client.list("apps/v1", "Deployment", label_selector="app.kubernetes.io/managed-by=Helm")
        target = deployments[0]
        meta = target["metadata"]
        container = target["spec"]["template"]["spec"]["containers"][0]["name"]
        client.patch("apps/v1", "Deployment", meta["name"], {"spec": {"template": {"spec": {"containers": [
            {"name": container, "image": "busybox:by-hand"}]}}}}, namespace=meta["namespace"],
                     patch_type="strategic", field_manager="kubectl-set")
        maps = client.list("v1", "ConfigMap", label_selector="app.kubernetes.io/managed-by=Helm")
        if maps:
            client.delete("v1", "ConfigMap", maps[0]["metadata"]["name"], maps[0]["metadata"]["namespace"])


if __name__ == "__main__":
    main()
