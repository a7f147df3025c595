"""The single Kubernetes API reader/writer of helmkit.

:class:`KubeClient` talks to one API server over ``http.client`` with TLS and credentials from a
:class:`~helmkit.adapters.kubeconfig.ClusterConfig`. Connections are kept alive in a small pool
(thread-safe; :mod:`helmkit.adapters.kubeconn`). Resources are named by ``apiVersion`` plus kind or
plural; discovery resolves them once per group-version and caches the answer in the client.
Reliability: reads (GET) are retried with exponential backoff and jitter on 5xx, 429 (honouring
``Retry-After``), timeouts and dropped connections. Writes are never retried blindly: they go on a
fresh connection and are retried only when it could not even be opened (the server cannot have
seen the request); a write that fails later says the change may or may not have been made. A 401
with an exec credential plugin renews the credential once. Every HTTP request sent is counted in
:attr:`KubeClient.calls`. Failures become :class:`~helmkit.errors.ClusterError` (:class:`KubeApiError`
carries the HTTP status); tokens never appear in them. Responses are decoded by msgspec.
"""

from __future__ import annotations

import builtins
import contextlib
import http.client
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from helmkit.adapters.fastjson import loads
from helmkit.adapters.kubeconfig import ClusterConfig
from helmkit.adapters.kubeconn import ConnectFailed, ConnectionPool, retry_after
from helmkit.adapters.kubeparts import (
    METADATA_LIST_ACCEPT,
    KubeApiError,
    Resource,
    Retryable,
    status_message,
)
from helmkit.errors import ClusterError

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
DEFAULT_PAGE_SIZE = 500
BACKOFF_CAP = 8.0
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
__all__ = ["KubeApiError", "KubeClient", "Resource"]
PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


