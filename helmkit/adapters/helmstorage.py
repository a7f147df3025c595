"""Helm's release records, read straight from the cluster in a constant number of API calls.

Helm (3 and 4) stores each revision of a release as one Secret (driver ``secret``, the default)
or ConfigMap (driver ``configmap``) named ``sh.helm.release.v1.<name>.v<revision>`` and labelled
``owner=helm``, ``name``, ``status``, ``version`` (plus user labels from ``--labels``). The record
is JSON, gzip-compressed, then base64-encoded; in a Secret the API base64-encodes it once more.

:func:`read_releases` lists every record of the cluster with one paginated list call
(``labelSelector=owner=helm`` across all namespaces), decodes them into :class:`HelmRelease`, and
:func:`latest_releases` groups them into one :class:`ReleaseHistory` per release.

:func:`read_current_releases` is for commands that only need the revision that counts now (status,
diff, sync, drift): it lists only the records' metadata (``PartialObjectMetadataList``, one
paginated call), picks that revision from the labels Helm keeps on every record (``version``,
``status``) and fetches (one GET each, a few at once) and decodes only it, and only when it is
needed; the other revisions of the history are summaries made from their labels
(``summary=True``: revision and status, no manifest). A release record of a big chart is megabytes
of gzip+JSON, so this skips most of the transfer and decoding when releases keep a history or a
verdict settles them. A record whose labels are incomplete is fetched and decoded at once.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from helmkit.adapters.fastjson import loads_release
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.recordfetch import FETCH_WORKERS, Fetch, RecordFetcher, record_fetch
from helmkit.adapters.sharedtexts import SharedTexts

Driver = Literal["secret", "configmap"]
GZIP_MAGIC = b"\x1f\x8b"
MAX_RECORD_BYTES = 64 * 1024 * 1024  # decompressed; a Kubernetes object is at most ~1.5 MiB compressed
SYSTEM_LABELS = frozenset({"name", "owner", "status", "version", "createdAt", "modifiedAt"})
PENDING_STATUSES = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})
RELEASE_LABEL_SELECTOR = "owner=helm"


class RecordError(ValueError):
    """A release record could not be decoded."""


@dataclass(frozen=True)
class HelmHook:
    name: str
    kind: str
    path: str
    events: tuple[str, ...]
    manifest: str
    weight: int = 0


@dataclass(frozen=True)
class HelmRelease:
    """One revision of one release, as Helm recorded it."""

    name: str
    namespace: str
    revision: int
    status: str  # deployed, superseded, failed, pending-install, pending-upgrade, pending-rollback, ...
    chart_name: str
    chart_version: str
    app_version: str
    values: dict[str, Any]  # the user-supplied values (Helm's "config"), not the chart defaults
    manifest: str
    hooks: tuple[HelmHook, ...]
    first_deployed: str
    last_deployed: str
    description: str
    labels: dict[str, str] = field(default_factory=dict)
    apply_method: str = ""  # helm 4: "csa" or "ssa"; empty for helm 3 records
    storage_name: str = ""  # name of the Secret/ConfigMap holding it
    storage_uid: str = ""  # its metadata.uid and resourceVersion: the record is unchanged while they are
    storage_version: str = ""
    summary: bool = False  # made from the storage labels only: revision and status, no manifest/values/chart

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES


@dataclass(frozen=True)
class ReleaseHistory:
    """All stored revisions of one release, oldest first, and the one that counts now."""

    name: str
    namespace: str
    current: HelmRelease
    history: tuple[HelmRelease, ...]

    @property
    def latest(self) -> HelmRelease:
        return self.history[-1]


@dataclass(frozen=True)
class UndecodableRecord:
    namespace: str
    name: str
    reason: str


@dataclass(frozen=True)
class StorageSnapshot:
    """Everything read from one cluster's release storage."""

    records: tuple[HelmRelease, ...]
    undecodable: tuple[UndecodableRecord, ...] = ()


