"""Benchmark: `validate --changed-since` on a large fleet when a pull request touches one release file.

Generates a fleet (``fleetgen.py``: 25 releases x 20 clusters = 500 release instances by default),
commits it to a fresh git repository, changes one release file in the working tree, then times
:func:`helmkit.actions.premerge.run_validate_changed` (what ``helmkit validate --changed-since main``
runs) with an empty render cache (cold) and again (warm). Only the affected instances are rendered:
the output prints their count and the number of helm processes started, wall time and CPU time
(this process and its children: on a busy machine the wall time says more about the others).
Target: under 3 s cold.
Then it times ``diff --git-base main`` (both revisions rendered) the same way.

Run: ``.venv/bin/python benchmarks/premerge_bench.py [--releases 25] [--clusters 20] [--helm PATH]``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleetgen import generate_fleet  # noqa: E402

from helmkit.actions.premerge import ChangedSinceOptions, GitDiffOptions, run_git_diff, run_validate_changed  # noqa: E402
from helmkit.adapters.runner import Runner  # noqa: E402
from helmkit.context import Context  # noqa: E402
from helmkit.output.console import Console  # noqa: E402

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(root: Path, *args: str) -> None:
    Runner().run(["git", "-C", str(root), *args], env=GIT_ENV)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (less sensitive to other load than wall time)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(root: Path, helm: str, action: str) -> tuple[float, float, int, str, dict[str, int]]:
    ctx = Context(repo=root, helm_option=helm, concurrency=2)
    out = io.StringIO()
    ctx.console = Console(masker=ctx.masker, out=out, err=io.StringIO())
    start, cpu = time.perf_counter(), cpu_seconds()
    if action == "validate":
        code = run_validate_changed(ctx, ChangedSinceOptions("main"))
    else:
        code = run_git_diff(ctx, GitDiffOptions("main", fmt="json"))
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    last = out.getvalue().strip().splitlines()[-1] if action == "validate" else f"{len(out.getvalue())} bytes"
    return elapsed, cpu, code, last, dict(ctx.runner.started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=25, help="releases per cluster")
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--helm", default=str(ROOT / ".helmkit" / "tools" / "helm-v4.1.4" / "helm"))
    parser.add_argument("--keep", type=Path, help="keep the generated repository here")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="helmkit-premerge-bench-"))
    root = args.keep or tmp / "fleet"
    try:
        for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
            os.environ[key] = str(tmp / "helmhome" / key.lower())
        info = generate_fleet(root, releases_per_cluster=args.releases, clusters=args.clusters)
        os.environ.update(info.secret_env)
        (root / ".gitignore").write_text(".helmkit/\n")
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "--no-verify", "-m", "fleet")
        touched = root / "releases" / f"{info.releases[-1]}.yaml"
        touched.write_text(re.sub(r"tag: .*", "tag: 9.9.9", touched.read_text(), count=1))
        print(f"fleet: {info.instances} release instances ({len(info.releases)} releases x "
              f"{len(info.clusters)} clusters); pull request touches {touched.relative_to(root)}")
        for action in ("validate", "diff"):
            for run in ("cold", "warm"):
                if run == "cold":
                    shutil.rmtree(root / ".helmkit", ignore_errors=True)
                elapsed, cpu, code, last, started = timed(root, args.helm, action)
                print(f"{action:8} {run}: {elapsed:5.2f} s wall, {cpu:5.2f} s cpu  exit {code}  "
                      f"processes {started}  {last}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
