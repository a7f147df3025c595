"""Verdicts: a release judged in sync is not judged again while nothing it depends on has changed.

When a release is decided ``in-sync``, a verdict is kept under ``.helmkit/cache/verdicts/``. Its
key is an HMAC, under the private mask key (:mod:`helmkit.adapters.masking`), of

- the render key (:mod:`helmkit.actions.render`: the chart's digest, the values, a digest of the
  resolved secrets, helm's version, the cluster's kube version and the API versions the chart can
  see, install vs upgrade, release name and namespace): the same key means the same rendering;
- the identity of Helm's record: the storage Secret's ``uid`` and ``resourceVersion``. Helm writes
  a new Secret for every revision and updates it on every status change, and anybody's edit bumps
  the resourceVersion: the same pair means the same record;
- the environment, the cluster, and helmkit's version (a new helmkit decides anew).

Its value is the record's summary that ``status`` shows (chart, version, dates), never values
or manifests. So a later run with the same inputs and the same record knows the release is in
sync without rendering it (no helm process, even for releases whose resolved secrets keep their
rendering out of the render cache) and, for ``status``, without decoding the record.

What a verdict does not cover: objects changed in the cluster (the live check, which reads
them, still runs), and ``lookup`` results of charts that read the cluster while rendering (the
same inputs and record are taken as the same rendering).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from helmkit import __version__
from helmkit.actions.capabilities import RenderTarget, save_last_known
from helmkit.actions.charttext import KeptTraits, crd_apis, kept_traits
from helmkit.actions.nextrender import Deployed, next_run_keys
from helmkit.actions.render import render_keys
from helmkit.adapters.cache import ContentCache
from helmkit.adapters.discovery import Capabilities, read_capabilities
from helmkit.adapters.helmstorage import CurrentReleases, HelmRelease, read_current_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.recordfetch import record_fetch
from helmkit.context import Context
from helmkit.errors import HelmkitError
from helmkit.model.instance import Cluster
from helmkit.plan.manifests import split_documents

if TYPE_CHECKING:  # livestate uses Verdicts: the assessment is only named here
    from helmkit.actions.livestate import AssessedRelease, Assessment

VERDICT_FORMAT = 1
_CRD_DOCUMENT = re.compile(r"^kind:\s*[\"']?CustomResourceDefinition\b", re.M)
SUMMARY_FIELDS = ("chart_name", "chart_version", "app_version", "first_deployed", "last_deployed",
                  "description", "apply_method")


@dataclass
class Verdicts:
    """The verdicts of one run: read and kept under the state folder's cache."""

    ctx: Context
    cache: ContentCache

    @classmethod
    def of(cls, ctx: Context) -> Verdicts:
        return cls(ctx, ContentCache(ctx.state_dir / "cache" / "verdicts"))

    def _key(self, render_key: str, record: HelmRelease, env: str, cluster: str) -> str | None:
        if not (record.storage_uid and record.storage_version):
            return None
        identity = json.dumps([VERDICT_FORMAT, __version__, render_key, record.storage_uid, record.storage_version,
                               record.namespace, record.name, env, cluster])
        return self.ctx.masker.key.keyed_hash(identity)

    def settled(self, render_key: str, record: HelmRelease, env: str, cluster: str) -> HelmRelease | None:
        """``record`` completed from its verdict if one says it is in sync with ``render_key``; else None."""
        key = self._key(render_key, record, env, cluster)
        data = self.cache.get(key) if key is not None else None
        if data is None:
            return None
        try:
            summary = json.loads(data)
        except ValueError:
            return None
        if not isinstance(summary, dict):
            return None
        fields: dict[str, Any] = {f: str(summary.get(f, "")) for f in SUMMARY_FIELDS}
        return replace(record, **fields) if record.summary else record

    def keep(self, render_key: str, record: HelmRelease, env: str, cluster: str) -> None:
        """Remember that ``record`` is in sync with the rendering of ``render_key``."""
        key = self._key(render_key, record, env, cluster)
        if key is None or record.summary:
            return
        summary = {f: getattr(record, f) for f in SUMMARY_FIELDS}
        self.cache.put(key, json.dumps(summary, sort_keys=True).encode())


