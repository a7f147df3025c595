"""Which ``.Capabilities`` a cluster's releases render with.

Online (``diff``, ``sync``, ``status``, ``drift``): what the cluster serves, read once per cluster
from its discovery (:mod:`helmkit.adapters.discovery`), and saved as the cluster's *last-known*
capabilities in ``.helmkit/state/capabilities/<env>/<cluster>.json`` (API group names, kinds, a
version and a time: no secret). A release renders against that plus the API versions of the
``crds/`` of the charts about to be installed on the cluster (:func:`with_installed_crds`).

Offline (``validate``, ``template``, ``diff --git-base``), per cluster, the first of:

1. ``declared``: the cluster's ``capabilities`` field (cluster layer, cluster entry or
   environment);
2. ``last-known``: what the last online command saved for it;
3. ``computed``: the API versions of the CRDs that the charts of *all* the cluster's enabled
   releases ship in their ``crds/`` folders (never only the selected ones, so a ``-l`` selector
   does not change another release's rendering), with the cluster's ``kubeVersion``.

helm adds ``--api-versions`` to its compiled-in list of built-in API versions; it cannot take one
away, so offline and online rendering both see that list plus the cluster's own.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from helmkit.actions.charttext import crd_api_versions
from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.discovery import Capabilities
from helmkit.adapters.treedigest import TreeDigests
from helmkit.context import Context
from helmkit.errors import HelmkitError
from helmkit.model.instance import Cluster, ReleaseInstance
from helmkit.plan.keptcrds import KeptCrds

ClusterKey = tuple[str, str]  # (env, cluster)


@dataclass(frozen=True)
class RenderTarget:
    """What one instance renders against besides its values: capabilities and install vs upgrade."""

    capabilities: Capabilities
    is_upgrade: bool = False
    # a Helm record of the release is compared with the rendering: a chart that generates values
    # is rendered a second time to learn which fields it generates (not needed for a first install)
    compared: bool = True


@dataclass(frozen=True)
class ChosenCapabilities:
    cluster: ClusterKey
    capabilities: Capabilities
    source: str  # "cluster", "declared", "last-known" or "computed"

    def describe(self) -> str:
        text = f"{self.cluster[0]}/{self.cluster[1]} {self.source}"
        if self.source == "last-known" and self.capabilities.observed_at:
            text += f" ({_local_time(self.capabilities.observed_at)})"
        return text


def state_file(ctx: Context, env: str, cluster: str) -> Path:
    return ctx.state_dir / "state" / "capabilities" / env / f"{cluster}.json"


def save_last_known(ctx: Context, cluster: Cluster, capabilities: Capabilities) -> None:
    """Remember what a cluster served. Unchanged capabilities only touch the file (its time is when they
    were last confirmed); a failure to write is not an error of the command."""
    path = state_file(ctx, cluster.env, cluster.name)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            saved = Capabilities.from_json(path.read_text(encoding="utf-8"))
            if saved is not None and (saved.kube_version, saved.api_versions) == (
                    capabilities.kube_version, capabilities.api_versions):
                os.utime(path)
                return
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".capabilities-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(capabilities.to_json())
        os.replace(temp, path)


def last_known(ctx: Context, env: str, cluster: str) -> Capabilities | None:
    """The saved capabilities of a cluster, ``observed_at`` being when they were last confirmed."""
    path = state_file(ctx, env, cluster)
    try:
        text, confirmed = path.read_text(encoding="utf-8"), path.stat().st_mtime
    except OSError:
        return None
    found = Capabilities.from_json(text)
    if found is None:
        return None
    return Capabilities(found.kube_version, found.api_versions,
                        datetime.fromtimestamp(confirmed, UTC).isoformat(timespec="seconds"))


def declared(cluster: Cluster) -> Capabilities | None:
    if cluster.api_versions is None:
        return None
    return Capabilities(cluster.kube_version, tuple(sorted(set(cluster.api_versions))))


@dataclass
class CrdApis:
    """The API versions of each chart's ``crds/``, read once per chart content: kept in the content
    cache under the chart's digest (a fleet's charts are the same on every cluster, and a CRD
    folder can weigh megabytes)."""

    cache: ContentCache
    digests: TreeDigests
    known: dict[Path, set[str]] = field(default_factory=dict)
    kept: KeptCrds = field(init=False)  # large CRDs read once: the CRDs a sync creates are read from there too

    def __post_init__(self) -> None:
        self.kept = KeptCrds(self.cache)

    def of(self, chart: Path) -> set[str]:
        if chart not in self.known:
            key = content_key({"crd-api-versions-of": self.digests.digest(chart)})
            hit = self.cache.get(key)
            if hit is not None:
                self.known[chart] = set(json.loads(hit.decode("utf-8")))
            else:
                self.known[chart] = crd_api_versions(chart, self.kept.load)
                self.cache.put(key, json.dumps(sorted(self.known[chart])).encode("utf-8"))
        return self.known[chart]


def choose_offline(ctx: Context, cluster: Cluster,
                   cluster_charts: Callable[[], Iterable[Path | HelmkitError]],
                   crd_apis: Callable[[Path], set[str]] = crd_api_versions) -> ChosenCapabilities:
    """Declared, else last-known, else computed from ``cluster_charts()`` (the charts of all of the
    cluster's enabled releases)."""
    key = (cluster.env, cluster.name)
    found = declared(cluster)
    if found is not None:
        return ChosenCapabilities(key, found, "declared")
    found = last_known(ctx, cluster.env, cluster.name)
    if found is not None:
        return ChosenCapabilities(key, found, "last-known")
    apis: set[str] = set()
    for chart in cluster_charts():
        if not isinstance(chart, HelmkitError):
            apis |= crd_apis(chart)
    return ChosenCapabilities(key, Capabilities(cluster.kube_version, tuple(sorted(apis))), "computed")


def with_installed_crds(targets: Callable[[ReleaseInstance], RenderTarget],
                        charts: Iterable[tuple[ReleaseInstance, Path | HelmkitError]],
                        crd_apis: Callable[[Path], set[str]]) -> Callable[[ReleaseInstance], RenderTarget]:
    """Online ``targets`` plus, per cluster, the API versions of the ``crds/`` of the charts it is to
    install (not yet deployed; ``crds`` not ``Skip``): helm creates a chart's ``crds/`` before it
    renders the chart, so what the cluster serves once those installs ran is what they, and the
    releases rendered after them, see (a ServiceMonitor gated on ``monitoring.coreos.com/v1`` of
    the same chart is installed, and a diff shows it)."""
    extra: dict[ClusterKey, set[str]] = {}
    for instance, chart in charts:
        if isinstance(chart, Path) and instance.crds != "Skip" and not targets(instance).is_upgrade:
            extra.setdefault((instance.env, instance.cluster.name), set()).update(crd_apis(chart))
    if not any(extra.values()):
        return targets

    def target(instance: ReleaseInstance) -> RenderTarget:
        found = targets(instance)
        served = found.capabilities.api_versions
        more = extra.get((instance.env, instance.cluster.name), set()) - set(served)
        if not more:
            return found
        return RenderTarget(Capabilities(found.capabilities.kube_version, tuple(sorted({*served, *more})),
                                         found.capabilities.observed_at), found.is_upgrade, found.compared)

    return target


def describe_all(chosen: Iterable[ChosenCapabilities]) -> str:
    """The info line a command prints: ``capabilities: prod/eu-west-1 last-known (2026-12-01 14:03), ...``."""
    return "capabilities: " + ", ".join(c.describe() for c in sorted(chosen, key=lambda c: c.cluster))


def enabled_instances_by_cluster(ctx: Context, envs: Iterable[str]) -> dict[ClusterKey, list[ReleaseInstance]]:
    """Every enabled release instance of the environments' clusters, whatever the command selected."""
    from helmkit.model.repository import load_repository
    from helmkit.model.resolve import resolve_environment

    found: dict[ClusterKey, list[ReleaseInstance]] = {}
    try:
        repo = load_repository(ctx.repo)
    except HelmkitError:
        return found
    for env in sorted(set(envs)):
        try:
            resolution = resolve_environment(repo, env)
        except HelmkitError:
            continue
        for instance in resolution.instances:
            if instance.enabled:
                found.setdefault((instance.env, instance.cluster.name), []).append(instance)
    return found


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso
