"""A typed Helm client on the :class:`~helmkit.adapters.runner.Runner`.

Each helm command has an argv builder (pure, tested by shape for both majors) and a call that
runs it. Values reach helm only on its standard input (``-f -``, :data:`VALUES_STDIN`; the text
from :func:`values_yaml`): never a file that a killed process could leave behind, never ``--set``
on a command line. Every call that talks to a cluster names its kube context explicitly
(:class:`KubeTarget`).

Helm 3 and 4 differ in a few flags: helm 3 rolls back with ``--atomic`` and waits with a plain
``--wait``; helm 4 rolls back with ``--rollback-on-failure`` and takes a wait strategy
(``--wait=watcher``). Helm 4 applies server-side: sync's upgrades and rollbacks pass
``--force-conflicts`` so that fields the chart sets and a person changed by hand (``kubectl set
image`` owns them as ``kubectl-set``) are taken back instead of failing with a conflict, as helm
3's three-way merge restores them -- except for a release whose record was applied client-side
(installed by helm 3): helm 4 keeps client-side apply for it (``--server-side=auto``), restores
through the three-way merge, and refuses ``--force-conflicts``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import semver
import yaml

from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.runner import Result, Runner
from helmkit.adapters.semverrange import VersionConstraint
from helmkit.errors import HelmkitError, InputError, Location, Problem, ToolError

TEMPLATE_TIMEOUT = 300.0
PULL_TIMEOUT = 300.0
VALUES_STDIN = Path("-")  # `-f -`: helm 3 and 4 read the values document from standard input
_VERSION_RE = re.compile(r"v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)")
# The Go garbage collector's target for the helm processes helmkit starts: each lives for one
# release and a few hundred MB of allocations (JSON and YAML of the manifest, the release record),
# so collecting at 5x the live heap instead of 2x spends less CPU on the collector for about 1.6x
# the peak memory (docs/performance.md has the measurements). A GOGC of the user's wins.
GO_GC_PERCENT = "400"


@dataclass(frozen=True)
class HelmVersion:
    """The version of a helm binary, e.g. ``v3.19.0``."""

    text: str
    version: semver.Version

    @property
    def major(self) -> int:
        return int(self.version.major)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class KubeTarget:
    """Which cluster a call talks to: always an explicit context, optionally a kubeconfig."""

    context: str
    kubeconfig: Path | None = None

    def argv(self) -> list[str]:
        args = ["--kube-context", self.context]
        if self.kubeconfig is not None:
            args += ["--kubeconfig", str(self.kubeconfig)]
        return args


@dataclass(frozen=True)
class TemplateRequest:
    release: str
    chart: Path  # a chart directory or a packaged .tgz
    namespace: str
    kube_version: str | None = None
    values_files: tuple[Path, ...] = ()
    include_crds: bool = True
    api_versions: tuple[str, ...] = ()
    is_upgrade: bool = False  # .Release.IsUpgrade, as when the release is deployed
    server: KubeTarget | None = None  # --dry-run=server: ``lookup`` answered by this cluster


@dataclass(frozen=True)
class UpgradeRequest:
    release: str
    chart: Path
    namespace: str
    target: KubeTarget
    values_files: tuple[Path, ...] = ()
    wait: bool = True
    timeout: str = "5m"
    atomic: bool = True
    create_namespace: bool = True
    history_max: int = 10
    dry_run: bool = False
    skip_crds: bool = False
    force_conflicts: bool = False  # helm 4 --force-conflicts (never for a release applied client-side)


@dataclass(frozen=True)
class PullRequest:
    reference: str  # oci://host/path/name
    version: str
    destination: Path
    plain_http: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_tls_verify: bool = False


@dataclass
class HelmClient:
    """Runs helm commands through the runner with a fixed binary and environment."""

    runner: Runner
    binary: Path
    env: Mapping[str, str] = field(default_factory=dict)
    version_cache: ContentCache | None = None  # remembers `helm version` per binary file identity
    _version: HelmVersion | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    # -- version -------------------------------------------------------------------------

    def version(self) -> HelmVersion:
        """The binary's version (asked once per client)."""
        with self._lock:
            if self._version is None:
                self._version = self._cached_version()
            return self._version

    def _cached_version(self) -> HelmVersion:
        key = None
        if self.version_cache is not None:
            try:
                info = self.binary.resolve().stat()
            except OSError:
                info = None
            if info is not None:
                key = content_key({"helm-binary": str(self.binary.resolve()), "size": info.st_size,
                                   "mtime": info.st_mtime_ns, "inode": info.st_ino})
                known = self.version_cache.get(key)
                if known is not None:
                    return parse_helm_version(known.decode())
        result = self._run(["version", "--template", "{{.Version}}"], what="helm version", timeout=60)
        found = parse_helm_version(result.stdout)
        if self.version_cache is not None and key is not None:
            self.version_cache.put(key, found.text.encode())
        return found

    def check_version(self, constraint: str, *, location: Location | None = None) -> HelmVersion:
        """Raise unless the binary satisfies ``constraint`` (``helm.version`` of helmkit.yaml)."""
        try:
            wanted = VersionConstraint.parse(constraint)
        except ValueError as exc:
            raise InputError(
                Problem(f"helm.version: {exc}", location, hint='write a semver range, e.g. ">=3.19.0 <5.0.0"')
            ) from None
        found = self.version()
        if not wanted.allows(found.version, include_prerelease=True):
            raise HelmkitError(
                f"helm {found} at {self.binary} does not satisfy helm.version {constraint!r}"
                + (f" ({location})" if location else ""),
                hint="run `helmkit bootstrap` and pass --helm 3 or --helm 4, or point --helm at a matching binary",
            )
        return found

    # -- argv builders (pure) --------------------------------------------------------------

    def template_argv(self, req: TemplateRequest) -> list[str]:
        argv = [str(self.binary), "template", req.release, str(req.chart), "--namespace", req.namespace]
        if req.kube_version:
            argv += ["--kube-version", req.kube_version]
        if req.include_crds:
            argv.append("--include-crds")
        if req.is_upgrade:
            argv.append("--is-upgrade")
        for api in req.api_versions:
            argv += ["--api-versions", api]
        for path in req.values_files:
            argv += ["-f", str(path)]
        if req.server is not None:
            argv += ["--dry-run=server", *req.server.argv()]
        return argv

    def upgrade_install_argv(self, req: UpgradeRequest, major: int) -> list[str]:
        argv = [str(self.binary), "upgrade", "--install", req.release, str(req.chart),
                "--namespace", req.namespace, *req.target.argv()]
        if req.atomic:
            argv.append("--atomic" if major < 4 else "--rollback-on-failure")
        if req.wait:
            argv.append("--wait" if major < 4 else "--wait=watcher")
        if major >= 4 and req.force_conflicts:
            argv.append("--force-conflicts")  # server-side apply takes back the fields the chart sets
        if req.skip_crds:
            argv.append("--skip-crds")
        argv += ["--timeout", req.timeout, "--history-max", str(req.history_max)]
        if req.create_namespace:
            argv.append("--create-namespace")
        if req.dry_run:
            argv.append("--dry-run" if major < 4 else "--dry-run=server")
        for path in req.values_files:
            argv += ["-f", str(path)]
        return argv

    def uninstall_argv(self, release: str, namespace: str, target: KubeTarget, *, wait: bool = True,
                       timeout: str = "5m", major: int = 4) -> list[str]:
        argv = [str(self.binary), "uninstall", release, "--namespace", namespace, *target.argv(), "--timeout", timeout]
        if wait:
            argv.append("--wait" if major < 4 else "--wait=watcher")
        return argv

    def rollback_argv(self, release: str, namespace: str, target: KubeTarget, revision: int | None = None, *,
                      wait: bool = True, timeout: str = "5m", history_max: int = 10, major: int = 4,
                      force_conflicts: bool = False) -> list[str]:
        argv = [str(self.binary), "rollback", release]
        if revision is not None:
            argv.append(str(revision))
        argv += ["--namespace", namespace, *target.argv(), "--timeout", timeout, "--history-max", str(history_max)]
        if wait:
            argv.append("--wait" if major < 4 else "--wait=watcher")
        if major >= 4 and force_conflicts:
            argv.append("--force-conflicts")
        return argv

    def get_manifest_argv(self, release: str, namespace: str, target: KubeTarget,
                          revision: int | None = None) -> list[str]:
        argv = [str(self.binary), "get", "manifest", release, "--namespace", namespace, *target.argv()]
        if revision is not None:
            argv += ["--revision", str(revision)]
        return argv

    def pull_argv(self, req: PullRequest) -> list[str]:
        """``helm pull oci://...`` of one exact version into a folder; helm uses its own registry login."""
        argv = [str(self.binary), "pull", req.reference, "--version", req.version,
                "--destination", str(req.destination)]
        if req.plain_http:
            argv.append("--plain-http")
        for flag, path in (("--ca-file", req.ca_file), ("--cert-file", req.cert_file), ("--key-file", req.key_file)):
            if path is not None:
                argv += [flag, str(path)]
        if req.insecure_skip_tls_verify:
            argv.append("--insecure-skip-tls-verify")
        return argv

    def status_argv(self, release: str, namespace: str, target: KubeTarget) -> list[str]:
        return [str(self.binary), "status", release, "--namespace", namespace, *target.argv(), "--output", "json"]

    # -- calls -----------------------------------------------------------------------------

    def template(self, req: TemplateRequest, *, values: str | None = None) -> str:
        """``helm template``; ``values`` (a YAML document) goes to helm's stdin for ``-f -``."""
        result = self.runner.run(self.template_argv(req), env=self.env, timeout=TEMPLATE_TIMEOUT,
                                 what=f"helm template {req.release}", stdin=values)
        return result.stdout

    def upgrade_install(self, req: UpgradeRequest, *, timeout: float | None = None) -> Result:
        argv = self.upgrade_install_argv(req, self.version().major)
        return self.runner.run(argv, env=self.env, timeout=timeout, what=f"helm upgrade --install {req.release}")

    def uninstall(self, release: str, namespace: str, target: KubeTarget, *, wait: bool = True,
                  timeout: str = "5m") -> Result:
        argv = self.uninstall_argv(release, namespace, target, wait=wait, timeout=timeout,
                                   major=self.version().major)
        return self.runner.run(argv, env=self.env, timeout=None, what=f"helm uninstall {release}")

    def rollback(self, release: str, namespace: str, target: KubeTarget, revision: int | None = None, *,
                 wait: bool = True, timeout: str = "5m", history_max: int = 10) -> Result:
        argv = self.rollback_argv(release, namespace, target, revision, wait=wait, timeout=timeout,
                                  history_max=history_max, major=self.version().major)
        return self.runner.run(argv, env=self.env, timeout=None, what=f"helm rollback {release}")

    def get_manifest(self, release: str, namespace: str, target: KubeTarget, revision: int | None = None) -> str:
        argv = self.get_manifest_argv(release, namespace, target, revision)
        return self.runner.run(argv, env=self.env, what=f"helm get manifest {release}").stdout

    def pull(self, req: PullRequest) -> Result:
        return self.runner.run(self.pull_argv(req), env=self.env, timeout=PULL_TIMEOUT, check=False,
                               what=f"helm pull {req.reference}")

    def status(self, release: str, namespace: str, target: KubeTarget) -> dict[str, Any]:
        result = self.runner.run(self.status_argv(release, namespace, target), env=self.env,
                                 what=f"helm status {release}")
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError:
            raise ToolError(f"helm status {release}: output is not JSON") from None
        if not isinstance(data, dict):
            raise ToolError(f"helm status {release}: output is not a JSON object")
        return data

    def _run(self, args: Sequence[str], *, what: str, timeout: float) -> Result:
        return self.runner.run([str(self.binary), *args], env=self.env, timeout=timeout, what=what)


def go_runtime_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The Go runtime settings of helm processes: ``GOGC`` unless ``environ`` sets one."""
    return {} if "GOGC" in environ else {"GOGC": GO_GC_PERCENT}


def parse_helm_version(text: str) -> HelmVersion:
    match = _VERSION_RE.search(text.strip())
    if not match:
        raise ToolError(f"cannot read the helm version from {text.strip()[:80]!r}")
    return HelmVersion(f"v{match.group(1)}", semver.Version.parse(match.group(1)))


def values_yaml(document: Mapping[str, Any]) -> str:
    """The values document as helm reads it on stdin (``-f -``)."""
    return yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=False)
