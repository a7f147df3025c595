"""`helmkit sandbox up|status|down|serve`: the built-in sandbox clusters of an environment.

``up`` starts a background sandbox (see :mod:`helmkit.sandbox.daemon`) serving every cluster of
the environment and writes a kubeconfig (mode 0600) whose contexts are the ones the
environment names, so ``helmkit diff/sync --env E`` work against it unchanged.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository
from helmkit.sandbox import Sandbox, daemon, write_kubeconfig


@dataclass(frozen=True)
class SandboxOptions:
    env: str | None = None
    kubeconfig: Path | None = None


def sandbox_folder(ctx: Context) -> Path:
    return ctx.state_dir / "sandbox"


def default_kubeconfig(ctx: Context) -> Path:
    return sandbox_folder(ctx) / "kubeconfig"


def environment_clusters(ctx: Context, env: str) -> list[Cluster]:
    repo = load_repository(ctx.repo)
    environment = repo.environments.get(env)
    if environment is None:
        known = ", ".join(sorted(repo.environments)) or "none"
        raise InputError(f"unknown environment {env!r}", hint=f"environments: {known}")
    return [spec.cluster for spec in environment.clusters]


def up(ctx: Context, options: SandboxOptions) -> None:
    assert options.env is not None
    clusters = environment_clusters(ctx, options.env)
    folder = sandbox_folder(ctx)
    kubeconfig = (options.kubeconfig or default_kubeconfig(ctx)).absolute()
    info = daemon.running(folder)
    started = info is None
    if info is not None:
        missing = [c.name for c in clusters if c.name not in (info.get("clusters") or {})]
        if missing or "certificateAuthority" not in info:
            raise HelmkitError(f"a sandbox is already running without cluster(s) {', '.join(missing) or '?'}",
                               hint="stop it with `helmkit sandbox down`, then run `helmkit sandbox up` again")
    else:
        try:
            info = daemon.start(folder, [c.name for c in clusters])
        except daemon.SandboxError as exc:
            raise HelmkitError(str(exc),
                               hint="`helmkit sandbox status` shows it; `helmkit sandbox down` stops it") from None
    for cluster in clusters:
        ctx.masker.add(info["clusters"][cluster.name]["token"])
    entries = {c.context: (info["clusters"][c.name]["url"], info["clusters"][c.name]["token"]) for c in clusters}
    write_kubeconfig(kubeconfig, entries, info["certificateAuthority"])
    what = "started" if started else "already running"
    ctx.console.info(f"sandbox {what} (pid {info['pid']}) for environment {options.env}:")
    for cluster in clusters:
        ctx.console.info(f"  {cluster.context}: {info['clusters'][cluster.name]['url']}")
    ctx.console.info(f"kubeconfig (mode 0600): {kubeconfig}")
    ctx.console.print(f"export KUBECONFIG={kubeconfig}")


def status(ctx: Context) -> None:
    info = daemon.running(sandbox_folder(ctx))
    if info is None:
        ctx.console.print("sandbox: not running")
        return
    ctx.console.print(f"sandbox: running (pid {info['pid']})")
    for name, cluster in sorted((info.get("clusters") or {}).items()):
        ctx.console.print(f"  {name}: {cluster['url']}")
    kubeconfig = default_kubeconfig(ctx)
    if kubeconfig.exists():
        ctx.console.print(f"kubeconfig: {kubeconfig}")


def down(ctx: Context) -> None:
    if daemon.stop(sandbox_folder(ctx)):
        ctx.console.print("sandbox: stopped (objects kept in " + str(daemon.DaemonFiles(sandbox_folder(ctx)).state)
                          + ")")
    else:
        ctx.console.print("sandbox: not running")


def serve(ctx: Context, options: SandboxOptions) -> None:
    """Serve the environment's clusters in the foreground until Ctrl-C."""
    assert options.env is not None
    clusters = environment_clusters(ctx, options.env)
    folder = sandbox_folder(ctx)
    if daemon.running(folder) is not None:
        raise HelmkitError("a background sandbox is running and owns the state file",
                           hint="stop it with `helmkit sandbox down` first")
    kubeconfig = (options.kubeconfig or default_kubeconfig(ctx)).absolute()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGINT, on_signal), signal.signal(signal.SIGTERM, on_signal)
    sandbox = Sandbox([c.name for c in clusters], state_file=daemon.DaemonFiles(folder).state)
    try:
        sandbox.start()
        for cluster in clusters:
            ctx.masker.add(sandbox.token(cluster.name))
        sandbox.write_kubeconfig(kubeconfig, {c.name: c.context for c in clusters})
        for cluster in clusters:
            ctx.console.info(f"  {cluster.context}: {sandbox.url(cluster.name)}")
        ctx.console.print(f"export KUBECONFIG={kubeconfig}")
        ctx.console.info(f"serving (pid {os.getpid()}); Ctrl-C stops")
        stop.wait()
    except OSError as exc:
        raise HelmkitError(f"cannot start the sandbox: {exc}") from None
    finally:
        sandbox.stop()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
