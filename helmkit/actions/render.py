"""Render release instances with ``helm template``, in parallel, behind a content cache.

For each instance: find the chart (a local directory, or the locked version of a repository
chart, downloaded once and cached by digest), resolve its secret references (registered in the
run's masker, with their base64 forms), and look the manifest up in ``.helmkit/cache/render/``
under a key made of everything that decides helm's output: the chart files' digest, the merged
values, the digest of the resolved secrets, the helm version, the kube version, the API
versions, the release name and the namespace. Only on a miss does helm run, with the values on
its stdin, and instances with equal keys (the same release with the same values on
several clusters) share one helm process. A second run over unchanged input starts no helm
process at all -- except for instances whose secret references were resolved: their manifest
holds the secrets, so it is never written to the cache (rendered again each run).

``--api-versions``: helm template sees no cluster, so a chart that guards objects with
``.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"`` would drop them. We declare the
API versions of the CRDs that the charts of the same cluster ship in their ``crds/`` folders:
the rendering then matches an install where those CRD charts are present, and a cluster
without them renders without the guarded objects, as a real install would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helmkit.actions.lock import LockFile, chart_constraint, read_lock
from helmkit.adapters.cache import ContentCache, TreeDigests, content_key
from helmkit.adapters.chartrepo import ChartRepositoryClient, ChartVersion
from helmkit.adapters.helm import VALUES_STDIN, HelmClient, HelmVersion, TemplateRequest, values_yaml
from helmkit.adapters.tools import find_helm
from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError, Location, Problem
from helmkit.model.instance import ReleaseInstance

CACHE_FORMAT = 1
HELM_ENV_KEYS = ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR", "KUBECONFIG")


@dataclass
class RenderResult:
    instance: ReleaseInstance
    manifest: str | None
    error: HelmkitError | None = None
    cached: bool = False
    chart: Path | None = None  # the chart helm rendered: a local directory or a cached package


@dataclass
class _Run:
    """What one render_instances call shares between its worker threads."""

    ctx: Context
    helm: HelmClient
    helm_version: HelmVersion
    cache: ContentCache
    charts: ChartRepositoryClient
    lock: LockFile | None
    default_kube_version: str | None
    read_secrets: bool = True
    digests: TreeDigests = field(default_factory=TreeDigests)


def helm_client(ctx: Context) -> HelmClient:
    """The helm client of a run: the chosen binary, helm's own environment variables, a version cache."""
    env = {k: v for k, v in os.environ.items() if k in HELM_ENV_KEYS}
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
) -> list[RenderResult]:
    """Render each instance (in the given order); failures are returned, not raised.

    With ``read_secrets=False`` no secret is read: each secret reference renders as a placeholder
    derived from the reference itself (pre-merge checks run without any credentials, and a changed
    reference still shows as a change).
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
        charts=ChartRepositoryClient(ctx.state_dir / "cache" / "charts"),
        lock=read_lock(ctx.repo) if any(i.chart.repository for i in instances) else None,
        default_kube_version=default_kube_version or settings.kube_version,
        read_secrets=read_secrets,
    )
    charts: list[Path | HelmkitError] = [_chart_or_error(run, i) for i in instances]
    api_versions = _api_versions_by_cluster(instances, charts)
    jobs: list[_Job | HelmkitError] = []
    for instance, chart in zip(instances, charts, strict=True):
        try:
            if isinstance(chart, HelmkitError):
                raise chart
            jobs.append(_job(run, instance, chart, api_versions.get(_cluster_key(instance), ())))
        except HelmkitError as exc:
            jobs.append(exc)
    # One helm process per distinct key: instances with identical inputs (the same release with
    # the same values on several clusters) share one rendering.
    manifests: dict[str, str | HelmkitError] = {}
    misses: dict[str, _Job] = {}
    for job in jobs:
        if isinstance(job, _Job) and job.key not in manifests and job.key not in misses:
            hit = run.cache.get(job.key) if job.cacheable else None
            if hit is not None:
                manifests[job.key] = hit.decode("utf-8", errors="replace")
            else:
                misses[job.key] = job
    for key, outcome in _run_helm(run, list(misses.values()), max(1, concurrency or ctx.concurrency)):
        manifests[key] = outcome
    results: list[RenderResult] = []
    for instance, job in zip(instances, jobs, strict=True):
        if isinstance(job, HelmkitError):
            results.append(RenderResult(instance, None, job))
            continue
        outcome = manifests[job.key]
        if isinstance(outcome, HelmkitError):
            results.append(RenderResult(instance, None, outcome))
        else:
            results.append(RenderResult(instance, outcome, cached=misses.get(job.key) is not job, chart=job.chart))
    return results


@dataclass(frozen=True)
class _Job:
    """Everything helm needs for one instance, and the cache key made of it."""

    instance: ReleaseInstance
    chart: Path
    values: dict[str, Any]  # with secrets applied: only ever given to helm on its stdin
    kube_version: str | None
    api_versions: tuple[str, ...]
    key: str
    cacheable: bool = True  # False when resolved secrets went in: the manifest never goes to disk


def _job(run: _Run, instance: ReleaseInstance, chart: Path, api_versions: tuple[str, ...]) -> _Job:
    resolved = _resolve_secrets(run.ctx, instance) if run.read_secrets else _placeholder_secrets(instance)
    kube_version = instance.cluster.kube_version or run.default_kube_version
    key = content_key({
        "format": CACHE_FORMAT,
        "chart": run.digests.digest(chart),
        "values": instance.values,
        "secrets": _secrets_digest(resolved),
        "helm": str(run.helm_version),
        "kube": kube_version,
        "apis": list(api_versions),
        "release": instance.name,
        "namespace": instance.namespace,
    })
    values = _apply_secrets(instance.values, resolved) if resolved else instance.values
    return _Job(instance, chart, values, kube_version, api_versions, key, cacheable=not (run.read_secrets and resolved))


def _run_helm(run: _Run, jobs: list[_Job], workers: int) -> list[tuple[str, str | HelmkitError]]:
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


def _template(run: _Run, job: _Job) -> str | HelmkitError:
    try:
        manifest = run.helm.template(TemplateRequest(
            release=job.instance.name, chart=job.chart, namespace=job.instance.namespace,
            kube_version=job.kube_version, values_files=(VALUES_STDIN,), include_crds=True,
            api_versions=job.api_versions,
        ), values=values_yaml(job.values))
    except HelmkitError as exc:
        return exc
    if job.cacheable:
        run.cache.put(job.key, manifest.encode("utf-8"))
    return manifest


def _resolve_secrets(ctx: Context, instance: ReleaseInstance) -> dict[tuple[str | int, ...], str]:
    if not instance.secrets:
        return {}
    from helmkit.model.secrets import resolve_secrets

    resolved = resolve_secrets(instance, repo_root=ctx.repo, environ=dict(os.environ))
    for value in resolved.values():
        ctx.masker.add(value)
        ctx.masker.add(base64.b64encode(value.encode()).decode())
    return dict(resolved)


def _placeholder_secrets(instance: ReleaseInstance) -> dict[tuple[str | int, ...], str]:
    return {ref.path: "secret-ref-" + hashlib.sha256(ref.ref.encode()).hexdigest()[:16] for ref in instance.secrets}


def _apply_secrets(values: dict[str, Any], resolved: dict[tuple[str | int, ...], str]) -> dict[str, Any]:
    from helmkit.model.secrets import apply_secrets

    applied: dict[str, Any] = apply_secrets(values, resolved)
    return applied


def _secrets_digest(resolved: dict[tuple[str | int, ...], str]) -> str:
    items = sorted((json.dumps(list(path)), value) for path, value in resolved.items())
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


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
    name, version = ref.name, entry.version
    return run.charts.package_by_digest(entry.digest, lambda: _locked_entry(run, ref.repository or "", name, version))


def _locked_entry(run: _Run, repository: str, name: str, version: str) -> ChartVersion:
    return run.charts.find(repository, name, version)


def _cluster_key(instance: ReleaseInstance) -> tuple[str, str]:
    return (instance.env, instance.cluster.name)


def _api_versions_by_cluster(instances: list[ReleaseInstance],
                             charts: list[Path | HelmkitError]) -> dict[tuple[str, str], tuple[str, ...]]:
    by_chart: dict[Path, set[str]] = {}
    result: dict[tuple[str, str], set[str]] = {}
    for instance, chart in zip(instances, charts, strict=True):
        if isinstance(chart, HelmkitError) or not instance.enabled:
            continue
        if chart not in by_chart:
            by_chart[chart] = crd_api_versions(chart)
        result.setdefault(_cluster_key(instance), set()).update(by_chart[chart])
    return {key: tuple(sorted(apis)) for key, apis in result.items()}


def crd_api_versions(chart: Path) -> set[str]:
    """``group/version`` and ``group/version/Kind`` of the CRDs in a chart's ``crds/`` folder(s)."""
    texts: list[str] = []
    if chart.is_dir():
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(chart.glob("**/crds/*.y*ml"))]
    elif tarfile.is_tarfile(chart):
        with tarfile.open(chart, "r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile() and "/crds/" in member.name and member.name.endswith((".yaml", ".yml")):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        texts.append(handle.read().decode("utf-8", errors="replace"))
    apis: set[str] = set()
    for text in texts:
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue
        for doc in documents:
            apis.update(_crd_apis(doc))
    return apis


def _crd_apis(doc: Any) -> set[str]:
    if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
        return set()
    spec = doc.get("spec") or {}
    group = spec.get("group")
    kind = (spec.get("names") or {}).get("kind")
    versions = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict)]
    if spec.get("version"):
        versions.append(spec["version"])
    apis: set[str] = set()
    for version in versions:
        if isinstance(group, str) and isinstance(version, str):
            apis.add(f"{group}/{version}")
            if isinstance(kind, str):
                apis.add(f"{group}/{version}/{kind}")
    return apis


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderSettings:
    helm_range: str | None = None
    kube_version: str | None = None


def read_settings(repo: Path) -> RenderSettings:
    """``helm.version`` and ``kubeVersion`` of helmkit.yaml (absent file: no constraints)."""
    path = repo / "helmkit.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RenderSettings()
    try:
        document = yaml.safe_load(text) if len(text) < 1024 * 1024 else None
    except yaml.YAMLError:
        raise InputError(Problem("helmkit.yaml is not valid YAML", Location("helmkit.yaml"),
                                 hint="run `helmkit validate` for details")) from None
    if not isinstance(document, dict):
        return RenderSettings()
    helm = document.get("helm")
    helm_range = helm.get("version") if isinstance(helm, dict) else None
    kube = document.get("kubeVersion")
    return RenderSettings(str(helm_range) if helm_range else None, str(kube) if kube else None)
