"""Where an environment stands: what git wants, what Helm deployed, and the decision per release.

:func:`gather_live_state` reads, per cluster, what it serves (its discovery and ``/version``:
:mod:`helmkit.adapters.discovery`, three requests) and every Helm release record with one
paginated list call (:mod:`helmkit.adapters.helmstorage`), all clusters in parallel. A cluster
that cannot be reached is reported in its :class:`ClusterLive` while the others go on.

:func:`assess` is what ``diff``, ``sync``, ``status`` and ``drift`` share: resolve the instances of
an environment, read the clusters, render the enabled instances of the reachable ones as the real
``helm upgrade`` would (that cluster's kube version and API versions, ``--is-upgrade`` when the
release is deployed; never depending on which other releases are selected), pair instances with
records and :func:`~helmkit.plan.status.decide` each pair. It acts on nothing but the last-known
capabilities it saves for offline commands (:mod:`helmkit.actions.capabilities`).

Selection. With ``-l``, only the selected instances are assessed, and a record that has no
instance at all (an orphan) only when its name, namespace, chart, env and cluster labels match
the selector. Releases installed by someone else and absent from the specs are not listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helmkit.actions.capabilities import RenderTarget, save_last_known
from helmkit.actions.exactrender import exact_renders
from helmkit.actions.render import RenderResult, Settle, helm_client, render_instances
from helmkit.actions.unreachable import explain_unreachable
from helmkit.actions.verdicts import Verdicts
from helmkit.adapters.discovery import Capabilities, read_capabilities
from helmkit.adapters.helm import HelmClient, KubeTarget
from helmkit.adapters.helmstorage import CurrentReleases, HelmRelease, ReleaseHistory, read_current_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.recordfetch import fetch_workers
from helmkit.adapters.sharedtexts import SharedTexts
from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError, Problem
from helmkit.model.graph import NeedsGraph
from helmkit.model.instance import Cluster, ReleaseInstance
from helmkit.model.repository import load_repository
from helmkit.model.resolve import environment_of, resolve_environment
from helmkit.model.selectors import Selector, parse_selector
from helmkit.plan.manifests import ObjectKey
from helmkit.plan.status import Marker, ReleaseState, Status, decide, pair_releases, settled_state

SecretValues = dict[tuple[str | int, ...], str]
READ_WORKERS = 8  # clusters read at once: records are decoded as they arrive, memory follows these few


@dataclass
class ClusterLive:
    """The release records of one cluster, or why they could not be read."""

    cluster: Cluster
    histories: dict[tuple[str, str], ReleaseHistory] = field(default_factory=dict)
    error: HelmkitError | None = None
    api_calls: int = 0
    undecodable: int = 0
    capabilities: Capabilities | None = None  # what the cluster serves
    snapshot: CurrentReleases | None = None  # the records as read (current revisions decoded or not)

    def render_target(self, instance: ReleaseInstance) -> RenderTarget:
        """What the real ``helm upgrade --install`` of ``instance`` on this cluster renders against."""
        history = self.histories.get((instance.namespace, instance.name))
        deployed = history is not None and history.current.status != "uninstalled"
        return RenderTarget(self.capabilities or Capabilities(None, ()), is_upgrade=deployed,
                            compared=history is not None)

    def current(self, instance: ReleaseInstance) -> HelmRelease | None:
        """The current Helm record of ``instance`` on this cluster, if any."""
        history = self.histories.get((instance.namespace, instance.name))
        return history.current if history is not None else None

    @property
    def reachable(self) -> bool:
        return self.error is None

    def decode(self, keys: set[tuple[str, str]]) -> None:
        """Fetch and decode the current revision of these releases (namespace, name) if they are not yet
        (a cluster that fails meanwhile is unreachable from now on)."""
        if self.snapshot is not None and keys and self.error is None:
            try:
                self.snapshot = self.snapshot.decoded(keys)
            except HelmkitError as exc:
                self.error = exc
                return
            self.histories, self.undecodable = self.snapshot.histories, len(self.snapshot.undecodable)


def gather_live_state(ctx: Context, clusters: list[Cluster], *, kubeconfig: Path | None = None,
                      timeout: float = 15.0, retries: int = 2, decode: bool = True) -> dict[str, ClusterLive]:
    """Read the capabilities and Helm release records of ``clusters`` in parallel (``decode=False``: the
    current revisions stay undecoded, their summaries from the storage labels; see :meth:`ClusterLive.decode`).
    A manifest deployed on several clusters is kept once (:class:`SharedTexts`)."""
    texts = SharedTexts()

    def one(cluster: Cluster) -> ClusterLive:
        live = ClusterLive(cluster)
        try:
            config = load_cluster_config(cluster.context, ctx.runner, kubeconfig=kubeconfig, files=ctx.kubeconfigs)
            with KubeClient(config, timeout=timeout, retries=retries) as client:
                try:
                    live.capabilities = read_capabilities(client)
                    snapshot = read_current_releases(client, decode=decode,  # only the current revisions
                                                     workers=fetch_workers(len(clusters)), texts=texts)
                finally:
                    live.api_calls = client.calls
        except HelmkitError as exc:
            live.error = explain_unreachable(ctx, cluster, exc)
            return live
        live.snapshot, live.histories = snapshot, snapshot.histories
        live.undecodable = len(snapshot.undecodable)
        return live

    if not clusters:
        return {}
    with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(clusters)), thread_name_prefix="helmkit-live") as pool:
        return {live.cluster.name: live for live in pool.map(one, clusters)}


@dataclass(frozen=True)
class AssessOptions:
    env: str
    cluster: str | None = None
    selector: str | None = None
    set_values: tuple[str, ...] = ()
    concurrency: int | None = None
    # Verdicts (helmkit.actions.verdicts) that spare a rendering: "settle" (diff, sync, drift: any release a
    # verdict covers, whatever its chart; the CRDs of its chart's crds/ come from the chart's files), "all"
    # (status: the same, and the record is not even decoded), "none".
    verdicts: str = "settle"
    # False: the records of releases a verdict settles stay undecoded (diff and sync: the live check
    # decodes the ones it must compare, :mod:`helmkit.actions.livecheck`)
    decode_settled: bool = True


@dataclass
class AssessedRelease:
    """One release on one cluster: the decision and what it was made from."""

    state: ReleaseState
    instance: ReleaseInstance | None
    desired_manifest: str | None
    deployed: HelmRelease | None
    secrets: SecretValues = field(default_factory=dict)
    chart_name: str | None = None
    chart_version: str | None = None
    generated: dict[ObjectKey, frozenset[str]] = field(default_factory=dict)  # fields the chart generates
    settled: bool = False  # decided by a verdict: desired_manifest is Helm's record (which holds no crds/)

    @property
    def differs(self) -> bool:
        return self.state.status not in (Status.IN_SYNC, Status.DISABLED, Status.FOREIGN) or (
            self.state.status is Status.FOREIGN and self.instance is not None and self.instance.enabled)


@dataclass
class Assessment:
    env: str
    clusters: list[Cluster]
    graphs: dict[str, NeedsGraph]
    releases: list[AssessedRelease]
    live: dict[str, ClusterLive]
    render_errors: list[tuple[ReleaseInstance, HelmkitError]]
    warnings: list[Problem]
    helm: HelmClient
    instances: list[ReleaseInstance] = field(default_factory=list)  # selected, disabled ones included
    chart_paths: dict[str, Path] = field(default_factory=dict)  # release key -> chart helm rendered
    render_keys: dict[str, str] = field(default_factory=dict)  # release key -> render key (actions.verdicts)
    failed_renders: dict[str, HelmkitError] = field(default_factory=dict)  # render key -> helm's error, this run

    @property
    def unreachable(self) -> dict[str, HelmkitError]:
        return {name: live.error for name, live in self.live.items() if live.error is not None}

    def needs_levels(self) -> dict[str, list[list[str]]]:
        return {name: graph.levels() for name, graph in self.graphs.items()}


def assess(ctx: Context, options: AssessOptions) -> Assessment:
    """Resolve, render and read the clusters of an environment; decide every release."""
    ctx.cache_dir()  # the render cache and verdicts go there: the schema checks of this first load too
    repo = load_repository(ctx.repo)
    environment = environment_of(repo, options.env)
    selector = parse_selector(options.selector, allow_empty=ctx.allow_no_matching_release) if options.selector else None
    resolution = resolve_environment(repo, options.env, cluster=options.cluster, selector=selector,
                                     set_values=list(options.set_values) or None, include_disabled=True)
    if resolution.problems:
        raise InputError(resolution.problems)
    specs = [s for s in environment.clusters if options.cluster in (None, s.cluster.name)
             and ctx.cluster_filter.keeps(s.cluster)]  # --shard I/N, sync --wave: on top of --cluster and -l
    clusters = [s.cluster for s in sorted(specs, key=lambda s: (s.cluster.wave, s.cluster.name))]
    if not clusters and ctx.cluster_filter.active:
        ctx.console.info(f"{options.env}: {ctx.cluster_filter.describe()} has no clusters: nothing to do")
    helm = helm_client(ctx)
    instances = [i for i in resolution.instances if ctx.cluster_filter.keeps(i.cluster)]
    live = gather_live_state(ctx, clusters, kubeconfig=ctx.kubeconfig,
                             decode=options.verdicts != "all" and options.decode_settled)
    for cluster_live in live.values():
        if cluster_live.capabilities is not None:
            save_last_known(ctx, cluster_live.cluster, cluster_live.capabilities)
    # Instances of an unreachable cluster are not decided: they are not rendered either.
    enabled = [i for i in instances if i.enabled and live[i.cluster.name].reachable]
    verdicts = Verdicts.of(ctx) if options.verdicts != "none" else None
    settled: dict[str, HelmRelease] = {}
    rendered = render_instances(ctx, enabled, concurrency=options.concurrency, helm=helm,
                                targets=lambda i: live[i.cluster.name].render_target(i), installs=True,
                                settle=_settler(verdicts, options.verdicts, live, settled))
    undecided: dict[str, set[tuple[str, str]]] = {}  # decode what no verdict settled, clusters in parallel
    for cluster_live in live.values():
        done = {(i.namespace, i.name) for i in enabled
                if i.key in settled and i.cluster.name == cluster_live.cluster.name}
        marker = Marker(cluster_live.cluster.env, cluster_live.cluster.name)
        specified = {(i.namespace, i.name) for i in instances if i.cluster.name == cluster_live.cluster.name}
        summaries = {key for key, history in cluster_live.histories.items() if history.current.summary
                     and (key in specified or marker.owns(history.current.labels))}  # others' releases: not shown
        undecided[cluster_live.cluster.name] = summaries - done
    with ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="helmkit-decode") as pool:
        list(pool.map(lambda c: c.decode(undecided[c.cluster.name]), live.values()))
    rendered = exact_renders(ctx, helm, rendered, record_of=lambda i: live[i.cluster.name].current(i),
                             target_of=lambda i: KubeTarget(i.cluster.context, ctx.kubeconfig))
    for cluster_live in live.values():
        if cluster_live.undecodable:
            ctx.console.info(f"warning: cluster {cluster_live.cluster.name}: {cluster_live.undecodable} Helm release "
                             "record(s) could not be decoded and were left out")
    manifests = {r.instance.key: r for r in rendered}
    errors = [(r.instance, r.error) for r in rendered if r.error is not None]
    releases: list[AssessedRelease] = []
    charts: dict[Path, tuple[str | None, str | None]] = {}
    for cluster in clusters:
        cluster_live = live[cluster.name]
        if not cluster_live.reachable:
            continue
        mine = [i for i in instances if i.cluster.name == cluster.name]
        releases += _decide_cluster(ctx, cluster, mine, cluster_live, rendered=manifests,
                                    selector=selector, charts=charts, settled=settled)
    if verdicts is not None:
        _keep_verdicts(verdicts, releases, manifests)
    chart_paths = {r.instance.key: r.chart for r in rendered if r.chart is not None}
    return Assessment(options.env, clusters, resolution.graphs, releases, live, errors, resolution.warnings, helm,
                      instances, chart_paths, {r.instance.key: r.key for r in rendered if r.key is not None})


def _decide_cluster(ctx: Context, cluster: Cluster, instances: list[ReleaseInstance], live: ClusterLive, *,
                    rendered: Mapping[str, RenderResult], selector: Selector | None,
                    charts: dict[Path, tuple[str | None, str | None]],
                    settled: Mapping[str, HelmRelease]) -> list[AssessedRelease]:
    marker = Marker(cluster.env, cluster.name)
    current = [h.current for h in live.histories.values()]
    assessed: list[AssessedRelease] = []
    by_key = {i.key: i for i in instances}
    for desired, record in pair_releases(instances, current):
        instance = by_key[desired.key] if desired is not None else None
        if instance is None:
            assert record is not None
            if not marker.owns(record.labels):
                continue  # installed by someone else and not in the specs: not ours to show
            if selector is not None and not selector.matches(_record_labels(record, cluster)):
                continue
        if instance is not None and instance.enabled and instance.key in settled:
            known = settled[instance.key]
            state = settled_state(instance, known, marker=marker) if known.summary else decide(
                instance, known.manifest, known, marker=marker, chart_name=known.chart_name,
                chart_version=known.chart_version)
            assessed.append(AssessedRelease(state, instance, None if known.summary else known.manifest, known,
                                            _secrets(ctx, instance), known.chart_name, known.chart_version,
                                            settled=True))
            continue
        if instance is not None and instance.enabled:
            result = rendered.get(instance.key)
            if result is None or result.manifest is None:
                continue  # render failed: reported by the caller
            manifest: str | None = result.manifest
            generated = result.generated
        else:
            manifest, generated = None, {}
        history = live.histories.get((record.namespace, record.name)) if record is not None else None
        chart_name, chart_version = _wanted_chart(instance, charts)
        state = decide(instance, manifest, record, marker=marker, chart_name=chart_name, chart_version=chart_version,
                       history=history.history if history is not None else (), generated=generated)
        secrets = _secrets(ctx, instance) if instance is not None and instance.enabled else {}
        assessed.append(AssessedRelease(state, instance, manifest, record, secrets, chart_name, chart_version,
                                        generated))
    return assessed


def _settler(verdicts: Verdicts | None, mode: str, live: Mapping[str, ClusterLive],
             settled: dict[str, HelmRelease]) -> Settle | None:
    """Settle a rendering by a verdict (the records it completes go into ``settled``).

    Any chart: a verdict costs less than a render-cache hit, and it is the only answer for a rendering
    helm made but helmkit never did (a sync's install that created its chart's CRDs first). A
    settled release's chart CRDs are read from the chart's files by the live check."""
    if verdicts is None or mode == "none":
        return None

    def settle(result: RenderResult) -> bool:
        instance = result.instance
        if result.key is None or result.chart is None:
            return False
        record = live[instance.cluster.name].current(instance)
        if record is None or record.status != "deployed":
            return False
        known = verdicts.settled(result.key, record, instance.env, instance.cluster.name)
        if known is None:
            return False
        settled[instance.key] = known
        return True

    return settle


def _keep_verdicts(verdicts: Verdicts, releases: list[AssessedRelease], rendered: Mapping[str, RenderResult]) -> None:
    for item in releases:
        result = rendered.get(item.state.key)
        record = item.deployed
        if (item.state.status is Status.IN_SYNC and result is not None and result.key is not None
                and not result.settled and record is not None and not record.summary):
            verdicts.keep(result.key, record, item.state.env, item.state.cluster)


def _record_labels(record: HelmRelease, cluster: Cluster) -> dict[str, str]:
    return {"name": record.name, "namespace": record.namespace, "chart": record.chart_name,
            "env": cluster.env, "cluster": cluster.name}


def _wanted_chart(instance: ReleaseInstance | None,
                  known: dict[Path, tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    """The chart name and version a local chart's Chart.yaml names (repository charts: not compared)."""
    if instance is None or instance.chart.path is None:
        return None, None
    path = instance.chart.path
    if path not in known:
        document = _chart_yaml(path / "Chart.yaml")
        name, version = document.get("name"), document.get("version")
        known[path] = (str(name) if name is not None else None, str(version) if version is not None else None)
    return known[path]


def _chart_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return document if isinstance(document, dict) else {}


def _secrets(ctx: Context, instance: ReleaseInstance) -> SecretValues:
    if not instance.secrets:
        return {}
    from helmkit.model.secrets import resolve_secrets

    resolved = resolve_secrets(instance, ctx.secret_stores)
    for value in resolved.values():
        ctx.masker.add(value)
    return dict(resolved)
