"""Live verdicts: a live object found equal to its manifest is not compared again while neither changed.

The live check (:mod:`helmkit.actions.livecheck`) compares each object of an in-sync release with
what its manifest sets. When not one field differs and the workload is healthy, it keeps a verdict:
an HMAC, under the private mask key, of the manifest object's canonical JSON, the live object's
``uid`` and ``resourceVersion`` (the API server bumps it on every change, status included), the
apiVersion and the object's identity. A later run that finds the same pair skips the comparison.
Objects are still listed (a deleted object is still found missing); only the comparing is spared.

A release whose objects were all found clean gets a release verdict (:class:`ReleaseVerdicts`):
filed under its Helm record's identity, it holds the references of its objects and an HMAC of
their live ``uid``/``resourceVersion``. While a metadata-only listing shows the same versions,
the release is clean without its record being decoded, its manifest parsed or an object read.

One file per cluster under ``.helmkit/cache/live-verdicts/`` holds the verdicts, one per line; a
run writes back those it used or found (plus earlier ones, up to a bound), so the file follows the
fleet and does not grow without end. Nothing in it reveals a value or confirms a guess.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.adapters.cache import atomic_write, private_dir
from helmkit.adapters.fastjson import canonical
from helmkit.adapters.masking import MaskKey
from helmkit.plan.manifests import ObjectKey

LIVE_VERDICT_FORMAT = 1
MAX_KEPT = 200_000  # verdicts per cluster file


@dataclass
class BodyDigests:
    """Digests of manifest objects' canonical JSON, shared by the clusters of one run (the same parsed
    chart on every cluster: a CRD of megabytes is serialised once, not once per cluster)."""

    known: dict[int, tuple[Any, str]] = field(default_factory=dict)  # id(body) -> (body, digest)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, body: dict[str, Any]) -> str:
        with self.lock:
            kept = self.known.get(id(body))
        if kept is None or kept[0] is not body:
            kept = (body, hashlib.blake2b(canonical(body), digest_size=20).hexdigest())
            with self.lock:
                self.known[id(body)] = kept
        return kept[1]


@dataclass
class LiveVerdicts:
    """The live verdicts of one cluster, for one run (thread-safe)."""

    path: Path
    key: MaskKey
    known: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    bodies: BodyDigests = field(default_factory=BodyDigests)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, folder: Path, cluster_identity: str, key: MaskKey, bodies: BodyDigests | None = None) -> LiveVerdicts:
        path = folder / key.keyed_hash("live-verdicts\0" + cluster_identity)[:32]
        try:
            known = set(path.read_text(encoding="ascii").split())
        except (OSError, UnicodeDecodeError):
            known = set()
        return cls(path, key, known, bodies=bodies or BodyDigests())

    def _verdict(self, key: ObjectKey, api_version: str, body: dict[str, Any], live: dict[str, Any]) -> str | None:
        meta = live.get("metadata") if isinstance(live.get("metadata"), dict) else {}
        uid, version = str((meta or {}).get("uid") or ""), str((meta or {}).get("resourceVersion") or "")
        if not uid or not version:
            return None
        identity = json.dumps([LIVE_VERDICT_FORMAT, self.bodies.of(body), uid, version, api_version, str(key)])
        return self.key.keyed_hash(identity)[:32]

    def clean(self, key: ObjectKey, api_version: str, body: dict[str, Any], live: dict[str, Any]) -> bool:
        """Whether this manifest object and this live object were found equal before."""
        verdict = self._verdict(key, api_version, body, live)
        if verdict is None or verdict not in self.known:
            return False
        with self._lock:
            self.used.add(verdict)
        return True

    def keep(self, key: ObjectKey, api_version: str, body: dict[str, Any], live: dict[str, Any]) -> None:
        verdict = self._verdict(key, api_version, body, live)
        if verdict is not None:
            with self._lock:
                self.used.add(verdict)

    def save(self) -> None:
        """Write back this run's verdicts, and earlier ones while the file stays under its bound."""
        kept = self.used | self.known if len(self.used | self.known) <= MAX_KEPT else self.used
        if kept == self.known:
            return
        private_dir(self.path.parent)
        atomic_write(self.path, "\n".join(sorted(kept)).encode("ascii"))


# (apiVersion, kind, namespace, name) of a live object, as the live check looks it up
ObjectRef = tuple[str, str, str, str]


@dataclass
class ReleaseVerdicts:
    """Per cluster: the releases whose live objects were all found equal to Helm's record.

    A release's verdict is filed under an HMAC of its record's identity (the storage Secret's uid
    and resourceVersion: the same manifest) and of the ignore rules that applied; it holds the
    references of the release's objects (apiVersion, kind, namespace, name: no value) and an HMAC
    of their live ``uid`` and ``resourceVersion``. A later run that lists the same objects with the
    same versions knows the release clean without decoding its record or comparing an object; a
    changed, deleted or re-created object, a new record or new rules decide anew.
    """

    path: Path
    key: MaskKey
    known: dict[str, tuple[str, tuple[ObjectRef, ...]]] = field(default_factory=dict)  # index -> (digest, refs)
    used: dict[str, tuple[str, tuple[ObjectRef, ...]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, folder: Path, cluster_identity: str, key: MaskKey) -> ReleaseVerdicts:
        path = folder / (key.keyed_hash("release-verdicts\0" + cluster_identity)[:32] + ".json")
        known: dict[str, tuple[str, tuple[ObjectRef, ...]]] = {}
        try:
            for line in path.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                refs = tuple((str(a), str(k), str(n), str(m)) for a, k, n, m in entry["refs"])
                known[str(entry["index"])] = (str(entry["digest"]), refs)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            known = {}
        return cls(path, key, known)

    def index(self, record_uid: str, record_version: str, rules: str) -> str | None:
        if not (record_uid and record_version):
            return None
        return self.key.keyed_hash(json.dumps(["release-live", LIVE_VERDICT_FORMAT, record_uid, record_version,
                                               rules]))[:32]

    def refs(self, index: str | None) -> tuple[ObjectRef, ...] | None:
        """The objects of the release filed under ``index``, if a verdict is kept for it."""
        found = self.known.get(index) if index is not None else None
        return found[1] if found is not None else None

    def _digest(self, index: str, refs: tuple[ObjectRef, ...], versions: list[tuple[str, str]]) -> str:
        return self.key.keyed_hash(json.dumps(["release-live-objects", index, list(refs), versions]))[:32]

    def clean(self, index: str, versions: list[tuple[str, str]] | None) -> bool:
        """Whether the release's objects have the live ``(uid, resourceVersion)`` they had when found clean
        (``versions`` in the order of :meth:`refs`; None: an object is missing)."""
        found = self.known.get(index)
        if found is None or versions is None or self._digest(index, found[1], versions) != found[0]:
            return False
        with self._lock:
            self.used[index] = found
        return True

    def keep(self, index: str, refs: tuple[ObjectRef, ...], versions: list[tuple[str, str]]) -> None:
        with self._lock:
            self.used[index] = (self._digest(index, refs, versions), refs)

    def save(self) -> None:
        """Write back this run's verdicts, and earlier ones while the file stays under its bound."""
        kept = dict(self.known) if len(self.known) + len(self.used) <= MAX_KEPT else {}
        kept.update(self.used)
        if kept == self.known:
            return
        private_dir(self.path.parent)
        lines = [json.dumps({"index": index, "digest": digest, "refs": [list(ref) for ref in refs]},
                            separators=(",", ":")) for index, (digest, refs) in sorted(kept.items())]
        atomic_write(self.path, "\n".join(lines).encode("utf-8"))
