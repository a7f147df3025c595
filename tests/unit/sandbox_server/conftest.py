"""A sandbox cluster on 127.0.0.1 and a small HTTPS client for the sandbox server's unit tests."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from helmkit.sandbox import Sandbox
from helmkit.sandbox.certificates import Identity, generate


@pytest.fixture(scope="session")
def identity() -> Identity:
    return generate()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Api:
    """Raw requests to one sandbox cluster, with its token unless told otherwise."""

    url: str
    token: str | None
    ca: str
    user_agent: str = "unit-test/1.0"
    _conn: http.client.HTTPSConnection | None = field(default=None, repr=False)

    def connection(self) -> http.client.HTTPSConnection:
        if self._conn is None:
            parts = urlsplit(self.url)
            context = ssl.create_default_context(cadata=self.ca)
            self._conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=context, timeout=10)
        return self._conn

    def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                accept: str = "application/json", token: str | None = "") -> Reply:
        headers = {"Accept": accept, "User-Agent": self.user_agent}
        use = self.token if token == "" else token
        if use:
            headers["Authorization"] = f"Bearer {use}"
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        conn = self.connection()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Reply:
        return self.request("POST", path, body, **kwargs)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


@pytest.fixture
def sandbox(identity: Identity) -> Iterator[Sandbox]:
    with Sandbox(["one", "two"], identity=identity) as running:
        yield running


@pytest.fixture
def api(sandbox: Sandbox, identity: Identity) -> Iterator[Api]:
    client = Api(sandbox.url("one"), sandbox.token("one"), identity.certificate_pem)
    yield client
    client.close()


def configmap(name: str, namespace: str = "default", labels: dict[str, str] | None = None,
              data: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}