def keep_after_sync(ctx: Context, assessment: Assessment, applied: Iterable[str],
                    crds: Mapping[str, Sequence[Mapping[str, Any]]] | None = None, *, render: bool = True) -> int:
    """Keep verdicts for the releases (keys) a sync just deployed: the next run knows them in sync.

    The verdict goes under the render key of what helm rendered: the chart's inputs as planned,
    with the API versions helm saw. Those lie between the cluster's before the sync and after it
    (read again here, and saved as its last-known capabilities): of the ones the chart tests, if
    both sets agree, the plan's key is right. If not, the CRDs known to be served when helm
    rendered may explain the whole difference: on an install, those of the chart's ``crds/`` (their
    bodies in ``crds``, by release key; helm creates them, waits until they are served, then
    renders), and those that releases it ``needs`` created in this sync before it started (their
    ``crds/`` on an install; the CRDs of their templates when helm waited for them). Then the key is
    computed anew with the capabilities after the sync (what the next run reads). Otherwise, or when
    an API version vanished, no verdict is kept: the next run renders. Charts that ``lookup`` the
    cluster, and installs of charts that read whether they are installing, are rendered the way the
    next run will, right now (:mod:`helmkit.actions.nextrender`). Reads each cluster's records
    once; returns how many were kept. ``render=False`` (an interrupted sync): no helm process starts.
    """
    wanted = {key for key in applied if key in assessment.render_keys}
    items = [item for item in assessment.releases if item.state.key in wanted and item.instance is not None]
    made: dict[str, tuple[set[str], set[str]]] = {}
    of_templates: dict[str, frozenset[str]] = {}  # by manifest: the same chart on many clusters

    def served_by(item: AssessedRelease) -> tuple[set[str], set[str]]:
        if item.state.key not in made:
            made[item.state.key] = _served_by(item, (crds or {}).get(item.state.key, ()), of_templates)
        return made[item.state.key]

    def served(item: AssessedRelease, needed: list[AssessedRelease]) -> set[str]:
        return served_by(item)[0].union(*(served_by(other)[1] for other in needed))

    traits = kept_traits(ctx.state_dir)
    found: list[tuple[AssessedRelease, HelmRelease, str | None]] = []  # (release, record, render key if known)
    later: list[tuple[AssessedRelease, Deployed]] = []  # their next run renders another way (nextrender)
    after: dict[str, Capabilities] = {}
    by_cluster = {cluster.name: [item for item in items if item.state.cluster == cluster.name]
                  for cluster in assessment.clusters}

    def read(cluster: Cluster) -> tuple[Capabilities, dict[str, str | None], CurrentReleases] | None:
        """The cluster's capabilities after the sync and the new records of its releases (None: unknown)."""
        mine = by_cluster[cluster.name]
        try:
            config = load_cluster_config(cluster.context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
            with KubeClient(config, timeout=15.0, retries=1) as client:
                post = read_capabilities(client)
                save_last_known(ctx, cluster, post)
                kinds = {item.state.key: _kind(item, assessment.chart_paths.get(item.state.key), traits)
                         for item in mine}
                records = {(item.state.namespace, item.state.name) for item in mine if kinds[item.state.key]}
                if not records:
                    return None
                return post, kinds, read_current_releases(client, decode=False).decoded(
                    records, fetch=record_fetch(client))
        except HelmkitError:
            return None  # only a later run's speed depends on it

    clusters = [cluster for cluster in assessment.clusters if by_cluster[cluster.name]]
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(clusters))),
                            thread_name_prefix="helmkit-after-sync") as pool:
        read_back = list(pool.map(read, clusters))  # the clusters' network waits overlap
    for cluster, outcome in zip(clusters, read_back, strict=True):
        if outcome is None:
            continue
        post, kinds, snapshot = outcome
        mine = by_cluster[cluster.name]
        known = [item for item in mine if kinds[item.state.key] is not None]
        after[cluster.name] = post
        before = assessment.live[cluster.name].capabilities
        graph = assessment.graphs.get(cluster.name)
        by_name = {item.state.name: item for item in mine}
        for item in known:
            history = snapshot.histories.get((item.state.namespace, item.state.name))
            if (history is None or history.current.status != "deployed" or history.current.summary
                    or history.current.description.startswith("Rollback to")):  # not what this sync deployed
                continue
            needed = [by_name[name] for name in _needed(graph.needs if graph else {}, item.state.name)
                      if name in by_name]
            chart = traits.of(assessment.chart_paths[item.state.key])
            rendered = _rendered_with(before, post, chart.api_literals, partial(served, item, needed))
            if kinds[item.state.key] != "planned" and item.instance is not None:
                # helm's install rendered the plan's input: the two tell what the chart generates
                first = chart.generates and item.deployed is None and rendered == "planned"
                later.append((item, Deployed(item.instance, history.current, kinds[item.state.key] == "lookup",
                                             item.desired_manifest if first else None)))
                continue
            if rendered == "planned":
                found.append((item, history.current, assessment.render_keys[item.state.key]))
            elif rendered == "after":
                found.append((item, history.current, None))
    next_keys = next_run_keys(ctx, assessment.helm, [d for _, d in later], after,
                              failed=assessment.failed_renders) if render else {}
    found += [(item, d.record, next_keys[item.state.key]) for item, d in later if item.state.key in next_keys]
    anew = [item.instance for item, _, key in found if key is None and item.instance is not None]
    keys = render_keys(ctx, anew, helm=assessment.helm, targets=lambda i: RenderTarget(
        after[i.cluster.name], is_upgrade=True)) if anew else {}
    verdicts = Verdicts.of(ctx)
    kept = 0
    for item, record, planned in found:
        key = planned or keys.get(item.state.key)
        if key is not None:
            verdicts.keep(key, record, item.state.env, item.state.cluster)
            kept += 1
    return kept


