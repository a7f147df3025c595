"""Helm's own client configuration, read where helm reads it: repositories and registry logins.

* ``repositories.yaml`` (``$HELM_REPOSITORY_CONFIG``, else ``$HELM_CONFIG_HOME/repositories.yaml``,
  else ``$XDG_CONFIG_HOME/helm/repositories.yaml``, else ``~/.config/helm/repositories.yaml``),
  written by ``helm repo add``: per repository URL a ``username``/``password``, ``caFile``,
  ``certFile``/``keyFile``, ``insecure_skip_tls_verify`` and ``pass_credentials_all``.
* The registry config (``$HELM_REGISTRY_CONFIG``, else ``registry/config.json`` in the same
  config folder), written by ``helm registry login``: docker's ``config.json`` format, ``auths``
  by host with ``auth`` = base64 of ``user:password`` (or ``username``/``password``,
  ``identitytoken``), or a docker credential helper (``credHelpers`` by host, ``credsStore``).

Every password, token and ``auth`` string read here is registered with the run's masker before it
is returned, so no error or log line can print it. Nothing read here is ever written anywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from helmkit.adapters.masking import Masker
from helmkit.errors import HelmkitError

if TYPE_CHECKING:
    import ssl

TOKEN_USER = "<token>"  # noqa: S105 - docker's user name for an identity token


@dataclass(frozen=True)
class TlsOptions:
    """How to check (and present) certificates for one repository or registry."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False

    def ssl_context(self, where: str) -> ssl.SSLContext:
        """The context for ``where`` (an https URL), or a clear error naming the unreadable file."""
        import ssl  # loaded by the first TLS connection, not by every command

        try:
            context = ssl.create_default_context()  # the system's CAs, and the given one besides
            if self.ca_file is not None:
                context.load_verify_locations(cafile=str(self.ca_file))
            if self.cert_file is not None:
                context.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
        except (OSError, ssl.SSLError) as exc:
            files = ", ".join(str(p) for p in (self.ca_file, self.cert_file, self.key_file) if p)
            raise HelmkitError(f"{where}: cannot load the TLS files ({files}): {exc}",
                               hint="check caFile/certFile/keyFile of this repository") from None
        if self.insecure_skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


@dataclass(frozen=True)
class RegistryAccess:
    """How helmkit.yaml says to reach a repository: plain HTTP (OCI; None = decide for loopback hosts), TLS files."""

    plain_http: bool | None = None
    tls: TlsOptions = TlsOptions()


@dataclass(frozen=True)
class BasicCredentials:
    username: str
    password: str = field(repr=False)
    source: str = ""  # the file they came from (for error messages)
    refresh_token: bool = False  # ``password`` is an OAuth2 refresh token (``identitytoken``)

    def header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


@dataclass(frozen=True)
class RepositoryEntry:
    """One entry of helm's repositories.yaml."""

    name: str
    url: str
    credentials: BasicCredentials | None
    tls: TlsOptions
    pass_credentials_all: bool = False


def config_home(env: Mapping[str, str]) -> Path:
    if env.get("HELM_CONFIG_HOME"):
        return Path(env["HELM_CONFIG_HOME"])
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "helm"


def repository_config_path(env: Mapping[str, str]) -> Path:
    return Path(env["HELM_REPOSITORY_CONFIG"]) if env.get("HELM_REPOSITORY_CONFIG") else \
        config_home(env) / "repositories.yaml"


def registry_config_path(env: Mapping[str, str]) -> Path:
    return Path(env["HELM_REGISTRY_CONFIG"]) if env.get("HELM_REGISTRY_CONFIG") else \
        config_home(env) / "registry" / "config.json"


def helm_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment helm itself sees: the process environment with the helm client's variables."""
    return {**os.environ, **(extra or {})}


def repository_entry(url: str, env: Mapping[str, str], masker: Masker) -> RepositoryEntry | None:
    """The repositories.yaml entry whose URL is ``url`` (trailing slashes ignored), if any."""
    path = repository_config_path(env)
    document = _read(path, yaml.safe_load)
    wanted = url.rstrip("/")
    for item in (document.get("repositories") if isinstance(document, dict) else None) or []:
        if not isinstance(item, dict) or str(item.get("url") or "").rstrip("/") != wanted:
            continue
        username, password = str(item.get("username") or ""), str(item.get("password") or "")
        masker.add(password)
        credentials = BasicCredentials(username, password, str(path)) if username or password else None
        tls = TlsOptions(_path(item.get("caFile")), _path(item.get("certFile")), _path(item.get("keyFile")),
                         bool(item.get("insecure_skip_tls_verify")))
        return RepositoryEntry(str(item.get("name") or ""), wanted, credentials, tls,
                               bool(item.get("pass_credentials_all")))
    return None


CredentialHelper = Callable[[str, str], str | None]  # (helper program, server) -> its JSON answer, or None


def registry_credentials(host: str, env: Mapping[str, str], masker: Masker,
                         helper: CredentialHelper | None = None) -> BasicCredentials | None:
    """The login helm keeps for registry ``host`` (``host:port``), if any: from ``auths``, else from the
    docker credential helper the config names for it (``credHelpers``, else ``credsStore``), asked
    through ``helper`` (``docker-credential-<name> get`` with the server on its stdin)."""
    path = registry_config_path(env)
    document = _read(path, json.loads)
    if not isinstance(document, dict):
        return None
    auths = document.get("auths")
    for key, item in (auths.items() if isinstance(auths, dict) else []):
        if _registry_host(str(key)) != host or not isinstance(item, dict):
            continue
        found = _login(item, masker)
        if found is not None:
            return BasicCredentials(found[0], found[1], str(path), refresh_token=found[0] == TOKEN_USER)
    helpers = document.get("credHelpers")
    name = (helpers.get(host) if isinstance(helpers, dict) else None) or document.get("credsStore")
    if not isinstance(name, str) or not name or helper is None or "/" in name:
        return None
    answer = helper(f"docker-credential-{name}", host)
    try:
        data = json.loads(answer) if answer else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("Secret"), str) or not data["Secret"]:
        return None
    username, secret = str(data.get("Username") or ""), str(data["Secret"])
    masker.add(secret)
    source = f"the credential helper docker-credential-{name} (named in {path})"
    return BasicCredentials(username, secret, source, refresh_token=username == TOKEN_USER)


def _login(item: dict[str, Any], masker: Masker) -> tuple[str, str] | None:
    auth = item.get("auth")
    if isinstance(auth, str) and auth:
        masker.add(auth)
        try:
            username, sep, password = base64.b64decode(auth).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if sep:
            masker.add(password)
            return username, password
    token = item.get("identitytoken")
    if isinstance(token, str) and token:  # an OAuth2 refresh token: sent as the password, as docker does
        masker.add(token)
        return TOKEN_USER, token
    if isinstance(item.get("username"), str) and isinstance(item.get("password"), str):
        masker.add(item["password"])
        return str(item["username"]), str(item["password"])
    return None


def _registry_host(key: str) -> str:
    for prefix in ("https://", "http://", "oci://"):
        key = key.removeprefix(prefix)
    return key.split("/", 1)[0]


def _path(value: Any) -> Path | None:
    return Path(os.path.expanduser(str(value))) if value else None


def _read(path: Path, parse: Any) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise HelmkitError(f"cannot read helm's configuration {path}: {exc.strerror}") from None
    try:
        return parse(text)
    except (ValueError, yaml.YAMLError):
        raise HelmkitError(f"helm's configuration {path} is not valid",
                           hint="check it with helm (`helm repo list`, `helm registry login`)") from None
