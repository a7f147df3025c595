"""Benchmark: status, diff, drift, template and sync of a heavy fleet at scale, side by side with helmfile.

The fleet comes from :mod:`fleetgen` with ``heavy=True`` (by default 20 clusters in 4 regions, 11
releases each: cert-manager, cluster issuer, ingress, external-dns, prometheus operator, the
generated prometheus-stack-like ``heavy-stack`` with megabytes of CRDs and dashboards, two log
shippers, an exporter and two services), written into a temp folder. Every cluster is a
``helmkit.sandbox`` cluster, served by a child process (as an API server is a process of its own).

Each command runs as a child process (``python -m helmkit ...`` or helmfile) and is measured
from here: wall time; CPU time, user + system of the child and every process it waited for (from
``os.wait4``); peak RSS of its process tree (the sum over the tree, sampled every 50 ms from
``/proc``; the sandbox, a process of its own, is not part of it) and the largest single process
(``ru_maxrss``); and the helm processes it started, with their CPU time (helm is a wrapper script
that logs each start and runs helm under ``/usr/bin/time``): the rest of the CPU time is the tool's own.
The 1-minute load average after each step shows how loaded the machine was.

Steps, in this order (helmkit with ``--concurrency 4`` per cluster, helmfile ``--concurrency 4``):

1. ``helmkit template --env prod`` cold (empty render cache), then ``helmfile template`` of the
   same fleet, then ``helmkit template`` warm;
2. on fresh sandbox clusters: ``helmkit sync`` from scratch (cold cache), ``sync`` again twice
   (nothing to do), ``status``, ``diff`` (no change, warm cache), ``drift``;
3. unless ``--skip-helmfile``: on fresh sandbox clusters, ``helmfile sync`` from scratch.

Ratios come from the same run. ``helmkit bootstrap --with-helmfile`` first. Run:
``.venv/bin/python benchmarks/fleet_scale_bench.py [--clusters 20] [--releases-per-cluster 11] [--helm 3|4]
[--skip-helmfile] [--one-wave] [--keep DIR]``. The fleet's clusters are in waves 0 (one cluster), 1
(one) and 2 (the others): helmkit's sync rolls the waves out one after the other (canaries), which
helmfile does not do; ``--one-wave`` puts every cluster in wave 0 to compare the same work.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleetgen import FleetInfo, generate_fleet

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".helmkit" / "tools"
HELMS = {"3": TOOLS / "helm-v3.19.0" / "helm", "4": TOOLS / "helm-v4.1.4" / "helm"}
HELMFILE = TOOLS / "helmfile-v0.166.0" / "helmfile"
HELMFILE_HELM = TOOLS / "helm-v3.15.3" / "helm"
SAMPLE_SECONDS = 0.05


@dataclass
class Measure:
    label: str
    code: int
    wall: float
    cpu: float
    tree_rss_mb: float
    max_rss_mb: float
    helm: int
    helm_cpu: float
    load: float
    out_bytes: int
    server_cpu: float = 0.0  # CPU seconds of the sandbox API server process during the step


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    tree = _children()
    total, todo, page = 0, [root], os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(label: str, argv: list[str], *, cwd: Path, log: Path, out: Path, server: int | None = None) -> Measure:
    """Run ``argv`` as a child process and measure it (see the module docstring); ``server``: the
    sandbox process, whose CPU time during the step is measured too."""
    server_before = _process_cpu(server)
    log.write_text("")
    cpu_log = log.with_suffix(".cpu")
    cpu_log.write_text("")
    peak = [0]
    started = time.perf_counter()
    with out.open("wb") as sink:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    helm = len(log.read_text().splitlines())
    return Measure(label, proc.returncode, wall, usage.ru_utime + usage.ru_stime, peak[0] / 2**20,
                   usage.ru_maxrss / 1024, helm, _helm_cpu(cpu_log), os.getloadavg()[0], out.stat().st_size,
                   _process_cpu(server) - server_before)


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a running process (0 without one)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _helm_cpu(cpu_log: Path) -> float:
    """The CPU seconds (user + system) of the helm processes that ``/usr/bin/time`` logged."""
    total = 0.0
    for line in cpu_log.read_text().splitlines():
        fields = line.split()
        if len(fields) == 2 and all(f.replace(".", "", 1).isdigit() for f in fields):
            total += float(fields[0]) + float(fields[1])
    return total


SANDBOX_CHILD = """
import sys
from pathlib import Path
from helmkit.sandbox import Sandbox
with Sandbox(sys.argv[2:], admin=False) as sandbox:
    sandbox.write_kubeconfig(Path(sys.argv[1]))
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes it
"""


@contextlib.contextmanager
def sandbox_process(names: list[str], kubeconfig: Path) -> Iterator[tuple[Path, int]]:
    """Sandbox clusters served by a process of their own, as an API server is: the measuring
    thread of this process never competes with them for the interpreter. Yields the kubeconfig
    and the process id."""
    child = subprocess.Popen([sys.executable, "-c", SANDBOX_CHILD, str(kubeconfig), *names],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("the sandbox did not start")
        yield kubeconfig, child.pid
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=120)


def one_wave(env_file: Path) -> None:
    """Put every cluster of an environment file in wave 0."""
    spec = yaml.safe_load(env_file.read_text())
    for cluster in spec.get("clusters") or []:
        cluster["wave"] = 0
    env_file.write_text(yaml.safe_dump(spec, sort_keys=False))


def isolate_helm(work: Path) -> None:
    """helm's own homes under ``work`` (no repository or cache of the machine), helmkit's default helm."""
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        os.environ[key] = str(work / "home" / key.lower())
    os.environ.pop("HELMKIT_HELM", None)


def helm_wrapper(folder: Path, helm: Path, log: Path) -> Path:
    """A helm that logs each start, so every tool's helm processes can be counted, and (with
    ``/usr/bin/time``) the CPU time of each."""
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "helm"
    timed = f'/usr/bin/time -a -o "{log.with_suffix(".cpu")}" -f "%U %S" ' if Path("/usr/bin/time").exists() else ""
    wrapper.write_text(f'#!/bin/sh\necho x >> "{log}"\nexec {timed}"{helm}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


class Bench:
    def __init__(self, info: FleetInfo, work: Path, helm: Path, concurrency: int) -> None:
        self.info, self.work, self.concurrency = info, work, concurrency
        self.log = work / "helm-starts.log"
        self.helm = helm_wrapper(work / "bin-helmkit", helm, self.log)
        self.helmfile_helm = helm_wrapper(work / "bin-helmfile", HELMFILE_HELM, self.log)
        self.rows: list[Measure] = []
        self.server: int | None = None  # the sandbox process of the steps that talk to clusters

    def helmkit(self, label: str, *args: str) -> Measure:
        argv = [sys.executable, "-m", "helmkit", "--repo", str(self.info.root), "--helm", str(self.helm), *args]
        return self._run(label, argv)

    def helmfile(self, label: str, *args: str) -> Measure:
        argv = [str(HELMFILE), "--helm-binary", str(self.helmfile_helm), "-f", str(self.info.helmfile), *args]
        return self._run(label, argv)

    def _run(self, label: str, argv: list[str]) -> Measure:
        out = self.work / "outputs" / (label.replace(" ", "_").replace("/", "_") + ".txt")
        out.parent.mkdir(exist_ok=True)
        row = measure(label, argv, cwd=self.info.root, log=self.log, out=out, server=self.server)
        self.rows.append(row)
        print(f"  {_row(row)}", flush=True)
        if row.code not in (0, 2):
            print("    " + "\n    ".join(out.read_text(errors="replace").splitlines()[-12:]), flush=True)
        return row

    def clear_cache(self) -> None:
        shutil.rmtree(self.info.root / ".helmkit" / "cache", ignore_errors=True)


HEADER = (f"{'step':<44} {'exit':>4} {'wall s':>7} {'CPU s':>7} {'tree RSS MB':>11} {'max proc MB':>11} "
          f"{'helm procs':>10} {'helm CPU s':>10} {'API CPU s':>9} {'load':>5} {'output':>9}")


def _row(m: Measure) -> str:
    return (f"{m.label:<44} {m.code:>4} {m.wall:>7.1f} {m.cpu:>7.1f} {m.tree_rss_mb:>11.0f} {m.max_rss_mb:>11.0f} "
            f"{m.helm:>10} {m.helm_cpu:>10.1f} {m.server_cpu:>9.1f} {m.load:>5.1f} {_size(m.out_bytes):>9}")


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--releases-per-cluster", type=int, default=11)
    parser.add_argument("--helm", choices=sorted(HELMS), default="3", help="helm major helmkit uses")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--skip-helmfile", action="store_true")
    parser.add_argument("--one-wave", action="store_true",
                        help="every cluster in wave 0 (helmfile has no waves: sync then does the same work at once)")
    parser.add_argument("--keep", type=Path, help="generate the fleet here and keep it (default: a temp folder)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="helmkit-fleet-bench-"))
    try:
        info = generate_fleet(work / "fleet", releases_per_cluster=args.releases_per_cluster,
                              clusters=args.clusters, heavy=True)
        env = info.environments[0]
        if args.one_wave:
            one_wave(info.root / "environments" / f"{env}.yaml")
        os.environ.update(info.secret_env)
        run_fleet(info, work, env, args)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def compile_bytecode() -> None:
    """Byte-compile helmkit and its libraries, as installing a package does: each step then measures
    helmkit as installed, not Python compiling its sources (an editable install under
    ``PYTHONDONTWRITEBYTECODE=1`` compiles every module on every start: about 0.3 s of CPU)."""
    import helmkit

    folders = {str(Path(helmkit.__file__).parent), sysconfig.get_paths()["purelib"]}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *sorted(folders)], check=False,
                   stdout=subprocess.DEVNULL, env=env)


def run_fleet(info: FleetInfo, work: Path, env: str, args: argparse.Namespace, source: str = "") -> None:
    """Measure ``info``'s fleet with the options of the command line (``--helm``, ``--concurrency``...)."""
    isolate_helm(work)
    compile_bytecode()
    names = [name for _, name in info.clusters]
    bench = Bench(info, work, HELMS[args.helm], args.concurrency)
    print(f"{info.instances} release instances ({len(info.releases)} per cluster){source} on {len(names)} sandbox "
          f"clusters; helmkit with {HELMS[args.helm].parent.name}, helmfile 0.166.0 with helm 3.15.3; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    run_steps(bench, env, names, skip_helmfile=args.skip_helmfile, keep=args.keep is not None)


def run_steps(bench: Bench, env: str, names: list[str], *, skip_helmfile: bool, keep: bool) -> None:
    """Every step of the table (see the module docstring), then all figures and the ratios."""
    work, conc = bench.work, str(bench.concurrency)
    print(HEADER)
    bench.clear_cache()
    out_dir = str(work / "rendered")
    cold = bench.helmkit(f"template --env {env}, cold", "template", "--env", env, "--output-dir", out_dir,
                         "--concurrency", conc)
    helmfile_template = None
    if not skip_helmfile:
        helmfile_template = bench.helmfile("helmfile template", "template", "--skip-deps", "--concurrency", conc)
    warm = bench.helmkit(f"template --env {env}, warm", "template", "--env", env, "--output-dir", out_dir,
                         "--concurrency", conc)
    with sandbox_process(names, work / "kubeconfig") as (kubeconfig, bench.server):
        os.environ["KUBECONFIG"] = str(kubeconfig)
        bench.clear_cache()
        scratch = bench.helmkit("sync from scratch (cold cache)", "sync", "--env", env, "--yes",
                                "--concurrency", conc)
        bench.helmkit("sync, nothing to do", "sync", "--env", env, "--yes", "--concurrency", conc)
        bench.helmkit("sync, nothing to do, again", "sync", "--env", env, "--yes", "--concurrency", conc)
        bench.helmkit(f"status --env {env}", "status", "--env", env)
        bench.helmkit(f"diff --env {env}, no change, warm", "diff", "--env", env, "--concurrency", conc)
        bench.helmkit(f"drift --env {env}", "drift", "--env", env, "--concurrency", conc)
    bench.server = None
    helmfile_sync = None
    if not skip_helmfile:
        with sandbox_process(names, work / "kubeconfig-helmfile") as (kubeconfig, bench.server):
            os.environ["KUBECONFIG"] = str(kubeconfig)
            helmfile_sync = bench.helmfile("helmfile sync from scratch", "sync", "--skip-deps",
                                           "--concurrency", conc)
        bench.server = None
    print("\nall figures:")
    print(HEADER)
    for row in bench.rows:
        print(_row(row))
    print("\nratios (same run; wall / CPU):")
    print(f"  template warm / cold: {warm.wall / cold.wall:.2f} / {warm.cpu / cold.cpu:.2f}")
    if helmfile_template is not None:
        print(f"  template cold / helmfile template: {cold.wall / helmfile_template.wall:.2f} / "
              f"{cold.cpu / helmfile_template.cpu:.2f}")
    if helmfile_sync is not None:
        print(f"  sync from scratch / helmfile sync: {scratch.wall / helmfile_sync.wall:.2f} / "
              f"{scratch.cpu / helmfile_sync.cpu:.2f}")
    print(f"outputs of every step: {work / 'outputs'}" if keep else "")


if __name__ == "__main__":
    raise SystemExit(main())
