"""A sandbox: N independent clusters served by one process, each on its own 127.0.0.1 port.

Each cluster has its own store, bearer token, faults and request log. An optional admin
endpoint (its own port and token) exposes faults and request logs to other processes. With a
state file, objects, tokens and ports survive a restart.
"""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from helmkit.sandbox import certificates, persistence
from helmkit.sandbox.admin import AdminServer
from helmkit.sandbox.cluster import DEFAULT_KUBE_VERSION, ClusterState
from helmkit.sandbox.controllers import TICK_SECONDS
from helmkit.sandbox.faults import Faults, RequestRecord
from helmkit.sandbox.server import ClusterServer


class Sandbox:
    """In-memory Kubernetes API servers for tests and local use. Use as a context manager."""

    def __init__(self, clusters: Iterable[str] = (), *, state_file: Path | str | None = None,
                 host: str = "127.0.0.1", ports: Mapping[str, int] | None = None, admin: bool = True,
                 admin_port: int = 0, kube_version: str = DEFAULT_KUBE_VERSION,
                 identity: certificates.Identity | None = None) -> None:
        self._names = list(dict.fromkeys(clusters))
        self.state_file = Path(state_file) if state_file else None
        self.host = host
        self._ports = dict(ports or {})
        self._admin_wanted = admin
        self._admin_port = admin_port
        self.kube_version = kube_version
        self._sequence = itertools.count(1)
        self._clusters: dict[str, ClusterState] = {}
        self._servers: dict[str, ClusterServer] = {}
        self._admin: AdminServer | None = None
        self.admin_token = secrets.token_urlsafe(24)
        self._saver: persistence.Saver | None = None
        self._dormant: dict[str, Any] = {}
        self.identity = identity
        self._ticking = threading.Event()
        self._ticker: threading.Thread | None = None

    # ---- life cycle --------------------------------------------------------------------------

    def start(self) -> Sandbox:
        saved = persistence.load(self.state_file) if self.state_file else None
        saved_clusters: dict[str, Any] = (saved or {}).get("clusters") or {}
        names = self._names or list(saved_clusters)
        # clusters saved earlier but not served now stay in the state file untouched
        self._dormant = {name: data for name, data in saved_clusters.items() if name not in names}
        if not names:
            raise ValueError("a sandbox needs at least one cluster")
        if saved and saved.get("adminToken"):
            self.admin_token = saved["adminToken"]
        tls = (saved or {}).get("tls") or {}
        if self.identity is None and tls.get("certificate") and tls.get("key"):
            self.identity = certificates.Identity(tls["certificate"], tls["key"])
        if self.identity is None:
            self.identity = certificates.generate()
        context = certificates.server_context(self.identity)
        for name in names:
            data = saved_clusters.get(name) or {}
            cluster = ClusterState(name, data.get("token") or secrets.token_urlsafe(24), sequence=self._sequence,
                                   kube_version=data.get("kubeVersion") or self.kube_version)
            if data:
                cluster.restore(data)
            self._clusters[name] = cluster
            port = self._ports.get(name) or int(data.get("port") or 0)
            server = ClusterServer(cluster, self.host, port, context)
            try:
                server.start()
            except OSError:
                if not port:
                    raise
                server = ClusterServer(cluster, self.host, 0, context)  # the saved port is taken: take another
                server.start()
            self._servers[name] = server
        if self._admin_wanted:
            port = self._admin_port or int((saved or {}).get("adminPort") or 0)
            try:
                self._admin = AdminServer(self.host, port, self.admin_token, self._cluster_urls)
            except OSError:
                self._admin = AdminServer(self.host, 0, self.admin_token, self._cluster_urls)
            self._admin.start()
        self._ticking.clear()
        self._ticker = threading.Thread(target=self._tick, name="sandbox-controllers", daemon=True)
        self._ticker.start()
        if self.state_file:
            self._saver = persistence.Saver(self.state_file, self.snapshot, self._version)
            self._saver.save_if_changed()
            self._saver.start()
        return self

    def _tick(self) -> None:
        while not self._ticking.wait(TICK_SECONDS):
            for cluster in list(self._clusters.values()):
                cluster.tick()

    def stop(self) -> None:
        self._ticking.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        for server in self._servers.values():
            server.stop()
        if self._admin is not None:
            self._admin.stop()
            self._admin = None
        if self._saver is not None:
            self._saver.stop()
            self._saver = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ---- queries -----------------------------------------------------------------------------

    @property
    def clusters(self) -> list[str]:
        return list(self._clusters)

    def cluster(self, name: str) -> ClusterState:
        try:
            return self._clusters[name]
        except KeyError:
            raise KeyError(f"no sandbox cluster {name!r} (have: {', '.join(self._clusters)})") from None

    def url(self, cluster: str) -> str:
        self.cluster(cluster)
        return self._servers[cluster].url

    def port(self, cluster: str) -> int:
        self.cluster(cluster)
        return self._servers[cluster].port

    def token(self, cluster: str) -> str:
        return self.cluster(cluster).token

    def faults(self, cluster: str) -> Faults:
        return self.cluster(cluster).faults

    def requests(self, cluster: str, since: int = 0) -> list[RequestRecord]:
        return self.cluster(cluster).log.entries(since)

    @property
    def admin_url(self) -> str | None:
        return self._admin.url if self._admin else None

    def _cluster_urls(self) -> dict[str, tuple[ClusterState, str]]:
        return {name: (c, self._servers[name].url) for name, c in self._clusters.items()}

    def _version(self) -> tuple[int, ...]:
        return tuple(c.store.resource_version for c in self._clusters.values())

    def snapshot(self) -> dict[str, Any]:
        assert self.identity is not None
        return {
            "tls": {"certificate": self.identity.certificate_pem, "key": self.identity.key_pem},
            "adminToken": self.admin_token,
            "adminPort": self._admin.port if self._admin else 0,
            "clusters": {**self._dormant, **{name: {**c.snapshot(), "port": self._servers[name].port}
                                             for name, c in self._clusters.items()}},
        }

    def info(self) -> dict[str, Any]:
        """What another process needs to use this sandbox (written to the daemon's info file)."""
        return {
            "pid": os.getpid(),
            "admin": {"url": self.admin_url, "token": self.admin_token},
            "certificateAuthority": self.identity.certificate_pem if self.identity else "",
            "clusters": {name: {"url": self.url(name), "token": self.token(name)} for name in self._clusters},
        }

    # ---- kubeconfig --------------------------------------------------------------------------

    def write_kubeconfig(self, path: Path | str, contexts: Mapping[str, str] | Iterable[str] | None = None,
                         current: str | None = None) -> Path:
        """Write a kubeconfig (mode 0600) with one context per cluster.

        ``contexts`` maps cluster → context name, or lists the clusters to include (context named
        as the cluster); by default every cluster, its context named as the cluster.
        """
        if contexts is None:
            mapping = {name: name for name in self._clusters}
        elif isinstance(contexts, Mapping):
            mapping = dict(contexts)
        else:
            mapping = {name: name for name in contexts}
        for name in mapping:
            self.cluster(name)
        assert self.identity is not None, "start the sandbox first"
        return write_kubeconfig(path, {ctx: (self.url(name), self.token(name)) for name, ctx in mapping.items()},
                                self.identity.certificate_pem, current)


