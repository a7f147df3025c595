"""Live drift that ``diff`` shows and ``sync`` repairs: git is the desired state, not Helm's record.

A release whose record matches git (``in-sync``) can still differ in the cluster: a hand
``kubectl set image``, a deleted ConfigMap. :func:`check_live` reads, per reachable cluster,
the live objects of those releases with the drift check's reader (one list call per kind the
deployed manifests hold, :mod:`helmkit.adapters.liveobjects`; one cluster at a time per client,
all clusters in parallel) and compares them with Helm's record on the fields the manifest sets
(:func:`helmkit.plan.livediff.live_drift`, with the ``ignoreDifferences`` rules of helmkit.yaml
and the release). A release with live drift becomes ``live-drift``: sync runs a ``repair`` step
(a helm upgrade with the same chart and values; helm 3 restores through its three-way merge,
helm 4 through server-side apply with ``--force-conflicts``; both re-create deleted objects).
Only releases that are otherwise in sync are read: any other upgrade repairs them anyway.

The chart's ``crds/`` (policy ``crds``, :mod:`helmkit.actions.crds`: from the rendering, or from the
chart's files for a release settled by a verdict, :mod:`helmkit.actions.crdfiles`) are compared in the same
pass, with one more list call (all CRDs of the cluster) when a release has any. Under
``CreateReplace`` a CRD difference is live drift that sync repairs; under ``Create`` it is shown as not applied.

``repair=False`` (``--no-repair``) reads no live objects of releases; CRDs are still compared.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from helmkit.actions.charttext import kept_crds
from helmkit.actions.crdfiles import CrdFiles
from helmkit.actions.crds import CRD_API_VERSION, CRD_KIND, chart_crds, only_crds
from helmkit.actions.livestate import AssessedRelease, Assessment
from helmkit.actions.liveverdicts import BodyDigests, LiveVerdicts, ObjectRef, ReleaseVerdicts
from helmkit.adapters.fastjson import canonical
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.liveobjects import LiveObjects, read_live_objects
from helmkit.adapters.masking import Digest
from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository
from helmkit.plan.diffmodel import is_text, value_lines
from helmkit.plan.livediff import IgnoreRule, ObjectDrift, ReleaseLiveDiff, live_drift, parse_rules
from helmkit.plan.manifests import DocumentCache, ManifestObject, ObjectKey, parse_manifest
from helmkit.plan.status import Status

LIVE_WORKERS = 4  # clusters read and compared at once
MANY_CRDS = 3  # more chart CRDs to read whole than this: one list of every CRD, not a GET each
MAX_NAMED = 3  # objects named in a status reason; the rest are counted
MAX_VALUE_CHARS = 100  # a value shown in a live-drift line is cut here
LIVE_HEADER = "live drift: sync repairs it (git is the desired state); what it restores:"
CRD_HEADERS = {
    "CreateReplace": "chart CRDs (crds: CreateReplace): sync applies them with server-side apply before helm:",
    "Create": "chart CRDs differ from the live ones and are NOT applied (crds: Create: helm installs crds/ once and "
              "never upgrades them; set crds: CreateReplace to apply them):",
}


@dataclass
class LiveCheck:
    """What the live check found for one release."""

    drift: ReleaseLiveDiff | None = None  # in-sync releases only
    policy: str = "Create"
    crds: list[ManifestObject] = field(default_factory=list)  # the chart's crds/ CRDs
    only_crds: bool = False  # its crds/ folders hold v1 CRDs only: helmkit may create them (policy Create)
    crd_changes: list[ObjectDrift] = field(default_factory=list)  # chart CRDs that differ from the live ones

    @property
    def repairs(self) -> list[ObjectDrift]:
        """Objects a repair restores (objects only another release claims are left to a person)."""
        objects = [o for o in self.drift.objects if o.state == "missing" or o.fields] if self.drift else []
        return objects + (self.crd_changes if self.policy == "CreateReplace" else [])

    def summary(self) -> str:
        """``restores 1 changed, 1 missing`` (objects of the release and its CRDs)."""
        repairs = self.repairs
        changed = sum(1 for o in repairs if o.state != "missing")
        missing = len(repairs) - changed
        return f"restores {changed} changed, {missing} missing" if repairs else ""


@dataclass
class LiveChecks:
    releases: dict[str, LiveCheck] = field(default_factory=dict)  # release key -> check
    errors: dict[str, str] = field(default_factory=dict)  # cluster -> why its live objects could not be read
    api_calls: int = 0

    def chart_crds(self, policy: str) -> dict[str, tuple[dict[str, Any], ...]]:
        """Key -> CRD bodies sync applies before helm (CreateReplace) or creates before an install (Create)."""
        return {key: tuple(obj.body for obj in check.crds) for key, check in self.releases.items()
                if check.policy == policy and check.crds and (policy != "Create" or check.only_crds)}


def check_live(ctx: Context, assessment: Assessment, *, repair: bool = True) -> LiveChecks:
    """Compare the live cluster with git for ``assessment``; mark releases with live drift ``live-drift``."""
    settings_rules = load_repository(ctx.repo).settings.ignore_differences
    rules = parse_rules(settings_rules)
    result = LiveChecks()
    documents = DocumentCache(kept=kept_crds(ctx.state_dir))  # each text read once, large CRDs once across runs
    crd_files = CrdFiles()  # and each chart's crds/ files
    bodies = BodyDigests()
    crd_comparisons = CrdComparisons(bodies)
    by_cluster: dict[str, list[AssessedRelease]] = {}
    for item in assessment.releases:
        if item.instance is None or not item.instance.enabled or (item.desired_manifest is None
                                                                   and item.state.status is not Status.IN_SYNC):
            continue
        check = LiveCheck(policy=item.instance.crds)
        chart = assessment.chart_paths.get(item.state.key)
        if check.policy != "Skip":  # settled by a verdict: Helm's record holds no crds/, the chart's files do
            manifest = (crd_files.manifest(chart, item.instance.values) if item.settled and chart is not None
                        else item.desired_manifest)
            try:
                check.crds = chart_crds(manifest, item.state.namespace, cache=documents)
                check.only_crds = bool(check.crds) and only_crds(manifest, item.state.namespace, cache=documents)
            except InputError:
                check.crds = []
        result.releases[item.state.key] = check
        by_cluster.setdefault(item.state.cluster, []).append(item)

    def check_cluster(cluster: Cluster) -> tuple[str, int | HelmkitError | None]:
        """Read one cluster's live objects and compare them; only the findings outlive this call."""
        items = by_cluster.get(cluster.name, [])
        live_items = [item for item in items if repair and item.state.status is Status.IN_SYNC]
        wants_crds = any(result.releases[item.state.key].crds for item in items)
        if not live_items and not wants_crds:
            return cluster.name, None
        folder, identity = ctx.state_dir / "cache" / "live-verdicts", f"{cluster.env}/{cluster.name}"
        verdicts = LiveVerdicts.load(folder, identity, ctx.masker.key, bodies)
        releases = ReleaseVerdicts.load(folder, identity, ctx.masker.key)
        try:
            config = load_cluster_config(cluster.context, ctx.runner, kubeconfig=ctx.kubeconfig,
                                         files=ctx.kubeconfigs)
            with KubeClient(config, timeout=15.0, retries=2) as client:
                calls = _check_cluster(ctx, assessment, client, _ClusterCheck(
                    live_items, items, result, verdicts, releases, rules, settings_rules, documents, wants_crds,
                    crd_comparisons))
        except HelmkitError as exc:
            return cluster.name, exc
        verdicts.save()
        releases.save()
        return cluster.name, calls

    clusters = [c for c in assessment.clusters if assessment.live[c.name].reachable and c.name in by_cluster]
    if clusters:  # a few clusters at a time: memory follows the largest cluster, not the fleet
        with ThreadPoolExecutor(max_workers=min(LIVE_WORKERS, len(clusters)),
                                thread_name_prefix="helmkit-livecheck") as pool:
            for name, outcome in pool.map(check_cluster, clusters):
                if isinstance(outcome, HelmkitError):
                    result.errors[name] = outcome.render().removeprefix("error: ")
                elif outcome is not None:
                    result.api_calls += outcome
    return result


