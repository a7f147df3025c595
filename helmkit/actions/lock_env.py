"""The sync lock of an environment, kept in each cluster it touches.

A sync holds, in every cluster it acts on, a ConfigMap ``helmkit-lock-<env>`` in ``kube-system``
created with create-only semantics (``POST``: the API server answers 409 AlreadyExists when it
is there), so of two syncs of the same environment and cluster exactly one proceeds and the
other fails fast naming the holder (host, pid, user, command, start time). The lock is removed
when the sync ends -- only by the holder (its token is checked). A lock left by a killed sync
stays until someone passes ``--break-lock``; helmkit never guesses that a lock is stale.

Clusters are locked in a fixed order (by name) and a failure releases what was taken.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helmkit.adapters.kube import KubeApiError, KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.context import Context
from helmkit.errors import ClusterError, HelmkitError, LockedError
from helmkit.model.instance import Cluster

LOCK_NAMESPACE = "kube-system"
LOCK_PREFIX = "helmkit-lock-"
MANAGED_BY = {"app.kubernetes.io/managed-by": "helmkit"}


@dataclass(frozen=True)
class LockHolder:
    host: str
    pid: int
    user: str
    started: str  # ISO 8601, UTC
    command: str
    token: str

    @classmethod
    def current(cls) -> LockHolder:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        command = " ".join(["helmkit", *sys.argv[1:]])[:200]
        return cls(socket.gethostname(), os.getpid(), user, datetime.now(UTC).isoformat(timespec="seconds"),
                   command, secrets.token_hex(8))

    def data(self) -> dict[str, str]:
        return {"host": self.host, "pid": str(self.pid), "user": self.user, "started": self.started,
                "command": self.command, "token": self.token}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LockHolder:
        try:
            pid = int(data.get("pid", 0))
        except (TypeError, ValueError):
            pid = 0
        return cls(str(data.get("host", "?")), pid, str(data.get("user", "?")), str(data.get("started", "?")),
                   str(data.get("command", "?")), str(data.get("token", "")))

    def describe(self) -> str:
        return f"{self.user}@{self.host} pid {self.pid} since {self.started} ({self.command})"


def lock_name(env: str) -> str:
    return f"{LOCK_PREFIX}{env}"


@dataclass
class EnvironmentLock:
    """The lock of ``env`` in each of ``clusters``; use as a context manager."""

    ctx: Context
    env: str
    clusters: list[Cluster]
    kubeconfig: Path | None = None
    break_lock: bool = False
    holder: LockHolder = field(default_factory=LockHolder.current)
    broken: list[str] = field(default_factory=list)  # clusters whose old lock was broken
    unreachable: dict[str, ClusterError] = field(default_factory=dict)  # not locked: nothing may run there
    _held: dict[str, KubeClient] = field(default_factory=dict)

    def __enter__(self) -> EnvironmentLock:
        try:
            for cluster in sorted(self.clusters, key=lambda c: c.name):
                self._acquire(cluster)
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def held(self) -> list[str]:
        return sorted(self._held)

    def _acquire(self, cluster: Cluster) -> None:
        config = load_cluster_config(cluster.context, self.ctx.runner, kubeconfig=self.kubeconfig)
        client = KubeClient(config, timeout=15.0, retries=2)
        body = {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": lock_name(self.env), "namespace": LOCK_NAMESPACE, "labels": dict(MANAGED_BY)},
            "data": self.holder.data(),
        }
        try:
            try:
                client.create(body)
            except KubeApiError as exc:
                if exc.status != 409:
                    raise
                existing = client.get("v1", "ConfigMap", lock_name(self.env), LOCK_NAMESPACE)
                other = LockHolder.from_data((existing or {}).get("data") or {})
                if not self.break_lock:
                    raise LockedError(
                        f"environment {self.env} is locked on cluster {cluster.name} by {other.describe()}",
                        hint="wait for that sync to finish; if it was killed, pass --break-lock",
                    ) from None
                client.delete("v1", "ConfigMap", lock_name(self.env), LOCK_NAMESPACE)
                client.create(body)
                self.broken.append(f"{cluster.name} (held by {other.describe()})")
        except KubeApiError as exc:
            client.close()
            if exc.status == 409:
                raise LockedError(f"environment {self.env} was locked on cluster {cluster.name} by another sync "
                                  "at the same moment", hint="try again when it has finished") from None
            raise
        except ClusterError as exc:  # unreachable: reported, and nothing runs there
            client.close()
            self.unreachable[cluster.name] = exc
            return
        except HelmkitError:
            client.close()
            raise
        self._held[cluster.name] = client

    def release(self) -> None:
        """Remove the locks this holder took (never someone else's)."""
        held, self._held = self._held, {}
        for name, client in held.items():
            try:
                existing = client.get("v1", "ConfigMap", lock_name(self.env), LOCK_NAMESPACE)
                token = ((existing or {}).get("data") or {}).get("token")
                if token == self.holder.token:
                    client.delete("v1", "ConfigMap", lock_name(self.env), LOCK_NAMESPACE)
            except ClusterError as exc:
                self.ctx.console.info(f"warning: could not remove the lock {lock_name(self.env)} on cluster "
                                      f"{name}: {exc.message}; remove it or pass --break-lock next time")
            finally:
                client.close()
