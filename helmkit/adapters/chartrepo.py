"""Helm chart repositories: ``index.yaml``, chart downloads, ``helmkit.lock``.

Versions are chosen with the constraints of :mod:`helmkit.adapters.semverrange`.
:class:`ChartRepositoryClient` fetches ``index.yaml`` over http(s) (timeouts, retries with backoff
on 5xx and dropped connections), picks the newest entry allowed by a constraint, and downloads
the ``.tgz``, checking its sha256 against the index ``digest``; packages are cached by digest.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import semver
import yaml

from helmkit.adapters.cache import atomic_write, private_dir
from helmkit.adapters.helmconfig import (
    RepositoryEntry,
    TlsOptions,
    helm_environment,
    repository_config_path,
    repository_entry,
)
from helmkit.adapters.httpget import HTTP_ATTEMPTS, HTTP_TIMEOUT, http_get, with_retries
from helmkit.adapters.masking import Masker
from helmkit.adapters.semverrange import VersionConstraint, parse_version
from helmkit.errors import HelmkitError, ToolError

MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_CHART_BYTES = 256 * 1024 * 1024


# -- chart repositories ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartVersion:
    """One entry of a repository's index: a chart name at one version."""

    repository: str
    name: str
    version: str
    digest: str
    urls: tuple[str, ...]

    def download_url(self) -> str:
        if not self.urls:
            raise ToolError(f"{self.repository}: {self.name} {self.version} has no download URL in index.yaml")
        base = self.repository if self.repository.endswith("/") else self.repository + "/"
        return urllib.parse.urljoin(base, self.urls[0])


