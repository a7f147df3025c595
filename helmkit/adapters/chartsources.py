"""Where repository charts come from: an http(s) chart repository or an OCI registry, by URL scheme.

:class:`ChartSources` resolves a constraint to a version and digest (what ``helmkit.lock``
records) and gives the locked package as a local ``.tgz``: from an ``index.yaml`` repository
(:mod:`helmkit.adapters.chartrepo`; digest = sha256 of the package) or from an OCI registry
(:mod:`helmkit.adapters.ociregistry`; digest = the manifest digest, the package pulled by helm).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from helmkit.adapters.helm import HelmClient
from helmkit.adapters.helmconfig import RegistryAccess, helm_environment
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.errors import HelmkitError

_C = TypeVar("_C")

if TYPE_CHECKING:  # the clients (and HTTP, TLS) are loaded when a run first needs a repository chart
    from helmkit.adapters.chartrepo import ChartRepositoryClient
    from helmkit.adapters.ociregistry import OciRegistryClient


@dataclass(frozen=True)
class ResolvedChart:
    version: str
    digest: str  # sha256:<hex>


@dataclass
class ChartSources:
    """One per run; safe to share between threads. Each client is made on first use."""

    make_http: Callable[[], ChartRepositoryClient]
    make_oci: Callable[[], OciRegistryClient]
    _clients: dict[str, object] = field(default_factory=dict, init=False, repr=False)
    _packages: dict[str, Path | HelmkitError] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def http(self) -> ChartRepositoryClient:
        return self._client("http", self.make_http)

    @property
    def oci(self) -> OciRegistryClient:
        return self._client("oci", self.make_oci)

    def _client(self, name: str, make: Callable[[], _C]) -> _C:
        with self._lock:
            if name not in self._clients:
                self._clients[name] = make()
            client: _C = self._clients[name]  # type: ignore[assignment]
        return client

    def resolve(self, repository: str, name: str, constraint: str, *, include_prerelease: bool = False
                ) -> ResolvedChart:
        if repository.startswith("oci://"):  # ociregistry.is_oci, without loading the client
            found = self.oci.resolve(repository, name, constraint, include_prerelease=include_prerelease)
            return ResolvedChart(found.version, found.digest)
        entry = self.http.resolve(repository, name, constraint, include_prerelease=include_prerelease)
        if not entry.digest:
            raise HelmkitError(f"chart {name} {entry.version} in {repository} has no digest in index.yaml",
                               hint="helmkit only uses packages it can check; regenerate it with `helm repo index`")
        digest = entry.digest.lower()
        return ResolvedChart(entry.version, digest if digest.startswith("sha256:") else f"sha256:{digest}")

    def package(self, repository: str, name: str, version: str, digest: str,
                access: RegistryAccess | None = None) -> Path:
        """The locked package as a local .tgz (each digest fetched at most once per run); ``access``: the
        chart's own repository settings (else those the sources were made with)."""
        with self._lock:
            known = self._packages.get(digest)
        if isinstance(known, HelmkitError):
            raise known
        if known is not None:
            return known
        try:
            if repository.startswith("oci://"):  # ociregistry.is_oci, without loading the client
                path = self.oci.package(repository, name, version, digest, access)
            else:
                path = self.http.package_by_digest(digest, lambda: self.http.find(repository, name, version))
        except HelmkitError as exc:  # one failure per run, not one per release instance
            with self._lock:
                self._packages[digest] = exc
            raise
        with self._lock:
            self._packages[digest] = path
        return path


def chart_sources(cache_dir: Path, masker: Masker, helm: Callable[[], HelmClient], helm_env: Mapping[str, str],
                  access: Mapping[str, RegistryAccess], *, runner: Runner | None = None) -> ChartSources:
    """The chart sources of a run: helm's environment decides where its repository and registry config are."""
    env = helm_environment(helm_env)

    def access_of(url: str) -> RegistryAccess:
        return access_for(url, access)

    def http() -> ChartRepositoryClient:
        from helmkit.adapters.chartrepo import ChartRepositoryClient

        return ChartRepositoryClient(cache_dir, env=dict(helm_env), masker=masker, tls=lambda url: access_of(url).tls)

    def oci() -> OciRegistryClient:
        from helmkit.adapters.ociregistry import OciRegistryClient

        return OciRegistryClient(helm, cache_dir, masker, env, access=access_of, runner=runner)

    return ChartSources(http, oci)


def access_for(url: str, access: Mapping[str, RegistryAccess]) -> RegistryAccess:
    """The settings of ``url``: its own, else those of the longest configured URL it starts with (same host)."""
    if url in access:
        return access[url]
    best = ""
    for known in access:
        stem = known.rstrip("/")
        if (url == stem or url.startswith(stem + "/") or stem.startswith(url.rstrip("/") + "/")) \
                and len(stem) > len(best):
            best = known
    return access[best] if best else RegistryAccess()