def read_releases(client: KubeClient, *, namespace: str | None = None, driver: Driver = "secret") -> StorageSnapshot:
    """Read every release record (all namespaces unless ``namespace``): one list call, paginated."""
    kind = "secrets" if driver == "secret" else "configmaps"
    records: list[HelmRelease] = []
    bad: list[UndecodableRecord] = []
    for obj in client.list("v1", kind, namespace=namespace, label_selector=RELEASE_LABEL_SELECTOR):
        meta = obj.get("metadata") or {}
        try:
            records.append(decode_storage_object(obj))
        except RecordError as exc:
            bad.append(UndecodableRecord(str(meta.get("namespace", "")), str(meta.get("name", "")), str(exc)))
    records.sort(key=lambda r: (r.namespace, r.name, r.revision))
    return StorageSnapshot(tuple(records), tuple(bad))


@dataclass(frozen=True)
class CurrentReleases:
    """One cluster's releases, each with only its current revision decoded (or none: ``decode=False``)."""

    histories: dict[tuple[str, str], ReleaseHistory]
    undecodable: tuple[UndecodableRecord, ...] = ()
    records: dict[tuple[str, str], list[HelmRelease]] = field(default_factory=dict, repr=False)
    fetcher: RecordFetcher | None = field(default=None, repr=False)  # where undecoded records are fetched
    workers: int = FETCH_WORKERS  # records fetched at once
    texts: SharedTexts | None = field(default=None, repr=False)  # manifests equal to one already decoded: shared

    def decoded(self, keys: Iterable[tuple[str, str]], *, fetch: Fetch | None = None) -> CurrentReleases:
        """These releases (namespace, name) with their current revision decoded: each is fetched with
        one GET (a few at once; ``fetch``, else a session of :attr:`fetcher`).

        The current revision is chosen by :func:`latest_releases`' rule from the records' labels; if it
        cannot be decoded, or was deleted since it was listed, it is reported undecodable and the rule
        picks again among the others. A cluster that fails meanwhile raises its ClusterError.
        """
        wanted = [key for key in sorted(set(keys) & set(self.histories)) if self.histories[key].current.summary]
        if not wanted:
            return self
        if fetch is None:
            if self.fetcher is None:
                raise ValueError("these release records were read without a way to fetch them")
            with self.fetcher.session() as session:
                return self.decoded(wanted, fetch=session)
        histories = dict(self.histories)
        bad = list(self.undecodable)
        workers = min(self.workers, len(wanted))
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="helmkit-record") as pool:
                results = list(pool.map(lambda k: self._decode(k, fetch), wanted))
        else:  # in this thread: clusters are read in parallel already
            results = [self._decode(key, fetch) for key in wanted]
        for key, (history, failed) in zip(wanted, results, strict=True):
            bad += failed
            if history is None:
                histories.pop(key, None)
            else:
                histories[key] = history
        return CurrentReleases(histories, tuple(bad), self.records, self.fetcher, self.workers, self.texts)

    def _decode(self, key: tuple[str, str], fetch: Fetch) -> tuple[ReleaseHistory | None, list[UndecodableRecord]]:
        records = list(self.records[key])
        bad: list[UndecodableRecord] = []
        while records:
            history = latest_releases(records)[key]
            current = history.current
            if not current.summary:
                return history, bad
            obj = fetch(current.namespace, current.storage_name)
            try:
                if obj is None:
                    raise RecordError("deleted since it was listed")
                decoded = _shared(decode_storage_object(obj), self.texts)
            except RecordError as exc:
                bad.append(UndecodableRecord(current.namespace, current.storage_name, str(exc)))
                records.remove(current)
                continue
            return replace(history, current=decoded,
                           history=tuple(decoded if r is current else r for r in history.history)), bad
        return None, bad