@dataclass
class _ClusterCheck:
    live_items: list[AssessedRelease]  # in-sync releases whose objects are compared
    items: list[AssessedRelease]  # every checked release (CRDs)
    result: LiveChecks
    verdicts: LiveVerdicts
    releases: ReleaseVerdicts
    rules: list[IgnoreRule]
    settings_rules: list[dict[str, Any]]
    documents: DocumentCache
    wants_crds: bool
    crd_comparisons: CrdComparisons


def _check_cluster(ctx: Context, assessment: Assessment, client: KubeClient, check: _ClusterCheck) -> int:
    """The live check of one cluster: releases vouched for by a release verdict are settled from their
    objects' metadata alone; the others (and changed CRDs) are read whole and compared."""
    before = client.calls
    indexes = {id(item): check.releases.index(item.deployed.storage_uid, item.deployed.storage_version,
                                              _rules_identity(check.settings_rules, item))
               for item in check.live_items if item.deployed is not None}
    vouched = {id(item): refs for item in check.live_items
               if (refs := check.releases.refs(indexes.get(id(item)))) is not None}
    meta = read_live_objects(client, {(ref[0], ref[1]) for refs in vouched.values() for ref in refs},
                             metadata_only=True)
    if check.wants_crds:  # crds/ CRDs carry no Helm label: all CRDs of the cluster, one list call
        meta.merge(read_live_objects(client, {(CRD_API_VERSION, CRD_KIND)}, selector="", metadata_only=True))
    compared: list[AssessedRelease] = []
    for item in check.live_items:
        index, refs = indexes.get(id(item)), vouched.get(id(item))
        if index is not None and refs is not None and check.releases.clean(index, _versions(refs, meta)):
            check.result.releases[item.state.key].drift = ReleaseLiveDiff(item.state.name, item.state.namespace)
        else:
            compared.append(item)
    _decode(assessment, compared)
    deployed = {id(item): _deployed(item, check.documents) for item in compared
                if item.deployed is not None and not item.deployed.summary}  # a record gone meanwhile: not checked
    kinds = {(obj.api_version, obj.key.kind) for objects in deployed.values() for obj in objects}
    objects = read_live_objects(client, kinds) if kinds else LiveObjects()
    for item in check.items:
        found = check.result.releases[item.state.key]
        found.crd_changes = _crd_changes(client, found.crds, meta, check.verdicts, check.crd_comparisons)
        if id(item) in deployed:
            found.drift = _release_drift(item, deployed[id(item)], objects, check.rules, ctx.masker.digest,
                                         verdicts=check.verdicts, releases=check.releases,
                                         index=indexes.get(id(item)))
        _mark(item, found)
    return client.calls - before


