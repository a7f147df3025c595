"""Render release instances with ``helm template``, in parallel, behind a content cache.

For each instance: find the chart (a local directory, or the locked version of a repository
chart, downloaded once and cached by digest), resolve its secret references (registered in the
run's masker, with their base64 forms), and look the manifest up in ``.helmkit/cache/render/``
under a key made of everything that decides helm's output: the chart files' digest (kept from run
to run while no file of the chart changes: :mod:`helmkit.adapters.treedigest`), the merged
values, the digest of the resolved secrets, the helm version, the kube version, the API
versions, install vs upgrade, the release name and the namespace. Only on a miss does helm run,
with the values on its stdin, and instances with equal keys (the same release with the same
values on several clusters) share one helm process. A second run over unchanged input starts no
helm process at all -- except instances whose resolved secrets would be in the manifest.

What a real ``helm upgrade`` sees besides the values: its cluster's ``.Capabilities`` (passed as
``--kube-version`` and ``--api-versions``, from a :class:`RenderTarget` per instance: the
cluster's discovery online, else :mod:`helmkit.actions.capabilities` chooses declared,
last-known or computed ones) and ``.Release.IsUpgrade`` (``--is-upgrade`` when a release is
deployed); of these, only what the chart's templates can read (:func:`chart_traits`) reaches
helm and the key. A chart whose templates call generator functions (``randAlphaNum``, ``genCA``,
``now``...) is rendered twice with identical input when a Helm record is compared with it; the
paths that differ are kept with the cached render (:mod:`helmkit.plan.generated`), so comparisons
leave them out. A first install's is compared with nothing: rendered once; a later run that
compares it renders it once more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from helmkit.actions.capabilities import (
    ChosenCapabilities,
    ClusterKey,
    CrdApis,
    RenderTarget,
    choose_offline,
    describe_all,
    enabled_instances_by_cluster,
    with_installed_crds,
)
from helmkit.actions.charttext import ChartTraits, KeptTraits
from helmkit.actions.crdpart import CrdParts
from helmkit.actions.lock import LockFile, chart_constraint, read_lock, sources
from helmkit.actions.rendersecrets import apply_secrets, placeholder_secrets, resolve_secrets, secrets_digest
from helmkit.actions.rendersettings import read_settings
from helmkit.adapters.cache import ContentCache, content_key
from helmkit.adapters.chartsources import ChartSources
from helmkit.adapters.helm import VALUES_STDIN, HelmClient, HelmVersion, TemplateRequest, go_runtime_env
from helmkit.adapters.tools import find_helm
from helmkit.adapters.treedigest import TreeDigests
from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError, Location, Problem
from helmkit.model.instance import ReleaseInstance
from helmkit.plan.generated import from_data, to_data, volatile_paths
from helmkit.plan.manifests import ObjectKey

CACHE_FORMAT = 2
HELM_ENV_KEYS = ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR", "KUBECONFIG")
Targets = Callable[[ReleaseInstance], RenderTarget]
Settle = Callable[["RenderResult"], bool]  # given a result without manifest: True when it needs no rendering


@dataclass
class RenderResult:
    instance: ReleaseInstance
    manifest: str | None
    error: HelmkitError | None = None
    cached: bool = False
    chart: Path | None = None  # the chart helm rendered: a local directory or a cached package
    generated: dict[ObjectKey, frozenset[str]] = field(default_factory=dict)  # paths the chart generates
    key: str | None = None  # the render key: everything helm's output depends on
    settled: bool = False  # not rendered: ``settle`` knew the outcome (a verdict), ``manifest`` is None
    cacheable: bool = True  # False when resolved secrets went into the rendering
    request: TemplateRequest | None = None  # what helm is given to render it (values aside)


@dataclass
class _Run:
    """What one render_instances call shares between its worker threads."""

    ctx: Context
    helm: HelmClient
    helm_version: HelmVersion
    cache: ContentCache
    charts: ChartSources
    lock: LockFile | None
    default_kube_version: str | None
    read_secrets: bool = True
    digests: TreeDigests = field(default_factory=TreeDigests)
    kept_traits: KeptTraits = field(init=False)
    compared: set[str] = field(default_factory=set)  # render keys compared with a record
    crds: CrdParts = field(init=False)  # renders, sharing the crds/ part of renderings

    def __post_init__(self) -> None:
        self.kept_traits = KeptTraits(self.cache, self.digests)
        self.crds = CrdParts(self.helm, self.cache, str(self.helm_version), self.digests.digest)

    def traits(self, chart: Path) -> ChartTraits:
        return self.kept_traits.of(chart)

    def generates(self, chart: Path) -> bool:
        return self.traits(chart).generates

    def learns_generated(self, job: _Job) -> bool:
        """Whether ``job``'s rendering needs the paths its chart generates: the chart generates and
        the rendering is compared with a record (a first install's is not: one helm process, not two)."""
        return job.key in self.compared and self.generates(job.chart)


def helm_client(ctx: Context) -> HelmClient:
    """The helm client of a run: the chosen binary, helm's own environment variables, a version cache."""
    env = {k: v for k, v in os.environ.items() if k in HELM_ENV_KEYS} | go_runtime_env(os.environ)
    cache = ContentCache(ctx.state_dir / "cache" / "helm-version")
    return HelmClient(ctx.runner, find_helm(ctx.repo, ctx.helm_option), env, version_cache=cache)


def render_instances(
    ctx: Context,
    instances: list[ReleaseInstance],
    *,
    concurrency: int | None = None,
    helm: HelmClient | None = None,
    default_kube_version: str | None = None,
    read_secrets: bool = True,
    targets: Targets | None = None,
    announce: bool = True,
    settle: Settle | None = None,
    installs: bool = False,
    whole_envs: bool = False,
    failed: dict[str, HelmkitError] | None = None,
) -> list[RenderResult]:
    """Render each instance (in the given order); failures are returned, not raised.

    ``targets`` gives each instance its cluster's capabilities and install vs upgrade (online
    commands: from the cluster). Without it the capabilities are chosen offline, per cluster, and
    one info line says which were used (unless ``announce`` is false).

    With ``read_secrets=False`` no secret is read: each secret reference renders as a placeholder
    derived from the reference itself (pre-merge checks run without any credentials, and a changed
    reference still shows as a change).

    ``installs`` (with ``targets``): instances not yet deployed are installed (:func:`with_installed_crds`).
    ``settle`` sees each result before rendering (its ``key``, ``chart`` and ``cacheable``, no
    manifest); an instance it settles is returned ``settled``, unrendered (:mod:`helmkit.actions.verdicts`).
    ``whole_envs``: ``instances`` are all the enabled instances of their environments (no selector), so
    capabilities computed from a cluster's charts need no second resolution of the environment.
    ``failed`` (render key -> helm's error, read and filled): renderings that failed earlier in the
    same run are not given to helm again (errors are never cached on disk).
    """
    settings = read_settings(ctx.repo)
    helm = helm or helm_client(ctx)
    if settings.helm_range:
        helm.check_version(settings.helm_range, location=Location("helmkit.yaml"))
    run = _Run(
        ctx=ctx,
        helm=helm,
        helm_version=helm.version(),
        cache=ContentCache(ctx.state_dir / "cache" / "render"),
        charts=sources(ctx, instances, helm),
        lock=read_lock(ctx.repo) if any(i.chart.repository for i in instances) else None,
        default_kube_version=default_kube_version or settings.kube_version,
        read_secrets=read_secrets,
        digests=TreeDigests(ctx.state_dir / "cache" / "tree-digests"),
    )
    charts: list[Path | HelmkitError] = [_chart_or_error(run, i) for i in instances]
    if targets is None:
        chosen = _offline_capabilities(run, instances, whole_envs)
        if chosen and announce:
            ctx.console.info(describe_all(chosen.values()))
        targets = _offline_targets(chosen)
    elif installs:
        targets = with_installed_crds(targets, zip(instances, charts, strict=True), CrdApis(run.cache, run.digests).of)
    jobs: list[_Job | HelmkitError] = []
    for instance, chart in zip(instances, charts, strict=True):
        try:
            if isinstance(chart, HelmkitError):
                raise chart
            jobs.append(_job(run, instance, chart, targets(instance)))
        except HelmkitError as exc:
            jobs.append(exc)
    # One helm process per distinct key: instances with identical inputs (the same release with
    # the same values on several clusters) share one rendering.
    manifests: dict[str, _Rendered | HelmkitError] = {}
    misses: dict[str, _Job] = {}
    settled = {id(job) for job in jobs if isinstance(job, _Job) and settle is not None and settle(
        RenderResult(job.instance, None, chart=job.chart, key=job.key, cacheable=job.cacheable))}
    # keys whose rendering is compared with a Helm record: a generating chart's are rendered twice
    run.compared = {job.key for job in jobs if isinstance(job, _Job) and id(job) not in settled and job.compared}
    for job in jobs:
        if isinstance(job, _Job) and id(job) not in settled and job.key not in manifests and job.key not in misses:
            hit = _cached(run, job) if job.cacheable else None
            if hit is not None:
                manifests[job.key] = hit
            elif failed is not None and job.key in failed:
                manifests[job.key] = failed[job.key]
            else:
                misses[job.key] = job
    for key, outcome in _run_helm(run, list(misses.values()), max(1, concurrency or ctx.concurrency)):
        manifests[key] = outcome
        if failed is not None and isinstance(outcome, HelmkitError):
            failed[key] = outcome
    if misses:  # helm took seconds: charts copied just before this run have settled since
        run.digests.keep_settled()
    results: list[RenderResult] = []
    for instance, job in zip(instances, jobs, strict=True):
        if isinstance(job, HelmkitError):
            results.append(RenderResult(instance, None, job))
            continue
        if id(job) in settled:
            results.append(RenderResult(instance, None, chart=job.chart, key=job.key, settled=True,
                                        cacheable=job.cacheable, request=job.request))
            continue
        outcome = manifests[job.key]
        if isinstance(outcome, HelmkitError):
            results.append(RenderResult(instance, None, outcome, chart=job.chart, key=job.key, cacheable=job.cacheable,
                                        request=job.request))
        else:
            results.append(RenderResult(instance, outcome.manifest, cached=misses.get(job.key) is not job,
                                        chart=job.chart, generated=outcome.generated, key=job.key,
                                        cacheable=job.cacheable, request=job.request))
    return results


def render_keys(ctx: Context, instances: list[ReleaseInstance], *, helm: HelmClient,
                targets: Targets) -> dict[str, str]:
    """Release key -> the render key ``render_instances`` gives each instance against ``targets``; no helm runs."""
    results = render_instances(ctx, instances, helm=helm, targets=targets, settle=lambda _: True)
    return {r.instance.key: r.key for r in results if r.key is not None}


def _offline_capabilities(run: _Run, instances: list[ReleaseInstance],
                          whole_envs: bool) -> dict[ClusterKey, ChosenCapabilities]:
    given: dict[ClusterKey, list[ReleaseInstance]] = {}
    for instance in instances:
        given.setdefault((instance.env, instance.cluster.name), []).append(instance)
    everything: dict[ClusterKey, list[ReleaseInstance]] | None = {} if whole_envs else None

    def charts(key: ClusterKey) -> list[Path | HelmkitError]:
        nonlocal everything
        if everything is None:  # only when a cluster has neither declared nor last-known capabilities
            everything = enabled_instances_by_cluster(run.ctx, {env for env, _ in given})
        mine = [i for i in given[key] if i.enabled] + everything.get(key, [])
        return list(dict.fromkeys(_chart_or_error(run, i) for i in mine))

    apis = CrdApis(run.cache, run.digests)
    return {key: choose_offline(run.ctx, group[0].cluster, partial(charts, key), apis.of)
            for key, group in given.items()}


def _offline_targets(chosen: dict[ClusterKey, ChosenCapabilities]) -> Targets:
    def target(instance: ReleaseInstance) -> RenderTarget:
        return RenderTarget(chosen[(instance.env, instance.cluster.name)].capabilities)

    return target


@dataclass(frozen=True)
class _Rendered:
    manifest: str
    generated: dict[ObjectKey, frozenset[str]]


@dataclass(frozen=True)
class _Job:
    """Everything helm needs for one instance, and the cache key made of it."""

    instance: ReleaseInstance
    chart: Path
    values: dict[str, Any]  # with secrets applied: only ever given to helm on its stdin
    kube_version: str | None
    api_versions: tuple[str, ...]
    is_upgrade: bool
    key: str
    cacheable: bool = True  # False when resolved secrets went in: the manifest never goes to disk
    compared: bool = True  # a Helm record is compared with the rendering (RenderTarget.compared)

    @property
    def generated_key(self) -> str:
        return content_key({"generated-paths-of": self.key})

    @property
    def request(self) -> TemplateRequest:
        return TemplateRequest(
            release=self.instance.name, chart=self.chart, namespace=self.instance.namespace,
            kube_version=self.kube_version, values_files=(VALUES_STDIN,), include_crds=True,
            api_versions=self.api_versions, is_upgrade=self.is_upgrade,
        )


def _job(run: _Run, instance: ReleaseInstance, chart: Path, target: RenderTarget) -> _Job:
    resolved = resolve_secrets(run.ctx, instance) if run.read_secrets else placeholder_secrets(instance)
    kube_version = target.capabilities.kube_version or instance.cluster.kube_version or run.default_kube_version
    traits = run.traits(chart)  # pass only what the chart's output can depend on: the cache stays warm
    literals = traits.api_literals
    api_versions = tuple(a for a in target.capabilities.api_versions if literals is None or a in literals)
    is_upgrade = target.is_upgrade and traits.release_phase
    key = content_key({
        "format": CACHE_FORMAT,
        "chart": run.digests.digest(chart),
        "values": instance.values,
        "secrets": secrets_digest(run.ctx, resolved),
        "helm": str(run.helm_version),
        "kube": kube_version,
        "apis": list(api_versions),
        "upgrade": is_upgrade,
        "release": instance.name,
        "namespace": instance.namespace,
    })
    values = apply_secrets(instance.values, resolved) if resolved else instance.values
    return _Job(instance, chart, values, kube_version, api_versions, is_upgrade, key,
                cacheable=not (run.read_secrets and resolved), compared=target.compared)


def _cached(run: _Run, job: _Job) -> _Rendered | None:
    hit = run.cache.get(job.key)
    if hit is None:
        return None
    generated: dict[ObjectKey, frozenset[str]] = {}
    if run.generates(job.chart):
        paths = run.cache.get(job.generated_key)
        if paths is not None:
            generated = from_data(paths.decode("utf-8"))
        elif run.learns_generated(job):
            return None  # kept without its generated paths (a first install's): one more rendering learns them
    return _Rendered(hit.decode("utf-8", errors="replace"), generated)


def _run_helm(run: _Run, jobs: list[_Job], workers: int) -> list[tuple[str, _Rendered | HelmkitError]]:
    """Render ``jobs`` with helm, ``workers`` at a time; on an interrupt stop every helm process."""
    if workers == 1 or len(jobs) <= 1:
        return [(job.key, _template(run, job)) for job in jobs]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="helmkit-render")
    try:
        futures = [pool.submit(_template, run, job) for job in jobs]
        return [(job.key, future.result()) for job, future in zip(jobs, futures, strict=True)]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        run.ctx.runner.terminate_all(grace=5.0)
        raise
    finally:
        pool.shutdown(wait=True)


