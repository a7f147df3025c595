"""The sync lock of an environment: a renewed ``coordination.k8s.io/v1`` Lease in each cluster.

A sync holds, in every cluster it acts on, the Lease ``helmkit-lock-<env>`` in ``kube-system``
(the object Kubernetes itself uses for leader election). It is taken with create-only semantics
(``POST``: 409 AlreadyExists when it is there) or, when the Lease is free or expired, by an
update that carries the ``resourceVersion`` it read (409 Conflict when another sync got there
first), so of two syncs of one environment and cluster exactly one proceeds and the other fails
fast, naming the holder (user, host, pid, command, start) and until when the lease runs.

While the sync runs, a background thread renews every lease it holds (``renewTime``) every third
of ``leaseDurationSeconds``. A sync that dies (``kill -9``, a crashed machine, a cluster that was
unreachable when the lock should have been released) stops renewing, and its lease expires by
itself: the next sync takes it over without any flag, and says whose lease it took.

``--break-lock`` takes over a lease that has not expired yet -- but never one whose holder runs
on this host with a live pid (that sync is running: breaking its lock would let two helm
operations act on one release). A holder on another host cannot be checked; its lease renews
while it lives, so the message says when it will expire.

The lease is released when the sync ends -- deleted only if it still names this holder, with the
``resourceVersion`` precondition, so a lease that someone else took over is never removed.
Clusters are locked in a fixed order (by name) and a failure releases what was taken.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from helmkit.adapters.kube import KubeApiError, KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.context import Context
from helmkit.errors import ClusterError, HelmkitError, LockedError
from helmkit.model.instance import Cluster

LOCK_NAMESPACE = "kube-system"
LOCK_PREFIX = "helmkit-lock-"
LEASE_API = "coordination.k8s.io/v1"
HOLDER_ANNOTATION = "helmkit.dev/holder"
MANAGED_BY = {"app.kubernetes.io/managed-by": "helmkit"}
DEFAULT_LEASE_SECONDS = 60


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

    @property
    def identity(self) -> str:
        return f"{self.user}@{self.host} pid {self.pid} {self.token}"

    def describe(self) -> str:
        return f"{self.user}@{self.host} pid {self.pid} since {self.started} ({self.command})"

    def alive_on_this_host(self) -> bool:
        """True when this holder runs on this machine and its process still exists."""
        if self.host != socket.gethostname() or self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def lock_name(env: str) -> str:
    return f"{LOCK_PREFIX}{env}"


def micro_time(moment: datetime) -> str:
    """A Kubernetes MicroTime: ``2026-12-01T16:05:08.123456Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class LeaseState:
    """What a Lease says: who holds it and until when."""

    holder: LockHolder | None
    identity: str
    renewed: datetime | None
    seconds: int
    transitions: int
    resource_version: str

    @classmethod
    def of(cls, lease: dict[str, Any]) -> LeaseState:
        spec = lease.get("spec") or {}
        meta = lease.get("metadata") or {}
        try:
            data = json.loads((meta.get("annotations") or {}).get(HOLDER_ANNOTATION) or "{}")
        except json.JSONDecodeError:
            data = {}
        identity = str(spec.get("holderIdentity") or "")
        seconds = spec.get("leaseDurationSeconds")
        transitions = spec.get("leaseTransitions")
        return cls(LockHolder.from_data(data) if identity and isinstance(data, dict) else None, identity,
                   parse_time(spec.get("renewTime") or spec.get("acquireTime")),
                   seconds if isinstance(seconds, int) and seconds > 0 else DEFAULT_LEASE_SECONDS,
                   transitions if isinstance(transitions, int) else 0, str(meta.get("resourceVersion") or ""))

    @property
    def until(self) -> datetime | None:
        return self.renewed + timedelta(seconds=self.seconds) if self.renewed else None

    def expired(self, now: datetime) -> bool:
        return not self.identity or self.until is None or self.until <= now

    def describe(self) -> str:
        who = self.holder.describe() if self.holder else self.identity or "nobody"
        until = self.until
        when = f"until {until.strftime('%Y-%m-%dT%H:%M:%SZ')}" if until else "with no expiry time"
        return f"{who}, {when} unless renewed (lease of {self.seconds}s, renewed while that sync runs)"


