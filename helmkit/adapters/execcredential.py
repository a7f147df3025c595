"""Exec credential plugins (``client.authentication.k8s.io/v1`` and ``v1beta1``), as kubectl runs them.

An :class:`ExecCredentialPlugin` runs its command through the :class:`~helmkit.adapters.runner.Runner`
with ``KUBERNETES_EXEC_INFO`` set, parses the ``ExecCredential`` it prints into :class:`Credentials`
and caches them until shortly before ``expirationTimestamp``. Tokens are added to the Masker as soon
as they are read; errors name the plugin and the kube context, never the credential.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError, ToolError

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_TIMEOUT = 60.0
EXPIRY_MARGIN = dt.timedelta(seconds=10)  # refresh a little before the plugin's expiry


@dataclass(frozen=True)
class Credentials:
    """What one request presents: a bearer token, basic auth, and/or a client certificate (PEM)."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None

    def authorization(self) -> str | None:
        """The ``Authorization`` header value: the bearer token, else basic auth, else None."""
        if self.token:
            return f"Bearer {self.token}"
        if self.username is not None:
            return "Basic " + base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
        return None


@dataclass
class ExecCredentialPlugin:
    """An exec credential plugin; runs through the Runner and caches until ``expirationTimestamp``."""

    api_version: str
    command: str
    args: list[str]
    env: dict[str, str]
    base_dir: Path
    cluster_info: dict[str, Any]
    provide_cluster_info: bool
    runner: Runner
    describe: str  # "context X in FILE" for errors
    install_hint: str | None = None
    _cached: Credentials | None = field(default=None, repr=False)
    _expires: dt.datetime | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    runs: int = 0

    def credentials(self, *, now: dt.datetime | None = None) -> Credentials:
        now = now or dt.datetime.now(dt.UTC)
        with self._lock:
            if self._cached is not None and (self._expires is None or now + EXPIRY_MARGIN < self._expires):
                return self._cached
            self._cached, self._expires = self._run()
            return self._cached

    def invalidate(self) -> None:
        """Forget the cached credential (after the server answered 401 Unauthorized)."""
        with self._lock:
            self._cached = None
            self._expires = None

    def _run(self) -> tuple[Credentials, dt.datetime | None]:
        command = self.command
        if os.sep in command and not Path(command).is_absolute():
            command = str(self.base_dir / command)  # kubectl: relative to the kubeconfig file
        exec_info: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": "ExecCredential",
            "spec": {"interactive": False},
        }
        if self.provide_cluster_info:
            exec_info["spec"]["cluster"] = self.cluster_info
        env = dict(self.env)
        env["KUBERNETES_EXEC_INFO"] = json.dumps(exec_info)
        self.runs += 1
        try:
            result = self.runner.run([command, *self.args], env=env, timeout=EXEC_TIMEOUT, what="credential plugin")
        except ToolError as exc:
            raise ClusterError(
                f"exec credential plugin {Path(command).name} of {self.describe} failed: {exc.message}"
                + (f": {exc.stderr.strip().splitlines()[-1]}" if exc.stderr.strip() else ""),
                hint=self.install_hint or "run the plugin by hand to see why it cannot issue a credential",
            ) from None
        return self._parse(result.stdout, Path(command).name)

    def _parse(self, stdout: str, name: str) -> tuple[Credentials, dt.datetime | None]:
        where = f"exec credential plugin {name} of {self.describe}"
        try:
            doc = json.loads(stdout)
        except ValueError:
            raise ClusterError(f"{where} did not print an ExecCredential JSON object") from None
        if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
            raise ClusterError(f"{where} did not print an ExecCredential JSON object")
        if doc.get("apiVersion") != self.api_version:
            raise ClusterError(
                f"{where} answered apiVersion {doc.get('apiVersion')!r}, expected {self.api_version!r}"
            )
        status = doc.get("status")
        if not isinstance(status, dict):
            raise ClusterError(f"{where} printed an ExecCredential without status")
        token = status.get("token")
        cert = status.get("clientCertificateData")
        key = status.get("clientKeyData")
        if not token and not (cert and key):
            raise ClusterError(f"{where} returned neither a token nor a client certificate and key")
        if token:
            self.runner.masker.add(str(token))
        creds = Credentials(
            token=str(token) if token else None,
            client_cert_pem=str(cert).encode() if cert else None,
            client_key_pem=str(key).encode() if key else None,
        )
        expires: dt.datetime | None = None
        stamp = status.get("expirationTimestamp")
        if stamp:
            try:
                expires = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            except ValueError:
                raise ClusterError(f"{where} returned an invalid expirationTimestamp {stamp!r}") from None
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
        return creds, expires
