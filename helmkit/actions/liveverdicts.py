"""Live verdicts: a live object found equal to its manifest is not compared again while neither changed.

The live check (:mod:`helmkit.actions.livecheck`) compares each object of an in-sync release with
what its manifest sets. When not one field differs and the workload is healthy, it keeps a verdict:
an HMAC, under the private mask key, of the manifest object's canonical JSON, the live object's
``uid`` and ``resourceVersion`` (the API server bumps it on every change, status included), the
apiVersion and the object's identity. A later run that finds the same pair skips the comparison.
Objects are still listed (a deleted object is still found missing); only the comparing is spared.

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
from helmkit.adapters.masking import MaskKey
from helmkit.plan.manifests import ObjectKey

LIVE_VERDICT_FORMAT = 1
MAX_KEPT = 200_000  # verdicts per cluster file


@dataclass
class LiveVerdicts:
    """The live verdicts of one cluster, for one run (thread-safe)."""

    path: Path
    key: MaskKey
    known: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    _bodies: dict[int, tuple[Any, str]] = field(default_factory=dict)  # id(body) -> (body, digest)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, folder: Path, cluster_identity: str, key: MaskKey) -> LiveVerdicts:
        path = folder / key.keyed_hash("live-verdicts\0" + cluster_identity)[:32]
        try:
            known = set(path.read_text(encoding="ascii").split())
        except (OSError, UnicodeDecodeError):
            known = set()
        return cls(path, key, known)

    def _verdict(self, key: ObjectKey, api_version: str, body: dict[str, Any], live: dict[str, Any]) -> str | None:
        meta = live.get("metadata") if isinstance(live.get("metadata"), dict) else {}
        uid, version = str((meta or {}).get("uid") or ""), str((meta or {}).get("resourceVersion") or "")
        if not uid or not version:
            return None
        with self._lock:
            kept = self._bodies.get(id(body))
        if kept is None or kept[0] is not body:
            text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
            kept = (body, hashlib.blake2b(text.encode(), digest_size=20).hexdigest())
            with self._lock:
                self._bodies[id(body)] = kept
        identity = json.dumps([LIVE_VERDICT_FORMAT, kept[1], uid, version, api_version, str(key)])
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