def read_current_releases(client: KubeClient, *, namespace: str | None = None, driver: Driver = "secret",
                          decode: bool = True, workers: int = FETCH_WORKERS,
                          texts: SharedTexts | None = None) -> CurrentReleases:
    """Like :func:`read_releases` + :func:`latest_releases`, decoding only each release's current revision.

    Lists only the records' metadata (one paginated call); each record to decode is then fetched
    with a GET. With ``decode=False`` nothing is fetched yet: each history's current revision is the
    summary its storage labels give (with the record's uid and resourceVersion), and
    :meth:`CurrentReleases.decoded` fetches and decodes the ones that are needed. A record whose
    labels say too little is fetched and decoded at once. ``texts``: shared by the clusters of a run,
    so a manifest deployed on many of them is kept once.
    """
    kind = "secrets" if driver == "secret" else "configmaps"
    fetch = record_fetch(client, kind)
    grouped: dict[tuple[str, str], list[HelmRelease]] = {}
    bad: list[UndecodableRecord] = []
    for meta in client.list_metadata("v1", kind, namespace=namespace, label_selector=RELEASE_LABEL_SELECTOR):
        where = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        record = _summary(meta)
        if record is None:  # labels do not say enough: decode now
            obj = fetch(*where)
            if obj is None:
                continue  # deleted since it was listed
            try:
                record = _shared(decode_storage_object(obj), texts)
            except RecordError as exc:
                bad.append(UndecodableRecord(where[0], where[1], str(exc)))
                continue
        grouped.setdefault((record.namespace, record.name), []).append(record)
    records = {key: sorted(grouped[key], key=lambda r: r.revision) for key in sorted(grouped)}
    histories = {key: latest_releases(value)[key] for key, value in records.items()}
    lazy = CurrentReleases(histories, tuple(bad), records,
                           RecordFetcher(client.config, kind, timeout=client.timeout, retries=client.retries), workers,
                           texts)
    return lazy.decoded(records, fetch=fetch) if decode else lazy


def _summary(meta: dict[str, Any]) -> HelmRelease | None:
    """A record from its storage metadata alone, or None when its labels lack the name, revision or status."""
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    name, version, status = labels.get("name"), labels.get("version", ""), labels.get("status")
    if not name or not status or not version.isdigit() or int(version) < 1:
        return None
    return HelmRelease(
        name=name, namespace=str(meta.get("namespace", "")), revision=int(version), status=status,
        chart_name="", chart_version="", app_version="", values={}, manifest="", hooks=(), first_deployed="",
        last_deployed="", description="", labels={k: v for k, v in labels.items() if k not in SYSTEM_LABELS},
        storage_name=str(meta.get("name", "")), storage_uid=str(meta.get("uid", "")),
        storage_version=str(meta.get("resourceVersion", "")), summary=True)


def _shared(release: HelmRelease, texts: SharedTexts | None) -> HelmRelease:
    if texts is None:
        return release
    hooks = tuple(replace(h, manifest=texts.share(h.manifest)) for h in release.hooks)
    return replace(release, manifest=texts.share(release.manifest), hooks=hooks)


def decode_storage_object(obj: dict[str, Any]) -> HelmRelease:
    """Decode a release Secret or ConfigMap as the API returns it (JSON)."""
    meta = obj.get("metadata") or {}
    data = obj.get("data") or {}
    payload = data.get("release")
    if not isinstance(payload, str) or not payload:
        raise RecordError("no data.release")
    if obj.get("kind") == "Secret":
        try:
            payload_bytes = base64.b64decode(payload, validate=True)  # the API's base64 of Secret data
        except (binascii.Error, ValueError):
            raise RecordError("data.release is not base64") from None
    else:
        payload_bytes = payload.encode()
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    release = decode_release(payload_bytes, labels=labels)
    return replace(release, storage_name=str(meta.get("name", "")), storage_uid=str(meta.get("uid", "")),
                   storage_version=str(meta.get("resourceVersion", "")))