class KubeClient:
    """Reads and writes objects of one cluster. Thread-safe; one per cluster and run."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.2,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.page_size = page_size
        self.calls = 0
        self._connections = ConnectionPool(config, timeout=timeout)
        self._lock = threading.Lock()
        self._discovery: dict[str, builtins.list[Resource]] = {}
        self._random = random.Random()

    # -- public API ---------------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Resource:
        """Resolve a kind (``Deployment``) or plural (``deployments``) of ``api_version``."""
        for res in self._resources(api_version):
            if kind in (res.kind, res.plural):
                return res
        raise ClusterError(
            f"the server does not serve {kind} in {api_version}", cluster=self.config.context,
            hint="is the CRD installed, or the apiVersion right for this cluster's Kubernetes version?",
        )

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        res = self.resource(api_version, kind)
        try:
            return self._json("GET", res.path(namespace, name))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """All objects (every page), each with ``apiVersion`` and ``kind`` set.

        When a continue token expired between pages (410 Gone), the list starts over once, as a
        consistent snapshot cannot be completed from the remaining pages.
        """
        return self._whole(self.resource(api_version, kind), namespace, label_selector, field_selector)

    def list_metadata(self, api_version: str, kind: str, *, namespace: str | None = None,
                      label_selector: str | None = None) -> builtins.list[dict[str, Any]]:
        """The ``metadata`` of all objects (every page, like :meth:`list`), without their bodies.

        Asks for ``PartialObjectMetadataList``; from a server or proxy that answers with the full
        list instead, each item's metadata is taken.
        """
        items = self._whole(self.resource(api_version, kind), namespace, label_selector, None,
                            accept=METADATA_LIST_ACCEPT)
        return [item.get("metadata") or {} for item in items]

    def _whole(self, res: Resource, namespace: str | None, label_selector: str | None, field_selector: str | None,
               *, accept: str = "application/json") -> builtins.list[dict[str, Any]]:
        for attempt in range(2):
            try:
                return builtins.list(self._pages(res, namespace, label_selector, field_selector, accept=accept))
            except KubeApiError as exc:
                if exc.status != 410 or attempt:
                    raise
        raise AssertionError("unreachable")

    def iter_list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Like :meth:`list`, page by page (an expired continue token raises)."""
        yield from self._pages(self.resource(api_version, kind), namespace, label_selector, field_selector)

    def _pages(self, res: Resource, namespace: str | None, label_selector: str | None,
               field_selector: str | None, *, accept: str = "application/json") -> Iterator[dict[str, Any]]:
        query: dict[str, str] = {"limit": str(self.page_size)}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        while True:
            page = self._json("GET", res.path(namespace), query=query, accept=accept)
            for item in page.get("items") or []:
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", res.kind)
                yield item
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            query["continue"] = token

    def create(self, obj: Mapping[str, Any], *, field_manager: str = "helmkit",
               encoded: bytes | None = None, answer: bool = True) -> dict[str, Any]:
        """POST ``obj``; ``encoded``: its JSON already encoded (the same object sent to many clusters);
        ``answer=False``: the created object is not decoded ({} is returned; a CRD is megabytes)."""
        res, namespace, _ = self._target(obj)
        return self._json("POST", res.path(namespace), query={"fieldManager": field_manager},
                          body=obj if encoded is None else encoded, answer=answer)

    def replace(self, obj: Mapping[str, Any], *, field_manager: str = "helmkit") -> dict[str, Any]:
        res, namespace, name = self._target(obj)
        return self._json("PUT", res.path(namespace, name), query={"fieldManager": field_manager}, body=obj)

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: str = "merge",
        field_manager: str = "helmkit",
        force: bool = False,
    ) -> dict[str, Any]:
        if patch_type not in PATCH_TYPES:
            raise ValueError(f"unknown patch type {patch_type!r}")
        res = self.resource(api_version, kind)
        query = {"fieldManager": field_manager}
        if patch_type == "apply" and force:
            query["force"] = "true"
        return self._json("PATCH", res.path(namespace, name), query=query, body=patch,
                          content_type=PATCH_TYPES[patch_type])

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               resource_version: str | None = None) -> bool:
        """Delete; False when it was already gone. ``resource_version``: only that version (else 409)."""
        res = self.resource(api_version, kind)
        body = None if resource_version is None else {
            "apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"resourceVersion": resource_version}}
        try:
            self._json("DELETE", res.path(namespace, name), body=body)
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def version(self) -> dict[str, Any]:
        return self._json("GET", "/version")
    def discovery(self, path: str, *, accept: str = "application/json") -> dict[str, Any]:
        return self._json("GET", path, accept=accept)  # a discovery document in the format ``accept`` asks for

    def remember_resources(self, api_version: str, resources: builtins.list[Resource]) -> None:
        with self._lock:  # what an aggregated discovery document listed: no request per group-version
            self._discovery.setdefault(api_version, resources)

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
    # -- discovery ----------------------------------------------------------------------------

    def _resources(self, api_version: str) -> builtins.list[Resource]:
        with self._lock:
            cached = self._discovery.get(api_version)
        if cached is not None:
            return cached
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            doc = self._json("GET", path)
        except KubeApiError as exc:
            if exc.status == 404:
                raise ClusterError(
                    f"the server does not serve API {api_version}", cluster=self.config.context
                ) from None
            raise
        found: builtins.list[Resource] = []
        for item in doc.get("resources") or []:
            name = str(item.get("name", ""))
            if not name or "/" in name:
                continue  # subresources
            found.append(Resource(group, version, str(item.get("kind", "")), name, bool(item.get("namespaced"))))
        with self._lock:
            self._discovery[api_version] = found
        return found

    def _target(self, obj: Mapping[str, Any]) -> tuple[Resource, str | None, str]:
        meta = obj.get("metadata") or {}
        res = self.resource(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        namespace = meta.get("namespace") or (self.config.namespace or "default") if res.namespaced else None
        return res, namespace, str(meta.get("name", ""))

    # -- HTTP ---------------------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None, body: Any = None,
        content_type: str = "application/json", accept: str = "application/json", answer: bool = True,
    ) -> dict[str, Any]:
        url = self._connections.prefix + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        attempt = 0
        renewed = False
        while True:
            try:
                return self._once(method, url, payload, content_type, accept, answer=answer)
            except KubeApiError as exc:
                if exc.status != 401 or self.config.exec_plugin is None or renewed:
                    raise
                renewed = True  # the plugin's credential was revoked early: ask it once more
                continue
            except ConnectFailed as exc:
                reason = str(exc)
                retry_after = None
            except Retryable as exc:
                if method != "GET":
                    raise self._write_failed(method, path, exc) from None
                reason, retry_after = str(exc), exc.retry_after
            if attempt >= self.retries:
                raise self._unreachable(f"{reason} (after {attempt + 1} attempts)")
            delay = min(BACKOFF_CAP, self.backoff * (2**attempt))
            delay = delay / 2 + self._random.uniform(0, delay / 2)
            if retry_after is not None:
                delay = max(delay, min(retry_after, BACKOFF_CAP))
            time.sleep(delay)
            attempt += 1

    def _once(self, method: str, url: str, payload: bytes | None, content_type: str, accept: str, *,
              answer: bool = True) -> dict[str, Any]:
        creds = self.config.credentials()
        headers = {"Accept": accept, "User-Agent": "helmkit"}
        if payload is not None:
            headers["Content-Type"] = content_type
        authorization = creds.authorization()
        if authorization:
            headers["Authorization"] = authorization
        # A write may go on a pooled connection too: the pool hands out only those the server has not
        # closed, so a write is not sent into a dead one (which could not be retried safely). A new
        # TLS handshake per write cost the lock's renewals and a chart's CRD creations more than the
        # requests themselves.
        conn = self._connections.acquire(creds)
        with self._lock:
            self.calls += 1
        try:
            conn.request(method, url, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError as exc:
            conn.close()
            raise Retryable(f"timed out after {self.timeout:.0f}s") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise Retryable(f"connection dropped ({type(exc).__name__})") from exc
        if response.will_close:
            conn.close()
        else:
            self._connections.release(conn)
        status = response.status
        if status in RETRYABLE_STATUS:
            raise Retryable(f"HTTP {status} {status_message(data)}".strip(), retry_after(response), status, data)
        if status == 401 and self.config.exec_plugin is not None:
            self.config.exec_plugin.invalidate()
        if status >= 400:
            raise self._api_error(status, data)
        if not data or not answer:
            return {}
        try:
            doc = loads(data)
        except ValueError:
            raise ClusterError(f"the API server at {self.config.server} answered {url} with non-JSON data",
                               cluster=self.config.context) from None
        return doc if isinstance(doc, dict) else {"items": doc}

    def _api_error(self, status: int, data: bytes) -> KubeApiError:
        message = status_message(data) or f"HTTP {status}"
        reason = ""
        with contextlib.suppress(ValueError, AttributeError):
            reason = str(json.loads(data).get("reason", ""))
        hint = None
        if status == 401:
            message = f"unauthorized at {self.config.server}: {message}"
            hint = f"the credentials of user {self.config.user!r} ({self.config.describe()}) were rejected; " \
                   "renew the token or certificate"
        elif status == 403:
            message = f"forbidden: {message}"
            hint = f"user {self.config.user!r} lacks RBAC permission for this; ask the cluster admin"
        return KubeApiError(message, status=status, reason=reason, cluster=self.config.context, hint=hint)

    def _write_failed(self, method: str, path: str, exc: Retryable) -> ClusterError:
        if exc.status is not None:
            return self._api_error(exc.status, exc.data)
        return ClusterError(
            f"{method} {path} at {self.config.server}: {exc}; the change may or may not have been made",
            cluster=self.config.context, hint="writes are not retried blindly: read the object again first",
        )

    def _unreachable(self, reason: str) -> ClusterError:
        return ClusterError(f"unreachable at {self.config.server}: {reason}", cluster=self.config.context,
                            hint=self._connections.unreachable_hint())
