"""Charts in OCI registries (``oci://host/path``): versions from the registry's tags, packages pulled by helm.

**Resolving a constraint.** Helm has no command that lists a chart's tags, so helmkit asks the
registry itself with the OCI distribution API (``GET /v2/<path>/<name>/tags/list``, following
``Link`` pages), authenticating as helm would: the login ``helm registry login`` stored in helm's
registry config (:mod:`helmkit.adapters.helmconfig`), through the token flow a ``401`` with
``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` asks for, or HTTP basic auth. Only tags
that are semantic versions count; helm writes a version's ``+`` as ``_`` in a tag, and it is
read back. An exact version (``1.4.2``) needs no listing.

**Pulling.** The chosen version is pulled by ``helm pull oci://… --version V`` -- helm uses its own
login and configuration; no credential is ever on a command line -- and the manifest digest helm
prints (``Digest: sha256:…``) is what ``helmkit.lock`` records. A later pull of a locked version
must print the same digest: a tag pushed again with other content is refused. Packages are kept
in the cache under their manifest digest, with the sha256 of the ``.tgz`` beside them, checked on
every use.

**Plain HTTP.** ``plainHttp: true`` on the repository in helmkit.yaml makes helm and helmkit talk
HTTP. Unset, a loopback registry (``localhost``, ``127.0.0.1``) that answers plain HTTP is
used over HTTP, as helm 3 does by itself; any other host must say so.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import json
import re
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import semver

from helmkit.adapters.cache import atomic_write, private_dir
from helmkit.adapters.helm import HelmClient, PullRequest
from helmkit.adapters.helmconfig import RegistryAccess, registry_config_path, registry_credentials
from helmkit.adapters.httpget import HttpAnswer, http_get, transport_error, with_retries
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.adapters.semverrange import VersionConstraint, parse_version
from helmkit.errors import HelmkitError, ToolError

_DIGEST_RE = re.compile(r"^Digest:\s*(sha256:[0-9a-f]{64})\s*$", re.MULTILINE)
_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')
MAX_TAG_PAGES = 100


@dataclass(frozen=True)
class OciChart:
    """A chart version in a registry: its version (as helm reads the tag) and manifest digest."""

    repository: str  # oci://host/path
    name: str
    version: str
    digest: str  # sha256:<hex> of the manifest
    package: Path | None = None  # the pulled .tgz, when pulled


@dataclass(frozen=True)
class OciReference:
    host: str  # host[:port]
    path: str  # path/name inside the registry

    @classmethod
    def of(cls, repository: str, name: str) -> OciReference:
        rest = repository.removeprefix("oci://").strip("/")
        host, _, path = rest.partition("/")
        if not host:
            raise HelmkitError(f"{repository}: an OCI repository needs a host, e.g. oci://registry.example.com/charts")
        return cls(host, f"{path}/{name}" if path else name)

    @property
    def url(self) -> str:
        return f"oci://{self.host}/{self.path}"

    @property
    def hostname(self) -> str:
        return urllib.parse.urlsplit(f"//{self.host}").hostname or self.host


def is_oci(repository: str | None) -> bool:
    return bool(repository) and str(repository).startswith("oci://")


def is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


@dataclass
class OciRegistryClient:
    """Resolves and pulls OCI charts; one per run (tokens and answers are kept in memory only)."""

    helm: Callable[[], HelmClient]  # asked only when a pull is needed
    cache_dir: Path  # packages under oci/<manifest hex>.tgz
    masker: Masker
    env: Mapping[str, str]  # the environment helm sees (where its registry config is)
    access: Callable[[str], RegistryAccess] = lambda _url: RegistryAccess()
    runner: Runner | None = None  # runs docker credential helpers the registry config names
    timeout: float = 30.0
    attempts: int = 3
    backoff: float = 0.5
    _plain: dict[str, bool] = field(default_factory=dict, init=False, repr=False)
    _auth: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    # -- resolving -----------------------------------------------------------------------

    def resolve(self, repository: str, name: str, constraint: str, *, include_prerelease: bool = False) -> OciChart:
        """The newest version ``constraint`` allows, pulled by helm; its manifest digest."""
        exact = exact_version(constraint)
        if exact is None:
            try:
                wanted = VersionConstraint.parse(constraint or "*")
            except ValueError as exc:
                raise HelmkitError(f"chart {name} from {repository}: {exc}") from None
            versions = self.versions(repository, name)
            exact = wanted.best(versions, include_prerelease=include_prerelease)
            if exact is None:
                raise HelmkitError(f"no version of chart {name} in {repository} satisfies {constraint!r}",
                                   hint="available: " + (", ".join(_newest(versions, 8)) or "no versions"))
        package, digest = self._pull(repository, name, exact)
        return OciChart(repository, name, exact, digest, package)

    def versions(self, repository: str, name: str) -> list[str]:
        """The chart versions the registry holds (tags that are semantic versions, ``_`` read as ``+``)."""
        ref = OciReference.of(repository, name)
        access = self.access(repository)
        scope = f"repository:{ref.path}:pull"
        url: str | None = f"/v2/{ref.path}/tags/list?n=1000"
        tags: list[str] = []
        for _ in range(MAX_TAG_PAGES):
            if url is None:
                break
            answer = self._get(ref, url, scope, access)
            if answer.status in (401, 403):
                raise self._login_error(ref, answer.status)
            if answer.status == 404:
                raise HelmkitError(f"chart {name} is not in the registry {repository} ({ref.url} has no tags)",
                                   hint="check the chart name and the repository URL")
            if answer.status != 200:
                raise ToolError(f"{ref.url}: listing tags answered HTTP {answer.status}")
            try:
                listed = json.loads(answer.body).get("tags") or []
            except (ValueError, AttributeError):
                raise ToolError(f"{ref.url}: the tag list is not JSON") from None
            tags.extend(str(t) for t in listed if isinstance(t, str))
            url = _next_page(answer.header("Link"))
        return [v for v in (t.replace("_", "+") for t in tags) if parse_version(v) is not None]

    # -- packages ------------------------------------------------------------------------

    def package(self, repository: str, name: str, version: str, digest: str,
                access: RegistryAccess | None = None) -> Path:
        """The locked package (from the cache, else pulled by helm), refused unless its manifest is ``digest``."""
        path = self._cached(digest)
        if path is not None:
            return path
        package, found = self._pull(repository, name, version, access)
        if found != digest:
            raise HelmkitError(
                f"chart {name} {version} in {repository} is not what helmkit.lock locked: the registry's tag now "
                f"has manifest {found}, the lock has {digest} (the tag was pushed again with other content)",
                hint="if the new content is intended, run `helmkit lock` and review the change; "
                     "otherwise push the locked content back or pin another version")
        return package

    def _cached(self, digest: str) -> Path | None:
        hexdigest = _hex(digest)
        path = self.cache_dir / "oci" / f"{hexdigest}.tgz"
        sidecar = path.with_suffix(".sha256")
        try:
            expected = sidecar.read_text().strip()
        except OSError:
            return None
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == expected:
            return path
        return None

    def _pull(self, repository: str, name: str, version: str, access: RegistryAccess | None = None
              ) -> tuple[Path, str]:
        ref = OciReference.of(repository, name)
        access = access or self.access(repository)
        plain = self.plain_http(ref, access)
        helm = self.helm()
        folder = self.cache_dir / "oci"
        private_dir(folder)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".pull-") as temp:
            tls = access.tls
            result = helm.pull(PullRequest(ref.url, version, Path(temp), plain_http=plain, ca_file=tls.ca_file,
                                           cert_file=tls.cert_file, key_file=tls.key_file,
                                           insecure_skip_tls_verify=tls.insecure_skip_verify))
            if not result.ok:
                raise self._pull_error(ref, repository, name, version, result.stderr or result.stdout)
            match = _DIGEST_RE.search(result.stdout + "\n" + result.stderr)
            packages = sorted(Path(temp).glob("*.tgz"))
            if match is None or len(packages) != 1:
                raise ToolError(f"helm pull {ref.url} --version {version}: no package or no digest in its output",
                                stderr=self.masker.mask(result.stdout + result.stderr))
            digest = match.group(1)
            data = packages[0].read_bytes()
        path = folder / f"{_hex(digest)}.tgz"
        atomic_write(path, data)
        atomic_write(path.with_suffix(".sha256"), hashlib.sha256(data).hexdigest().encode())
        return path, digest

    def _pull_error(self, ref: OciReference, repository: str, name: str, version: str, stderr: str) -> HelmkitError:
        text = stderr.lower()
        masked = self.masker.mask(stderr.strip())
        if any(word in text for word in ("credential not found", "unauthorized", "authentication required",
                                         " 401", " 403", "denied")):
            return self._login_error(ref, 401)
        if "not found" in text or "manifest unknown" in text or "name unknown" in text:
            hint = "check the chart name and the repository URL"
            try:
                near = nearest(self.versions(repository, name), version)
                hint = "nearest available versions: " + ", ".join(near) if near else "the registry has no versions"
            except HelmkitError:
                pass
            return HelmkitError(f"chart {name} {version} is not in the registry {repository}", hint=hint)
        if "x509" in text or "certificate" in text:
            return HelmkitError(f"helm pull {ref.url}: the registry's TLS certificate is not trusted",
                                hint=self._tls_hint(ref))
        if "http response to https client" in text:
            return HelmkitError(f"helm pull {ref.url}: the registry answers plain HTTP", hint=self._plain_hint(ref))
        return ToolError(f"helm pull {ref.url} --version {version} failed", stderr=masked)

    # -- HTTP ----------------------------------------------------------------------------

    def plain_http(self, ref: OciReference, access: RegistryAccess) -> bool:
        if access.plain_http is not None:
            return access.plain_http
        with self._lock:
            known = self._plain.get(ref.host)
        if known is None:
            known = is_loopback(ref.hostname) and self._answers_plain_http(ref, access)
            with self._lock:
                self._plain[ref.host] = known
        return known

    def _answers_plain_http(self, ref: OciReference, access: RegistryAccess) -> bool:
        try:
            http_get(f"https://{ref.host}/v2/", context=access.tls.ssl_context(ref.url), timeout=self.timeout)
        except (urllib.error.URLError, OSError) as exc:
            error = transport_error(exc, ref.url)
            return error is not None and "plain HTTP" in error.message
        return False

    def _get(self, ref: OciReference, path: str, scope: str, access: RegistryAccess) -> HttpAnswer:
        scheme = "http" if self.plain_http(ref, access) else "https"
        context = access.tls.ssl_context(ref.url) if scheme == "https" else None
        url = f"{scheme}://{ref.host}{path}"

        def call(headers: dict[str, str]) -> HttpAnswer:
            return with_retries(lambda: http_get(url, headers=headers, context=context, timeout=self.timeout),
                                what=f"registry {ref.host}", attempts=self.attempts, backoff=self.backoff,
                                tls_hint=self._tls_hint(ref), plain_hint=self._plain_hint(ref))

        headers = {"Accept": "application/json"}
        with self._lock:
            known = self._auth.get((ref.host, scope))
        answer = call({**headers, "Authorization": known} if known else headers)
        if answer.status == 401:
            authorization = self._authorize(ref, scope, answer.header("WWW-Authenticate"), access)
            if authorization:
                answer = call({**headers, "Authorization": authorization})
                if answer.status != 401:
                    with self._lock:
                        self._auth[(ref.host, scope)] = authorization
        return answer

    def _authorize(self, ref: OciReference, scope: str, challenge: str, access: RegistryAccess) -> str | None:
        kind = challenge.split(" ", 1)[0].lower()
        params = dict(_CHALLENGE_RE.findall(challenge))
        credentials = registry_credentials(ref.host, self.env, self.masker, self._helper)
        if kind == "basic":
            return credentials.header() if credentials is not None and not credentials.refresh_token else None
        if kind != "bearer" or not params.get("realm"):
            return None
        query = {"service": params.get("service", ""), "scope": params.get("scope") or scope}
        realm = params["realm"]
        headers: dict[str, str] = {}
        data = None
        if credentials is not None and credentials.refresh_token:
            data = urllib.parse.urlencode({**query, "grant_type": "refresh_token", "client_id": "helmkit",
                                           "refresh_token": credentials.password}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            realm += ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
            if credentials is not None:
                headers["Authorization"] = credentials.header()
        ssl_context = access.tls.ssl_context(realm) if realm.startswith("https:") else None
        answer = with_retries(lambda: http_get(realm, headers=headers, context=ssl_context, timeout=self.timeout,
                                               data=data),
                              what=f"registry {ref.host} token service", attempts=self.attempts, backoff=self.backoff,
                              tls_hint=self._tls_hint(ref))
        if answer.status in (401, 403):
            raise self._login_error(ref, answer.status)
        try:
            body = json.loads(answer.body)
            token = str(body.get("token") or body.get("access_token") or "")
        except (ValueError, AttributeError):
            token = ""
        if answer.status != 200 or not token:
            raise ToolError(f"registry {ref.host}: its token service answered HTTP {answer.status} without a token")
        self.masker.add(token)
        return f"Bearer {token}"

    def _helper(self, program: str, server: str) -> str | None:
        """A docker credential helper's answer for ``server`` (its output is never printed)."""
        if self.runner is None or shutil.which(program, path=self.env.get("PATH")) is None:
            return None
        result = self.runner.run([program, "get"], stdin=server, env=dict(self.env), timeout=30, check=False,
                                 what=program)
        return result.stdout if result.ok else None

    def _login_error(self, ref: OciReference, status: int) -> HelmkitError:
        credentials = registry_credentials(ref.host, self.env, self.masker, self._helper)
        config = registry_config_path(self.env)
        if credentials is None:
            return HelmkitError(f"registry {ref.host} needs a login to read {ref.path} (HTTP {status})",
                                hint=f"run `helm registry login {ref.host}` (helm keeps it in {config})")
        return HelmkitError(f"registry {ref.host} refused the login helm keeps in {credentials.source} "
                            f"for {ref.path} (HTTP {status})",
                            hint=f"run `helm registry login {ref.host}` again with an account that may pull it")

    @staticmethod
    def _tls_hint(ref: OciReference) -> str:
        return (f"set `caFile` (the CA that signed {ref.host}'s certificate) on this repository in "
                "helmkit.yaml `repositories`")

    @staticmethod
    def _plain_hint(ref: OciReference) -> str:
        return f"set `plainHttp: true` on the repository oci://{ref.host}/… in helmkit.yaml `repositories`"


