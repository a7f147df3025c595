"""Shards: which CI runner takes which cluster (``--shard I/N``).

Shards are numbered from 1: ``--shard 1/4`` .. ``--shard 4/4``, the way a GitHub Actions matrix
counts. A cluster belongs to exactly one shard of N, chosen by **rendezvous (highest random
weight) hashing**: for each shard ``i`` of ``1..N`` the weight is the SHA-256 of
``"<env>/<cluster>#<i>"`` read as a big-endian integer; the cluster goes to the shard with the
highest weight (a tie, which SHA-256 makes practically impossible, goes to the lower index).

Why rendezvous: the assignment depends only on the cluster's own name and N, never on the other
clusters, so adding or removing a cluster moves no other cluster, and going from N to N+1 shards
moves only the ~1/(N+1) clusters that the new shard wins. SHA-256 (not Python's ``hash()``,
which is salted per process) makes it the same on every machine and every run.

:class:`ClusterFilter` is what a run keeps of an environment's clusters: its shard and, for
``sync --wave``, one wave. ``--cluster`` and ``-l`` select first; the filter applies on top.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from helmkit.errors import InputError, Location, Problem
from helmkit.model.instance import Cluster

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
MAX_SHARDS = 1000


def shard_weight(env: str, cluster: str, index: int) -> int:
    digest = hashlib.sha256(f"{env}/{cluster}#{index}".encode()).digest()
    return int.from_bytes(digest, "big")


def shard_of(env: str, cluster: str, count: int) -> int:
    """The 1-based shard of ``env/cluster`` among ``count`` shards."""
    best, best_weight = 1, -1
    for index in range(1, count + 1):
        weight = shard_weight(env, cluster, index)
        if weight > best_weight:
            best, best_weight = index, weight
    return best


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def covers(self, env: str, cluster: str) -> bool:
        return self.count == 1 or shard_of(env, cluster, self.count) == self.index


def parse_shard(text: str, *, option: str = "--shard") -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``; anything else is an input error saying what to write."""
    match = _SHARD.fullmatch(text)
    hint = "write I/N with 1 <= I <= N, e.g. --shard 1/4 .. --shard 4/4 (shards are numbered from 1)"
    if match is None:
        raise InputError(Problem(f"{text!r} is not a shard", Location(option), hint))
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or count > MAX_SHARDS:
        raise InputError(Problem(f"{text!r}: the number of shards must be 1 to {MAX_SHARDS}", Location(option), hint))
    if not 1 <= index <= count:
        raise InputError(Problem(f"{text!r}: shard {index} does not exist among {count} shards",
                                 Location(option), hint))
    return Shard(index, count)


def assign(clusters: Iterable[tuple[str, str]], count: int) -> dict[int, list[tuple[str, str]]]:
    """Every shard 1..count with its (env, cluster) pairs, sorted; a shard may have none."""
    shards: dict[int, list[tuple[str, str]]] = {index: [] for index in range(1, count + 1)}
    for env, cluster in sorted(set(clusters)):
        shards[shard_of(env, cluster, count)].append((env, cluster))
    return shards


@dataclass(frozen=True)
class ClusterFilter:
    """The clusters a run keeps: those of its shard (all without one), of one wave (all without one)."""

    shard: Shard | None = None
    wave: int | None = None

    @property
    def active(self) -> bool:
        return self.shard is not None or self.wave is not None

    def keeps(self, cluster: Cluster) -> bool:
        if self.wave is not None and cluster.wave != self.wave:
            return False
        return self.shard is None or self.shard.covers(cluster.env, cluster.name)

    def describe(self) -> str:
        parts = ([f"shard {self.shard}"] if self.shard is not None else []) + \
            ([f"wave {self.wave}"] if self.wave is not None else [])
        return ", ".join(parts)
