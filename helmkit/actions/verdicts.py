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

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmkit import __version__
from helmkit.actions.charttext import ChartTraits, chart_traits
from helmkit.adapters.cache import ContentCache
from helmkit.adapters.helmstorage import HelmRelease, read_current_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.recordfetch import record_fetch
from helmkit.context import Context
from helmkit.errors import HelmkitError

if TYPE_CHECKING:  # livestate uses Verdicts: the assessment is only named here
    from helmkit.actions.livestate import AssessedRelease, Assessment

VERDICT_FORMAT = 1
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


def keep_after_sync(ctx: Context, assessment: Assessment, applied: Iterable[str]) -> int:
    """Keep verdicts for the releases (keys) a sync just deployed: the next run knows them in sync.

    Helm rendered them from the inputs behind their render key, so their new record is that
    rendering -- unless the chart reads the cluster (``lookup``) or whether it is installing (the
    next render is an upgrade, with another key). Reads each cluster's records once; returns how
    many verdicts were kept.
    """
    wanted = {key for key in applied if key in assessment.render_keys}
    items = [item for item in assessment.releases if item.state.key in wanted and item.instance is not None]
    traits: dict[Path, ChartTraits] = {}
    kept = 0
    for cluster in assessment.clusters:
        mine = [item for item in items if item.state.cluster == cluster.name]
        mine = [item for item in mine if _stable(item, assessment.chart_paths.get(item.state.key), traits)]
        if not mine:
            continue
        try:
            config = load_cluster_config(cluster.context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
            with KubeClient(config, timeout=15.0, retries=1) as client:
                snapshot = read_current_releases(client, decode=False)
                snapshot = snapshot.decoded({(item.state.namespace, item.state.name) for item in mine},
                                            fetch=record_fetch(client))
        except HelmkitError:
            continue  # only a later run's speed depends on it
        verdicts = Verdicts.of(ctx)
        for item in mine:
            history = snapshot.histories.get((item.state.namespace, item.state.name))
            if history is not None and history.current.status == "deployed" and not history.current.summary:
                verdicts.keep(assessment.render_keys[item.state.key], history.current, cluster.env, cluster.name)
                kept += 1
    return kept


def _stable(item: AssessedRelease, chart: Path | None, known: dict[Path, ChartTraits]) -> bool:
    if chart is None:
        return False
    if chart not in known:
        known[chart] = chart_traits(chart)
    traits = known[chart]
    was_deployed = item.deployed is not None and item.deployed.status != "uninstalled"
    return not traits.looks_up and (was_deployed or not traits.release_phase)