def _rules_identity(settings_rules: list[dict[str, Any]], item: AssessedRelease) -> str:
    own = item.instance.ignore_differences if item.instance is not None else []
    return json.dumps([settings_rules, own], sort_keys=True, default=str)


def _versions(refs: tuple[ObjectRef, ...], meta: LiveObjects) -> list[tuple[str, str]] | None:
    """The live (uid, resourceVersion) of each object, or None when one is missing."""
    versions: list[tuple[str, str]] = []
    for api_version, kind, namespace, name in refs:
        obj = meta.get(api_version, kind, namespace, name)
        if obj is None:
            return None
        versions.append(_uid_version(obj))
    return versions


def _uid_version(obj: dict[str, Any]) -> tuple[str, str]:
    found = obj.get("metadata")
    data = found if isinstance(found, dict) else {}
    return str(data.get("uid") or ""), str(data.get("resourceVersion") or "")


def _decode(assessment: Assessment, items: list[AssessedRelease]) -> None:
    """Decode the Helm records of ``items`` (of one cluster) that a verdict left as a summary."""
    summaries = [item for item in items if item.deployed is not None and item.deployed.summary]
    if not summaries:
        return
    live = assessment.live[summaries[0].state.cluster]
    live.decode({(item.state.namespace, item.state.name) for item in summaries})
    if live.error is not None:  # the cluster failed while its records were fetched
        raise live.error
    for item in summaries:
        if item.instance is not None:
            record = live.current(item.instance) or item.deployed
            item.deployed = record
            if item.desired_manifest is None and record is not None and not record.summary:
                item.desired_manifest = record.manifest  # settled: what git wants is what is deployed


