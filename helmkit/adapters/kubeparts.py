"""The plain parts of :mod:`helmkit.adapters.kube`: its error, resource names and small helpers."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass

from helmkit.errors import ClusterError

# Metadata-only list (client-go's metadata client asks the same way); a server that cannot transform
# answers the plain alternative, a full list.
METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"


class KubeApiError(ClusterError):
    """The API server answered with an error status."""

    def __init__(self, message: str, *, status: int, reason: str = "", cluster: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, cluster=cluster, hint=hint)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Resource:
    """A resource type as discovery names it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace)}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name)}"
        return base


class Retryable(Exception):
    """A read failure worth another try (5xx, 429, timeout, dropped connection)."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None,
                 data: bytes = b"") -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.status = status
        self.data = data


def status_message(data: bytes) -> str:
    """The ``message`` of an error ``Status`` (else the start of the body)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return data[:200].decode("utf-8", "replace").strip()
    return str(doc.get("message", "")) if isinstance(doc, dict) else ""


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")