def decode_release(
    payload: bytes, *, labels: dict[str, str] | None = None, max_bytes: int = MAX_RECORD_BYTES
) -> HelmRelease:
    """Decode Helm's encoding (base64 of gzip of JSON; older records: base64 of JSON)."""
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise RecordError("release payload is not base64") from None
    if raw[:2] == GZIP_MAGIC:
        raw = _gunzip(raw, max_bytes)
    try:
        doc = loads_release(raw)
    except (ValueError, UnicodeDecodeError):
        raise RecordError("release payload is not JSON") from None
    if not isinstance(doc, dict):
        raise RecordError("release payload is not a JSON object")
    return release_from_json(doc, labels=labels)


def encode_release(doc: dict[str, Any]) -> str:
    """Helm's encoding of a release record (what goes into ``data.release`` of a ConfigMap)."""
    return base64.b64encode(gzip.compress(json.dumps(doc).encode(), mtime=0)).decode()


def release_from_json(doc: dict[str, Any], *, labels: dict[str, str] | None = None) -> HelmRelease:
    info = _mapping(doc.get("info"))
    chart = _mapping(doc.get("chart"))
    meta = _mapping(chart.get("metadata"))
    try:
        revision = int(doc.get("version") or 0)
    except (TypeError, ValueError):
        raise RecordError(f"invalid version {doc.get('version')!r}") from None
    if not doc.get("name") or revision < 1:
        raise RecordError("record has no name or version")
    hooks = tuple(
        HelmHook(
            name=str(h.get("name", "")),
            kind=str(h.get("kind", "")),
            path=str(h.get("path", "")),
            events=tuple(str(e) for e in h.get("events") or []),
            manifest=str(h.get("manifest", "")),
            weight=int(h.get("weight") or 0),
        )
        for h in doc.get("hooks") or []
        if isinstance(h, dict)
    )
    all_labels = dict(labels or {})
    status = str(info.get("status") or all_labels.get("status") or "unknown")
    config = doc.get("config")
    return HelmRelease(
        name=str(doc["name"]),
        namespace=str(doc.get("namespace", "")),
        revision=revision,
        status=status,
        chart_name=str(meta.get("name", "")),
        chart_version=str(meta.get("version", "")),
        app_version=str(meta.get("appVersion", "")),
        values=config if isinstance(config, dict) else {},
        manifest=str(doc.get("manifest", "")),
        hooks=hooks,
        first_deployed=str(info.get("first_deployed", "")),
        last_deployed=str(info.get("last_deployed", "")),
        description=str(info.get("description", "")),
        labels={k: v for k, v in all_labels.items() if k not in SYSTEM_LABELS},
        apply_method=str(doc.get("apply_method", "")),
    )


def latest_releases(records: tuple[HelmRelease, ...] | list[HelmRelease]) -> dict[tuple[str, str], ReleaseHistory]:
    """One history per (namespace, name). ``current`` is the latest revision when it failed, is
    pending or is being uninstalled (so the failure or the interrupted operation is seen), else the
    newest deployed one, else the latest."""
    grouped: dict[tuple[str, str], list[HelmRelease]] = {}
    for record in records:
        grouped.setdefault((record.namespace, record.name), []).append(record)
    result: dict[tuple[str, str], ReleaseHistory] = {}
    for key in sorted(grouped):
        history = sorted(grouped[key], key=lambda r: r.revision)
        latest = history[-1]
        current = latest
        if latest.status not in ("failed", "uninstalling") and not latest.pending:
            deployed = [r for r in history if r.status == "deployed"]
            if deployed:
                current = deployed[-1]
        result[key] = ReleaseHistory(key[1], key[0], current, tuple(history))
    return result


def _gunzip(raw: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, max_bytes)
    except zlib.error:
        raise RecordError("release payload is not valid gzip") from None
    if inflater.unconsumed_tail:
        raise RecordError(f"release payload decompresses to more than {max_bytes} bytes")
    return out


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