def _deployed(item: AssessedRelease, documents: DocumentCache) -> list[ManifestObject]:
    if item.deployed is None or not item.deployed.manifest:
        return []
    try:
        manifest = parse_manifest(item.deployed.manifest, item.state.namespace, origin="deployed manifest",
                                  cache=documents)
    except InputError:
        return []
    return list(manifest.objects.values())


def _release_drift(item: AssessedRelease, deployed: list[ManifestObject], objects: LiveObjects,
                   rules: list[IgnoreRule], digest: Digest, *, verdicts: LiveVerdicts, releases: ReleaseVerdicts,
                   index: str | None) -> ReleaseLiveDiff:
    expected: dict[ObjectKey, tuple[str, dict[str, Any]]] = {}
    present: dict[ObjectKey, dict[str, Any]] = {}
    for obj in deployed:
        key = obj.key
        if key.namespace and (key.group, key.kind) in objects.cluster_scoped:
            key = ObjectKey(key.group, key.kind, "", key.name)
        if (obj.api_version, key.kind) in objects.unserved:
            continue
        expected[key] = (obj.api_version, obj.body)
        found = objects.get(obj.api_version, key.kind, key.namespace, key.name)
        if found is not None:
            present[key] = found
    assert item.instance is not None
    release_rules = rules + [IgnoreRule.from_mapping(rule, release=item.state.name)
                             for rule in item.instance.ignore_differences]
    drift = live_drift(item.state.name, item.state.namespace, expected, present, rules=release_rules,
                       secret_values=list(item.secrets.values()), digest=digest, known_clean=verdicts.clean)
    _keep(verdicts, drift.clean, expected, present)
    whole = 0 < len(expected) == len(deployed) == len(present) == len(drift.clean)
    if index is not None and whole and not (drift.objects or drift.unhealthy or drift.ignored):
        keys = sorted(expected)
        releases.keep(index, tuple((expected[k][0], k.kind, k.namespace, k.name) for k in keys),
                      [_uid_version(present[k]) for k in keys])
    return drift


def _crd_changes(client: KubeClient, crds: list[ManifestObject], meta: LiveObjects, verdicts: LiveVerdicts,
                 compared: CrdComparisons) -> list[ObjectDrift]:
    """The chart's CRDs that differ from the live ones: a CRD whose verdict its metadata confirms is
    not read; the others are read whole (a GET each, or one list of every CRD when there are many)."""
    if not crds:
        return []
    present: dict[ObjectKey, dict[str, Any]] = {}
    unread: list[ManifestObject] = []
    for obj in crds:
        found = meta.get(obj.api_version, CRD_KIND, "", obj.key.name)
        if found is not None and verdicts.clean(obj.key, obj.api_version, obj.body, found):
            present[obj.key] = found
        elif found is not None:
            unread.append(obj)
    whole = read_live_objects(client, {(CRD_API_VERSION, CRD_KIND)}, selector="") if len(unread) > MANY_CRDS else None
    for obj in unread:
        found = whole.get(obj.api_version, CRD_KIND, "", obj.key.name) if whole is not None \
            else client.get(obj.api_version, CRD_KIND, obj.key.name)
        if found is not None:
            present[obj.key] = found
    changes: list[ObjectDrift] = []
    for obj in crds:
        changes += compared.changes(obj, present.get(obj.key), verdicts)
    return [o for o in changes if o.state == "missing" or o.fields]