def exact_version(constraint: str) -> str | None:
    """``constraint`` when it names one full version (``1.2.3``, ``=1.2.3``), else None."""
    text = constraint.strip().removeprefix("=").strip()
    return text if text and parse_version(text) is not None else None


def nearest(versions: list[str], wanted: str, count: int = 6) -> list[str]:
    """Up to ``count`` versions closest to ``wanted`` in version order."""
    parsed: list[tuple[semver.Version, str]] = []
    for text in set(versions):
        version = parse_version(text)
        if version is not None:
            parsed.append((version, text))
    parsed.sort(key=lambda pair: pair[0])
    target = parse_version(wanted)
    if target is None or not parsed:
        return _newest(versions, count)
    position = bisect.bisect_left([version for version, _ in parsed], target)
    start = max(0, min(position - count // 2, len(parsed) - count))
    return [text for _, text in parsed[start:start + count]]


def _newest(versions: list[str], count: int) -> list[str]:
    parsed = [(v, t) for t in set(versions) if (v := parse_version(t)) is not None]
    return [text for _, text in sorted(parsed, key=lambda pair: pair[0], reverse=True)[:count]]


def _next_page(link: str) -> str | None:
    match = re.search(r"<([^>]+)>\s*;\s*rel=\"?next\"?", link)
    return match.group(1) if match and match.group(1).startswith("/v2/") else None


def _hex(digest: str) -> str:
    text = digest.removeprefix("sha256:").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ToolError(f"invalid chart digest {digest[:80]!r}", hint="expected sha256:<64 hex digits>")
    return text
