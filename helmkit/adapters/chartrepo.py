"""Helm chart repositories: version constraints, ``index.yaml``, chart downloads, ``helmkit.lock``.

Constraints (:class:`VersionConstraint`) use the forms Helm users write: exact ``1.2.3``,
comparisons ``>=1.0 <2`` (space or comma means AND, ``||`` means OR), caret ``^1.2``
(same major, or same minor below 1.0), tilde ``~1.2.3`` (same minor), wildcards ``1.2.x``,
``1.x`` and ``*``. A partial version (``1.2``) is the wildcard ``1.2.x``. Prereleases match only
when the constraint names a prerelease itself or the caller asks for them.

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
from helmkit.errors import HelmkitError, ToolError

_PARTIAL_RE = re.compile(
    r"^v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_TERM_RE = re.compile(r"^(?P<op>>=|<=|!=|==|=|>|<|\^|~>|~)?\s*(?P<version>\S+)$")
_WILD = {"x", "X", "*"}
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_CHART_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class _Bound:
    op: str  # one of >=, >, <=, <, ==, !=
    version: semver.Version

    def allows(self, v: semver.Version) -> bool:
        cmp = v.compare(self.version)
        return {
            ">=": cmp >= 0, ">": cmp > 0, "<=": cmp <= 0, "<": cmp < 0, "==": cmp == 0, "!=": cmp != 0,
        }[self.op]


@dataclass(frozen=True)
class VersionConstraint:
    """A parsed semver constraint: alternatives (OR) of bound lists (AND)."""

    text: str
    alternatives: tuple[tuple[_Bound, ...], ...]
    names_prerelease: bool

    @classmethod
    def parse(cls, text: str) -> VersionConstraint:
        if not text or not text.strip():
            raise ValueError("empty version constraint")
        alternatives: list[tuple[_Bound, ...]] = []
        names_prerelease = False
        for alternative in text.split("||"):
            bounds: list[_Bound] = []
            terms = _terms(alternative)
            if not terms:
                raise ValueError(f"invalid version constraint {text!r}")
            for term in terms:
                match = _TERM_RE.match(term)
                if not match:
                    raise ValueError(f"invalid version constraint term {term!r} in {text!r}")
                new, pre = _bounds(match.group("op") or "=", match.group("version"), text)
                bounds.extend(new)
                names_prerelease = names_prerelease or pre
            alternatives.append(tuple(bounds))
        return cls(text.strip(), tuple(alternatives), names_prerelease)

    def allows(self, version: semver.Version, *, include_prerelease: bool = False) -> bool:
        if version.prerelease and not (include_prerelease or self.names_prerelease):
            return False
        return any(all(b.allows(version) for b in bounds) for bounds in self.alternatives)

    def best(self, versions: list[str], *, include_prerelease: bool = False) -> str | None:
        """The newest of ``versions`` (as written) this constraint allows."""
        allowed: list[tuple[semver.Version, str]] = []
        for text in versions:
            parsed = parse_version(text)
            if parsed is not None and self.allows(parsed, include_prerelease=include_prerelease):
                allowed.append((parsed, text))
        return max(allowed, key=lambda pair: pair[0])[1] if allowed else None


def parse_version(text: str) -> semver.Version | None:
    try:
        return semver.Version.parse(text[1:] if text.startswith("v") else text)
    except (ValueError, TypeError):
        return None


def _terms(alternative: str) -> list[str]:
    # Join an operator separated from its version by spaces (">= 1.0") before splitting.
    text = re.sub(r"(>=|<=|!=|==|~>|[=><^~])\s+", r"\1", alternative.replace(",", " "))
    terms = text.split()
    if len(terms) == 3 and terms[1] == "-":  # hyphen range "1.2 - 1.4"
        return [f">={terms[0]}", f"<={terms[2]}"]
    return terms


def _bounds(op: str, text: str, whole: str) -> tuple[list[_Bound], bool]:
    match = _PARTIAL_RE.match(text)
    if not match:
        raise ValueError(f"invalid version {text!r} in constraint {whole!r}")
    parts = [match.group("major"), match.group("minor"), match.group("patch")]
    pre = match.group("pre")
    known: list[int] = []
    for part in parts:
        if part is None or part in _WILD:
            break
        known.append(int(part))
    padded = [*known, 0, 0, 0]
    floor = semver.Version(padded[0], padded[1], padded[2], prerelease=pre if len(known) == 3 else None)
    if not known:  # "*", "x"
        return ([_Bound(">=", semver.Version(0, 0, 0))] if op in ("=", "==", ">=", "^", "~", "~>") else []), False
    wildcard = len(known) < 3
    ceiling = _bump(known) if wildcard else None
    if op == "^":
        ceiling = _caret_ceiling(known)
        return [_Bound(">=", floor), _Bound("<", ceiling)], bool(pre)
    if op in ("~", "~>"):
        ceiling = semver.Version(known[0] + 1, 0, 0) if len(known) == 1 else semver.Version(known[0], known[1] + 1, 0)
        return [_Bound(">=", floor), _Bound("<", ceiling)], bool(pre)
    if op in ("=", "=="):
        if ceiling is not None:
            return [_Bound(">=", floor), _Bound("<", ceiling)], False
        return [_Bound("==", floor)], bool(pre)
    if op == "!=":
        if ceiling is not None:
            raise ValueError(f"'!=' needs a full version in {whole!r}")
        return [_Bound("!=", floor)], bool(pre)
    if op == ">" and ceiling is not None:
        return [_Bound(">=", ceiling)], False
    if op == "<=" and ceiling is not None:
        return [_Bound("<", ceiling)], False
    return [_Bound(op, floor)], bool(pre)


def _bump(known: list[int]) -> semver.Version:
    if len(known) == 1:
        return semver.Version(known[0] + 1, 0, 0)
    return semver.Version(known[0], known[1] + 1, 0)


def _caret_ceiling(known: list[int]) -> semver.Version:
    full = [*known, 0, 0][:3]
    if full[0] > 0 or len(known) == 1:
        return semver.Version(full[0] + 1, 0, 0)
    if full[1] > 0 or len(known) == 2:
        return semver.Version(0, full[1] + 1, 0)
    return semver.Version(0, 0, full[2] + 1)


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