@dataclass
class CrdComparisons:
    """The chart-CRD-to-live-CRD comparisons of one run. The same chart's CRDs meet live CRDs of
    the same content on every cluster (megabytes each): a pair is compared once, keyed by the
    chart CRD and what the comparison reads of the live one (spec, labels, annotations)."""

    bodies: BodyDigests
    known: dict[tuple[str, str], tuple[tuple[ObjectDrift, ...], bool]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def changes(self, obj: ManifestObject, live: dict[str, Any] | None, verdicts: LiveVerdicts) -> list[ObjectDrift]:
        if live is None:
            return [ObjectDrift(obj.key, obj.api_version, "missing")]
        if verdicts.clean(obj.key, obj.api_version, obj.body, live):
            return []
        meta = live.get("metadata") if isinstance(live.get("metadata"), dict) else {}
        content = canonical([live.get("spec"), (meta or {}).get("labels"), (meta or {}).get("annotations")])
        pair = (self.bodies.of(obj.body), hashlib.blake2b(content, digest_size=20).hexdigest())
        with self.lock:
            found = self.known.get(pair)
        if found is None:
            drift = live_drift("", "", {obj.key: (obj.api_version, obj.body)}, {obj.key: live})
            found = (tuple(drift.objects), obj.key in drift.clean)
            with self.lock:
                self.known[pair] = found
        if found[1]:
            verdicts.keep(obj.key, obj.api_version, obj.body, live)
        return list(found[0])


def _keep(verdicts: LiveVerdicts, clean: list[ObjectKey], expected: dict[ObjectKey, tuple[str, dict[str, Any]]],
          present: dict[ObjectKey, dict[str, Any]]) -> None:
    for key in clean:
        verdicts.keep(key, expected[key][0], expected[key][1], present[key])


def _mark(item: AssessedRelease, check: LiveCheck) -> None:
    """An in-sync release with something to repair becomes ``live-drift``, its reason naming what."""
    repairs = check.repairs
    if not repairs or item.state.status is not Status.IN_SYNC:
        return
    names = [_short(o) for o in repairs[:MAX_NAMED]]
    more = f" and {len(repairs) - MAX_NAMED} more" if len(repairs) > MAX_NAMED else ""
    reason = f"live drift: {', '.join(names)}{more}; sync repairs it"
    item.state = replace(item.state, status=Status.LIVE_DRIFT, reasons=(reason,))


def _short(drift: ObjectDrift) -> str:
    key = drift.key
    what = f"{key.kind} {key.namespace}/{key.name}" if key.namespace else f"{key.kind} {key.name}"
    if drift.state == "missing":
        return f"{what} is missing"
    return f"{what} changed at {', '.join(f.path for f in drift.fields[:2])}" + (
        " ..." if len(drift.fields) > 2 else "")


def live_lines(check: LiveCheck) -> tuple[list[str], list[str]]:
    """What a person reads: the objects and fields a repair restores, and the chart's CRD changes."""
    objects = [o for o in check.drift.objects if o.state == "missing" or o.fields] if check.drift else []
    live = [LIVE_HEADER, *(line for o in objects for line in _object_lines(o))] if objects else []
    crds = [CRD_HEADERS[check.policy], *(line for o in check.crd_changes for line in _object_lines(o))] \
        if check.crd_changes and check.policy in CRD_HEADERS else []
    return live, crds


def _object_lines(drift: ObjectDrift) -> list[str]:
    what = f"{drift.api_version}/{drift.key.kind} " + (
        f"{drift.key.namespace}/{drift.key.name}" if drift.key.namespace else drift.key.name)
    if drift.state == "missing":
        return [f"  + {what}: missing from the cluster; re-created"]
    lines = [f"  ~ {what}" + (f" ({drift.owner_note})" if drift.owner_note else "")]
    for found in drift.fields:
        if is_text(found.live) or is_text(found.expected):  # a config file: its line diff, live -> git
            lines += ["      " + line for line in value_lines(
                "add" if found.op == "remove" else "change", found.path, found.live, found.expected)]
        elif found.op == "remove":
            lines.append(f"      {found.path}: absent -> {_value(found.expected)}")
        else:
            lines.append(f"      {found.path}: {_value(found.live)} -> {_value(found.expected)}")
    return lines


def _value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "..."