@dataclass
class ChartRepositoryClient:
    """Reads chart repositories over http(s); one per run (indexes are kept for the run).

    A repository listed in helm's repositories.yaml (``helm repo add``) is read with that entry's
    credentials and TLS files (else with the TLS files helmkit.yaml gives it); the credentials go to
    the repository's own host only, or to every host its index points at when the entry says
    ``pass_credentials_all`` (as helm does).
    """

    cache_dir: Path  # packages are kept here as <digest>.tgz
    timeout: float = HTTP_TIMEOUT
    attempts: int = HTTP_ATTEMPTS
    backoff: float = 0.5
    env: Mapping[str, str] | None = None  # the environment helm sees (None: this process's)
    masker: Masker = field(default_factory=Masker)
    tls: Callable[[str], TlsOptions] = lambda _url: TlsOptions()  # helmkit.yaml's, when repositories.yaml has none
    _indexes: dict[str, dict[str, list[ChartVersion]]] = field(default_factory=dict, init=False, repr=False)
    _entries: dict[str, RepositoryEntry | None] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def index(self, repository: str) -> dict[str, list[ChartVersion]]:
        """The entries of ``repository``'s index.yaml, by chart name (fetched once per client)."""
        with self._lock:
            if repository not in self._indexes:
                url = repository.rstrip("/") + "/index.yaml"
                data = self._get(url, repository, what=f"chart repository index {url}")
                if len(data) > MAX_INDEX_BYTES:
                    raise ToolError(f"{url}: index.yaml is larger than {MAX_INDEX_BYTES} bytes")
                self._indexes[repository] = _parse_index(repository, data)
            return self._indexes[repository]

    def resolve(self, repository: str, name: str, constraint: str, *,
                include_prerelease: bool = False) -> ChartVersion:
        """The newest version of chart ``name`` in ``repository`` that ``constraint`` allows."""
        try:
            wanted = VersionConstraint.parse(constraint or "*")
        except ValueError as exc:
            raise HelmkitError(f"chart {name} from {repository}: {exc}") from None
        entries = self.index(repository).get(name)
        if not entries:
            raise HelmkitError(f"chart {name!r} is not in the repository {repository}",
                               hint="check the chart name and the repository URL in helmkit.yaml")
        best = wanted.best([e.version for e in entries], include_prerelease=include_prerelease)
        if best is None:
            known = ", ".join(sorted({e.version for e in entries}, key=_sort_key, reverse=True)[:8])
            raise HelmkitError(f"no version of chart {name} in {repository} satisfies {constraint!r}",
                               hint=f"available: {known}")
        return next(e for e in entries if e.version == best)

    def find(self, repository: str, name: str, version: str) -> ChartVersion:
        for entry in self.index(repository).get(name, []):
            if entry.version == version:
                return entry
        raise HelmkitError(f"chart {name} {version} is no longer in the repository {repository}",
                           hint="run `helmkit lock` to resolve the version again")

    def package(self, entry: ChartVersion) -> Path:
        """The path of ``entry``'s .tgz in the cache, downloading and checking it if needed."""
        return self.package_by_digest(entry.digest, lambda: entry)

    def package_by_digest(self, digest: str, entry: Callable[[], ChartVersion]) -> Path:
        """The cached package with ``digest``; only when absent is ``entry()`` asked and downloaded."""
        digest = _normal_digest(digest)
        path = self.cache_dir / f"{digest}.tgz"
        if path.is_file() and _file_sha256(path) == digest:
            return path
        chosen = entry()
        url = chosen.download_url()
        data = self._get(url, chosen.repository, what=f"chart {chosen.name} {chosen.version}")
        found = hashlib.sha256(data).hexdigest()
        if found != digest:
            raise ToolError(f"chart {chosen.name} {chosen.version} from {url} has sha256 {found}, expected {digest}",
                            hint="the repository changed this package after it was locked; do not use it")
        private_dir(self.cache_dir)
        atomic_write(path, data)
        return path

    def _get(self, url: str, repository: str, *, what: str) -> bytes:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise HelmkitError(f"{what}: only http and https chart repositories are supported, not {scheme!r}")
        entry = self._entry(repository)
        headers: dict[str, str] = {}
        if entry is not None and entry.credentials is not None and (
                entry.pass_credentials_all or _host(url) == _host(repository)):
            headers["Authorization"] = entry.credentials.header()
        tls = entry.tls if entry is not None and entry.tls != TlsOptions() else self.tls(repository)
        context = tls.ssl_context(url) if scheme == "https" else None
        config = repository_config_path(self._env())
        answer = with_retries(
            lambda: http_get(url, headers=headers, context=context, timeout=self.timeout, max_bytes=MAX_CHART_BYTES),
            what=what, attempts=self.attempts, backoff=self.backoff,
            tls_hint=f"give the CA that signed its certificate: `helm repo add NAME {repository} --ca-file FILE` "
                     f"(caFile of its entry in {config})")
        if answer.status in (401, 403):
            if entry is None or entry.credentials is None:
                hint = (f"add credentials with `helm repo add NAME {repository} --username USER --password-stdin` "
                        f"(helmkit reads them from {config})")
            else:
                hint = f"the credentials of {repository} in {config} were refused: update them with `helm repo add`"
            raise HelmkitError(f"{what}: HTTP {answer.status} (the repository needs a login)", hint=hint)
        if answer.status >= 400:
            raise ToolError(f"{what}: HTTP {answer.status}")
        return answer.body

    def _env(self) -> Mapping[str, str]:
        return helm_environment(self.env) if self.env is not None else os.environ

    def _entry(self, repository: str) -> RepositoryEntry | None:
        if repository not in self._entries:
            self._entries[repository] = repository_entry(repository, self._env(), self.masker)
        return self._entries[repository]


def _parse_index(repository: str, data: bytes) -> dict[str, list[ChartVersion]]:
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ToolError(f"{repository}/index.yaml is not valid YAML: {str(exc).splitlines()[0]}") from None
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise ToolError(f"{repository}/index.yaml has no 'entries' map")
    result: dict[str, list[ChartVersion]] = {}
    for name, versions in entries.items():
        for item in versions if isinstance(versions, list) else []:
            parsed = _entry(repository, str(name), item)
            if parsed is not None:
                result.setdefault(str(name), []).append(parsed)
    return result


def _entry(repository: str, name: str, item: Any) -> ChartVersion | None:
    if not isinstance(item, dict) or "version" not in item:
        return None
    urls = item.get("urls") or []
    return ChartVersion(repository, name, str(item["version"]), str(item.get("digest") or ""),
                        tuple(str(u) for u in urls if isinstance(u, str)))


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.rsplit("@", 1)[-1].lower()


def _normal_digest(digest: str) -> str:
    digest = digest.removeprefix("sha256:").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ToolError(f"invalid chart digest {digest[:80]!r}", hint="expected a sha256 hex digest")
    return digest


def _file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _sort_key(version: str) -> tuple[int, semver.Version]:
    parsed = parse_version(version)
    return (1, parsed) if parsed is not None else (0, semver.Version(0))
