"""Fetching Helm release records one by one (a GET each), for :mod:`helmkit.adapters.helmstorage`.

The records are listed as metadata only; the ones to decode are fetched with a client that is
open (:func:`record_fetch`) or opened on the cluster's config when needed (:class:`RecordFetcher`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import ClusterConfig

FETCH_WORKERS = 4  # records of one cluster fetched at once (each may be megabytes), when it is read alone
FETCH_BUDGET = 8  # records fetched at once across clusters read in parallel (more threads: more malloc arenas)

Fetch = Callable[[str, str], dict[str, Any] | None]  # (namespace, storage name) -> the object, None if gone


@dataclass(frozen=True)
class RecordFetcher:
    """Gets release records one by one from a cluster: :meth:`session` opens a client on its config."""

    config: ClusterConfig
    kind: str  # secrets or configmaps
    timeout: float = 15.0
    retries: int = 2

    @contextmanager
    def session(self) -> Iterator[Fetch]:
        with KubeClient(self.config, timeout=self.timeout, retries=self.retries) as client:
            yield record_fetch(client, self.kind)


def record_fetch(client: KubeClient, kind: str = "secrets") -> Fetch:
    """Fetch release records of ``kind`` (secrets or configmaps) with an open client."""

    def fetch(namespace: str, name: str) -> dict[str, Any] | None:
        obj = client.get("v1", kind, name, namespace)
        if obj is not None:
            obj.setdefault("kind", "Secret" if kind == "secrets" else "ConfigMap")
        return obj

    return fetch


def fetch_workers(clusters: int) -> int:
    """Records to fetch at once per cluster when ``clusters`` are read in parallel."""
    return max(1, min(FETCH_WORKERS, FETCH_BUDGET // max(1, clusters)))