def kubeconfig_text(entries: Mapping[str, tuple[str, str]], certificate_authority: str,
                    current: str | None = None) -> str:
    """A kubeconfig (YAML) with, per context name, a cluster (server URL, CA) and a user (bearer token)."""
    q = _quote
    ca = base64.b64encode(certificate_authority.encode()).decode()
    lines = ["apiVersion: v1", "kind: Config", "preferences: {}", "clusters:"]
    for ctx, (url, _) in entries.items():
        lines += [f"- name: {q(ctx)}", "  cluster:", f"    server: {q(url)}",
                  f"    certificate-authority-data: {q(ca)}"]
    lines.append("users:")
    for ctx, (_, token) in entries.items():
        lines += [f"- name: {q(ctx + '-user')}", "  user:", f"    token: {q(token)}"]
    lines.append("contexts:")
    for ctx in entries:
        lines += [f"- name: {q(ctx)}", "  context:", f"    cluster: {q(ctx)}", f"    user: {q(ctx + '-user')}",
                  "    namespace: default"]
    first = current or next(iter(entries), "")
    lines.append(f"current-context: {q(first)}")
    return "\n".join(lines) + "\n"


def write_kubeconfig(path: Path | str, entries: Mapping[str, tuple[str, str]], certificate_authority: str,
                     current: str | None = None) -> Path:
    """Write :func:`kubeconfig_text` to ``path`` with mode 0600 (temporary file + rename)."""
    path = Path(path)
    persistence.write_private(path, kubeconfig_text(entries, certificate_authority, current).encode())
    return path


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