def _rendered_with(before: Capabilities | None, after: Capabilities, literals: frozenset[str] | None,
                   served: Callable[[], set[str]]) -> str | None:
    """Which capabilities helm's rendering is known to match: "planned", "after", or None (unknown).

    ``served``: API versions known to be served when helm rendered, besides ``before``'s."""
    if before is None or before.kube_version != after.kube_version:
        return None

    def tested(apis: Iterable[str]) -> set[str]:
        return {api for api in apis if literals is None or api in literals}

    if tested(before.api_versions) == tested(after.api_versions):
        return "planned"
    if not set(before.api_versions) <= set(after.api_versions):
        return None  # an API version vanished during the sync: helm's view is unknown
    return "after" if tested(set(before.api_versions) | served()) == tested(after.api_versions) else None


def _served_by(item: AssessedRelease, crds: Sequence[Mapping[str, Any]],
               of_templates: dict[str, frozenset[str]]) -> tuple[set[str], set[str]]:
    """API versions this release's helm step made served before it rendered, and before it ended."""
    assert item.instance is not None
    installed = item.deployed is None or item.deployed.status == "uninstalled"
    own = {api for body in crds for api in crd_apis(body)} if installed and item.instance.crds != "Skip" else set()
    if not (item.instance.wait and item.desired_manifest):
        return own, own
    manifest = item.desired_manifest
    if manifest not in of_templates:  # helm's wait held the step until the CRDs of its templates were established
        of_templates[manifest] = _template_crd_apis(manifest)
    return own, own | of_templates[manifest]


def _template_crd_apis(manifest: str) -> frozenset[str]:
    """The API versions of the CRDs a manifest's templates (not its ``crds/``) create."""
    made: set[str] = set()
    for document in split_documents(manifest):
        if not document.from_crds_folder and _CRD_DOCUMENT.search(document.text):
            with contextlib.suppress(yaml.YAMLError):
                made |= crd_apis(yaml.safe_load(document.text))
    return frozenset(made)


def _needed(needs: Mapping[str, list[str]], name: str) -> set[str]:
    """The releases ``name`` needs, directly or not (they finished before it started)."""
    found: set[str] = set()
    todo = list(needs.get(name, []))
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += needs.get(current, [])
    return found


def _kind(item: AssessedRelease, chart: Path | None, known: KeptTraits) -> str | None:
    """How the next run's rendering of a release just deployed is known: "planned" (the sync's
    rendering, under its key), "phase" (an install of a chart that reads whether it is installing),
    "lookup" (a chart that reads the cluster): :mod:`helmkit.actions.nextrender`."""
    if chart is None:
        return None
    traits = known.of(chart)
    if traits.looks_up:
        return "lookup"
    was_deployed = item.deployed is not None and item.deployed.status != "uninstalled"
    return "phase" if traits.release_phase and not was_deployed else "planned"