@dataclass
class EnvironmentLock:
    """The lock of ``env`` in each of ``clusters``; use as a context manager."""

    ctx: Context
    env: str
    clusters: list[Cluster]
    kubeconfig: Path | None = None
    break_lock: bool = False
    holder: LockHolder = field(default_factory=LockHolder.current)
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    broken: list[str] = field(default_factory=list)  # clusters whose live lease was broken (--break-lock)
    expired: list[str] = field(default_factory=list)  # clusters whose expired lease was taken over
    lost: list[str] = field(default_factory=list)  # clusters where another sync took the lease over
    unreachable: dict[str, ClusterError] = field(default_factory=dict)  # not locked: nothing may run there
    _held: dict[str, KubeClient] = field(default_factory=dict)
    _versions: dict[str, str] = field(default_factory=dict)  # cluster -> resourceVersion of our lease
    _stop: threading.Event = field(default_factory=threading.Event)
    _renewer: threading.Thread | None = None

    def __enter__(self) -> EnvironmentLock:
        try:
            for cluster in sorted(self.clusters, key=lambda c: c.name):
                self._acquire(cluster)
        except BaseException:
            self.release()
            raise
        if self._held:
            self._stop.clear()
            self._renewer = threading.Thread(target=self._renew_loop, name="helmkit-lease", daemon=True)
            self._renewer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def held(self) -> list[str]:
        return sorted(self._held)

    def lease_body(self, now: datetime, *, acquired: datetime | None = None, transitions: int = 0,
                   resource_version: str | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": lock_name(self.env), "namespace": LOCK_NAMESPACE, "labels": dict(MANAGED_BY),
                                "annotations": {HOLDER_ANNOTATION: json.dumps(self.holder.data(), sort_keys=True)}}
        if resource_version:
            meta["resourceVersion"] = resource_version
        return {"apiVersion": LEASE_API, "kind": "Lease", "metadata": meta, "spec": {
            "holderIdentity": self.holder.identity, "leaseDurationSeconds": self.lease_seconds,
            "acquireTime": micro_time(acquired or now), "renewTime": micro_time(now),
            "leaseTransitions": transitions}}

    def _acquire(self, cluster: Cluster) -> None:
        config = load_cluster_config(cluster.context, self.ctx.runner, kubeconfig=self.kubeconfig,
                                     files=self.ctx.kubeconfigs)
        client = KubeClient(config, timeout=15.0, retries=2)
        try:
            now = datetime.now(UTC)
            try:
                created = client.create(self.lease_body(now))
            except KubeApiError as exc:
                if exc.status != 409:
                    raise
                created = self._take_over(client, cluster, now)
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
        self._versions[cluster.name] = str((created.get("metadata") or {}).get("resourceVersion") or "")

    def _take_over(self, client: KubeClient, cluster: Cluster, now: datetime) -> dict[str, Any]:
        """The lease exists: take it if free or expired, or broken on purpose; else fail naming the holder."""
        existing = client.get(LEASE_API, "Lease", lock_name(self.env), LOCK_NAMESPACE)
        if existing is None:  # released in between
            return client.create(self.lease_body(now))
        state = LeaseState.of(existing)
        where = f"environment {self.env} is locked on cluster {cluster.name} by {state.describe()}"
        if not state.expired(now):
            if not self.break_lock:
                raise LockedError(where, hint="wait for that sync to finish; if it died, its lease expires by "
                                              "itself at that time (or pass --break-lock if its process is gone)")
            if state.holder is not None and state.holder.alive_on_this_host():
                raise LockedError(f"{where}; its process (pid {state.holder.pid}) is alive on this host, so "
                                  "--break-lock does not break it",
                                  hint="wait for that sync to finish, or stop it first")
            self.broken.append(f"{cluster.name} (held by {state.describe()})")
        elif state.identity:
            self.expired.append(f"{cluster.name} (held by {state.describe()})")
        body = self.lease_body(now, transitions=state.transitions + 1, resource_version=state.resource_version)
        return client.replace(body)  # 409 Conflict when another sync took it since we read it

    def _renew_loop(self) -> None:
        interval = max(0.2, self.lease_seconds / 3)
        while not self._stop.wait(interval):
            for name in sorted(self._held):
                if name not in self.lost:
                    self._renew(name)

    def _renew(self, name: str) -> None:
        client = self._held.get(name)
        if client is None:
            return
        try:
            current = client.get(LEASE_API, "Lease", lock_name(self.env), LOCK_NAMESPACE)
            state = LeaseState.of(current) if current is not None else None
            if state is None or state.identity != self.holder.identity:
                self._lose(name, "it was taken over or removed")
                return
            acquired = parse_time(((current or {}).get("spec") or {}).get("acquireTime"))
            body = self.lease_body(datetime.now(UTC), acquired=acquired, transitions=state.transitions,
                                   resource_version=state.resource_version)
            renewed = client.replace(body)
            self._versions[name] = str((renewed.get("metadata") or {}).get("resourceVersion") or "")
        except KubeApiError as exc:
            if exc.status == 409:
                self._lose(name, "another sync updated it")
        except ClusterError:
            pass  # try again at the next interval; the lease runs until renewTime + duration

    def _lose(self, name: str, why: str) -> None:
        self.lost.append(name)
        self.ctx.console.info(f"warning: lost the lock {lock_name(self.env)} on cluster {name} ({why}); "
                              "another sync may act there now")

    def release(self) -> None:
        """Stop renewing; delete the leases this holder still holds (never someone else's)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=30)
            self._renewer = None
        held, self._held = self._held, {}
        for name, client in held.items():
            try:
                existing = client.get(LEASE_API, "Lease", lock_name(self.env), LOCK_NAMESPACE)
                state = LeaseState.of(existing) if existing is not None else None
                if state is not None and state.identity == self.holder.identity:
                    client.delete(LEASE_API, "Lease", lock_name(self.env), LOCK_NAMESPACE,
                                  resource_version=state.resource_version)
            except KubeApiError as exc:
                if exc.status != 409:
                    self._warn_left(name, exc.message)
            except ClusterError as exc:
                self._warn_left(name, exc.message)
            finally:
                client.close()

    def _warn_left(self, name: str, why: str) -> None:
        until = micro_time(datetime.now(UTC) + timedelta(seconds=self.lease_seconds))[:19] + "Z"
        self.ctx.console.info(f"warning: could not remove the lock {lock_name(self.env)} on cluster {name}: {why}; "
                              f"it expires by itself by {until}")