def _template(run: _Run, job: _Job) -> _Rendered | HelmkitError:
    request = job.request
    generated: dict[ObjectKey, frozenset[str]] = {}
    learn = run.learns_generated(job)
    kept = run.cache.get(job.key) if learn and job.cacheable else None  # rendered once already
    try:
        manifest = kept.decode("utf-8", errors="replace") if kept is not None else run.crds.template(
            request, job.values, shared=job.cacheable)
        if learn:
            again = run.crds.template(request, job.values, shared=job.cacheable)
            generated = volatile_paths(manifest, again, job.instance.namespace)
    except HelmkitError as exc:
        return exc
    if not job.cacheable:
        return _Rendered(manifest, generated)
    if learn:
        run.cache.put(job.generated_key, json.dumps(to_data(generated)).encode("utf-8"))
    if kept is None:
        run.cache.put(job.key, manifest.encode("utf-8"))
    return _Rendered(manifest, generated)


# -- charts ------------------------------------------------------------------------------------


def _chart_or_error(run: _Run, instance: ReleaseInstance) -> Path | HelmkitError:
    try:
        return _chart(run, instance)
    except HelmkitError as exc:
        return exc


def _chart(run: _Run, instance: ReleaseInstance) -> Path:
    ref = instance.chart
    if ref.path is not None:
        if not (ref.path / "Chart.yaml").is_file():
            raise InputError(Problem(f"{instance.key}: chart {ref.display} has no Chart.yaml", instance.source))
        return ref.path
    if not (ref.repository and ref.name):
        raise InputError(Problem(f"{instance.key}: the chart names neither a path nor a repository chart",
                                 instance.source))
    constraint = chart_constraint(instance)
    entry = run.lock.find(ref.repository, ref.name, constraint) if run.lock else None
    if entry is None:
        why = "there is no helmkit.lock" if run.lock is None else "helmkit.lock has no entry for it"
        raise InputError(Problem(
            f"{instance.key}: chart {ref.display} {constraint!r} is not locked ({why})",
            instance.source, hint="run `helmkit lock`",
        ))
    return run.charts.package(ref.repository, ref.name, entry.version, entry.digest, ref.access)
