"""`helmkit sandbox up|status|down|reset|serve`: the built-in sandbox clusters of environments.

``up`` starts a background sandbox (see :mod:`helmkit.sandbox.daemon`) serving every cluster of
the environments and writes a kubeconfig (mode 0600) whose contexts are the ones the
environments name, so ``helmkit diff/sync --env E`` work against it unchanged. A later ``up`` of
another environment adds its clusters: the sandbox restarts with all of them, keeping objects,
ports and tokens (existing kubeconfigs stay valid), and the kubeconfig lists every environment's
contexts. ``reset`` stops it and forgets the objects.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from helmkit.adapters.waiting import until_set
from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository
from helmkit.sandbox import Sandbox, daemon, write_kubeconfig
from helmkit.sandbox.persistence import write_private as persistence_write


@dataclass(frozen=True)
class SandboxOptions:
    envs: tuple[str, ...] = ()
    kubeconfig: Path | None = None


def sandbox_folder(ctx: Context) -> Path:
    return ctx.state_dir / "sandbox"


def default_kubeconfig(ctx: Context) -> Path:
    return sandbox_folder(ctx) / "kubeconfig"


def _served_file(ctx: Context) -> Path:
    """Which environments the background sandbox serves: {env: {cluster: context}} (no secrets)."""
    return sandbox_folder(ctx) / "environments.json"


def environment_clusters(ctx: Context, env: str) -> list[Cluster]:
    repo = load_repository(ctx.repo)
    environment = repo.environments.get(env)
    if environment is None:
        known = ", ".join(sorted(repo.environments)) or "none"
        raise InputError(f"unknown environment {env!r}", hint=f"environments: {known}")
    return [spec.cluster for spec in environment.clusters]


def _served(ctx: Context) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(_served_file(ctx).read_text())
    except (OSError, ValueError):
        return {}
    return {str(env): {str(k): str(v) for k, v in clusters.items()}
            for env, clusters in data.items() if isinstance(clusters, dict)} if isinstance(data, dict) else {}


def _start(folder: Path, names: list[str]) -> dict[str, Any]:
    try:
        return daemon.start(folder, names)
    except daemon.SandboxError as exc:
        raise HelmkitError(str(exc),
                           hint="`helmkit sandbox status` shows it; `helmkit sandbox down` stops it") from None


def up(ctx: Context, options: SandboxOptions) -> None:
    """Serve the clusters of ``options.envs``: start the background sandbox, or add them to the running one."""
    wanted = {env: environment_clusters(ctx, env) for env in options.envs}
    folder = sandbox_folder(ctx)
    served = {env: clusters for env, clusters in _served(ctx).items() if env not in wanted}
    served.update({env: {c.name: c.context for c in clusters} for env, clusters in wanted.items()})
    names = list(dict.fromkeys(name for clusters in served.values() for name in clusters))
    info = daemon.running(folder)
    if info is None:
        action, info = "started", _start(folder, names)
    elif [n for n in names if n not in (info.get("clusters") or {})] or "certificateAuthority" not in info:
        # another environment's clusters: restart with all of them (objects, ports and tokens are kept)
        names = list(dict.fromkeys([*(info.get("clusters") or {}), *names]))
        daemon.stop(folder)
        action, info = "restarted with more clusters", _start(folder, names)
    else:
        action = "already running"
    persistence_write(_served_file(ctx), json.dumps(served, indent=2, sort_keys=True).encode())
    for cluster in info["clusters"].values():
        ctx.masker.add(cluster["token"])
    kubeconfig = (options.kubeconfig or default_kubeconfig(ctx)).absolute()
    entries = {context: (info["clusters"][name]["url"], info["clusters"][name]["token"])
               for clusters in served.values() for name, context in clusters.items() if name in info["clusters"]}
    write_kubeconfig(kubeconfig, entries, info["certificateAuthority"])
    ctx.console.info(f"sandbox {action} (pid {info['pid']}) for environment {', '.join(options.envs)}:")
    for clusters in wanted.values():
        for cluster in clusters:
            ctx.console.info(f"  {cluster.context}: {info['clusters'][cluster.name]['url']}")
    ctx.console.info(f"kubeconfig (mode 0600, contexts of {', '.join(sorted(served))}): {kubeconfig}")
    ctx.console.print(f"export KUBECONFIG={kubeconfig}")


def status(ctx: Context) -> None:
    info = daemon.running(sandbox_folder(ctx))
    if info is None:
        ctx.console.print("sandbox: not running")
        return
    ctx.console.print(f"sandbox: running (pid {info['pid']})")
    clusters = info.get("clusters") or {}
    served = _served(ctx)
    listed: set[str] = set()
    for env, contexts in sorted(served.items()):
        ctx.console.print(f"  environment {env}:")
        for name, context in sorted(contexts.items()):
            if name in clusters:
                listed.add(name)
                ctx.console.print(f"    {context}: {clusters[name]['url']}")
    for name, cluster in sorted(clusters.items()):
        if name not in listed:
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


def reset(ctx: Context) -> None:
    """Stop the background sandbox and forget its objects, tokens and ports."""
    folder = sandbox_folder(ctx)
    stopped = daemon.stop(folder)
    files = daemon.DaemonFiles(folder)
    removed = [path for path in (files.state, _served_file(ctx), default_kubeconfig(ctx)) if path.exists()]
    for path in removed:
        path.unlink()
    what = "stopped and" if stopped else "not running;"
    ctx.console.print(f"sandbox: {what} {'objects forgotten' if files.state in removed else 'no saved objects'}"
                      f" ({len(removed)} file{'s' if len(removed) != 1 else ''} removed from {folder})")


def serve(ctx: Context, options: SandboxOptions) -> None:
    """Serve the environments' clusters in the foreground until Ctrl-C."""
    clusters = list({c.name: c for env in options.envs for c in environment_clusters(ctx, env)}.values())
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
        until_set(stop)
    except OSError as exc:
        raise HelmkitError(f"cannot start the sandbox: {exc}") from None
    finally:
        sandbox.stop()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
