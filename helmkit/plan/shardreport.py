"""Shard reports: what a ``helmkit drift --shard I/N`` JSON report records, and merging them back.

A sharded drift report carries a ``shard`` block (``schemas/drift-report.schema.json``):

``index``, ``count``
    which shard of how many (1-based);
``environments``
    for each environment scanned, the fleet's **full** cluster list (every shard has it, so a
    merge knows which clusters a missing shard should have checked);
``covered``
    the ``env/cluster`` names this shard scanned;
``selector``, ``commit``
    the ``-l`` selector and the git commit of the release repository: shards of one run agree;
``releaseNames``
    per covered cluster, the releases assessed (what JUnit lists as passing test cases);
``checked``
    with ``-l``: the ``[env, cluster, release]`` looked at (what a baseline can call resolved).

:func:`merge_reports` rebuilds the one :class:`~helmkit.plan.drift.DriftReport` a single run of
the whole fleet gives: the same clusters, findings, errors and counts, so every renderer prints
the same text. A missing shard's clusters are *unchecked*: they are not in the report's clusters
(a baseline finding on them is unchecked, never resolved) and an error names the shard and its
clusters, so the merge fails (exit 1). Shards that disagree (another N, environment list, fleet,
selector or commit), a shard given twice, or a shard whose clusters are not the ones rendezvous
hashing gives it, are refused with an error naming both files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from helmkit.errors import InputError, Location, Problem
from helmkit.model.shards import assign
from helmkit.plan.drift import KINDS, REPORT_FORMAT, ClusterScan, DriftReport, Finding

HINT = "merge the JSON reports of one `helmkit drift --shard I/N --report json=FILE` run, every shard once"


@dataclass(frozen=True)
class ShardInfo:
    """The ``shard`` block of a sharded drift report."""

    index: int
    count: int
    fleet: dict[str, tuple[str, ...]]  # env -> every cluster of the env, sorted
    covered: tuple[tuple[str, str], ...]  # (env, cluster) scanned, sorted
    selector: str | None = None
    commit: str | None = None
    release_names: dict[tuple[str, str], tuple[str, ...]] | None = None
    checked: tuple[tuple[str, str, str], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "count": self.count, "selector": self.selector, "commit": self.commit,
            "environments": {env: list(names) for env, names in sorted(self.fleet.items())},
            "covered": [f"{env}/{cluster}" for env, cluster in self.covered],
            "releaseNames": {f"{env}/{cluster}": list(names)
                             for (env, cluster), names in sorted((self.release_names or {}).items())},
            "checked": [list(item) for item in self.checked] if self.checked is not None else None,
        }


def shard_info(report: DriftReport, *, index: int, count: int, fleet: Mapping[str, Sequence[str]],
               selector: str | None, commit: str | None) -> ShardInfo:
    """The shard block of ``report`` (its clusters are the ones this shard scanned)."""
    return ShardInfo(
        index, count, {env: tuple(sorted(names)) for env, names in fleet.items()},
        tuple(sorted((c.env, c.cluster) for c in report.clusters)), selector, commit,
        {(c.env, c.cluster): c.release_names for c in report.clusters},
        tuple(sorted(report.checked)) if report.checked is not None else None)


@dataclass(frozen=True)
class ShardFile:
    """One shard's JSON report, read."""

    source: str
    info: ShardInfo
    envs: list[str]
    clusters: list[ClusterScan]
    findings: list[Finding]
    errors: list[str]
    generated_at: str


def read_shard(source: str, doc: Any) -> ShardFile:
    """Check ``doc`` is a sharded drift report; an input error naming ``source`` otherwise."""
    where = Location(source)
    if not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT:
        raise InputError(Problem(f"not a helmkit drift report ({REPORT_FORMAT})", where, HINT))
    block = doc.get("shard")
    if not isinstance(block, dict):
        raise InputError(Problem("a drift report without a `shard` block: not written with --shard I/N", where,
                                 "run each shard as `helmkit drift --shard I/N --report json=FILE`"))
    try:
        fleet = {str(env): tuple(str(n) for n in names) for env, names in block["environments"].items()}
        covered = tuple(_pair(item) for item in block["covered"])
        names = {_pair(key): tuple(str(n) for n in value) for key, value in block["releaseNames"].items()}
        checked = None if block.get("checked") is None else tuple(
            (str(e), str(c), str(r)) for e, c, r in block["checked"])
        info = ShardInfo(int(block["index"]), int(block["count"]), fleet, covered, block.get("selector"),
                         block.get("commit"), names, checked)
        return ShardFile(source, info, [str(env) for env in doc["environments"]],
                         [_cluster(item, names) for item in doc["clusters"]],
                         [_finding(item) for item in doc["findings"]], [str(e) for e in doc["errors"]],
                         str(doc.get("generatedAt") or ""))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError(Problem("the shard report is damaged (a field is missing or of the wrong type)",
                                 where, HINT)) from None


def _pair(text: Any) -> tuple[str, str]:
    env, sep, cluster = str(text).partition("/")
    if not sep:
        raise ValueError(text)
    return env, cluster


@dataclass(frozen=True)
class Merged:
    report: DriftReport
    count: int  # the number of shards of the run
    missing: dict[int, list[tuple[str, str]]]  # shard index -> its clusters, for shards not given


def merge_reports(shards: Sequence[ShardFile]) -> Merged:
    """One report from the shards of one run (see the module docstring)."""
    if not shards:
        raise InputError(Problem("no shard reports to merge", None, HINT))
    first = shards[0]
    seen: dict[int, ShardFile] = {}
    for shard in shards:
        _same_run(first, shard)
        if shard.info.index in seen:
            raise InputError(Problem(f"shard {shard.info.index}/{shard.info.count} is given twice: "
                                     f"{seen[shard.info.index].source} and {shard.source}", None, HINT))
        seen[shard.info.index] = shard
    count = first.info.count
    expected = assign(((env, c) for env, names in first.info.fleet.items() for c in names), count)
    for index, shard in seen.items():
        if list(shard.info.covered) != expected[index]:
            raise InputError(Problem(
                f"shard {index}/{count} covered {_names(shard.info.covered)}, but shard {index} of {count} is "
                f"{_names(expected[index])}", Location(shard.source),
                "every shard must run the same helmkit version on the same fleet (see docs/sharding.md)"))
    missing = {index: clusters for index, clusters in expected.items() if index not in seen and clusters}
    clusters: list[ClusterScan] = []
    findings: list[Finding] = []
    errors: list[str] = []
    checked: set[tuple[str, str, str]] = set()
    for shard in shards:
        clusters += shard.clusters
        findings += shard.findings
        errors += shard.errors
        checked.update(shard.info.checked or ())
    for index, lost in sorted(missing.items()):
        errors.append(f"shard {index}/{count} is missing: {_names(lost)} not checked")
    generated = max(shard.generated_at for shard in shards)
    report = DriftReport(list(first.envs), clusters, findings, sorted(errors), generated,
                         checked=frozenset(checked) if first.info.selector else None)
    return Merged(report, count, missing)


def _same_run(first: ShardFile, other: ShardFile) -> None:
    a, b = first.info, other.info
    for what, left, right in (("the number of shards", a.count, b.count),
                              ("the environments", first.envs, other.envs),
                              ("the fleet's clusters", a.fleet, b.fleet),
                              ("the selector (-l)", a.selector, b.selector),
                              ("the commit", a.commit, b.commit)):
        if left != right:
            raise InputError(Problem(f"{first.source} and {other.source} are not shards of one run: "
                                     f"{what} differ ({left} vs {right})", None, HINT))


def _names(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{env}/{cluster}" for env, cluster in pairs) or "no clusters"


def _cluster(item: Mapping[str, Any], names: Mapping[tuple[str, str], tuple[str, ...]]) -> ClusterScan:
    env, cluster = str(item["env"]), str(item["cluster"])
    return ClusterScan(env, cluster, bool(item["reachable"]), int(item["releases"]), int(item["apiCalls"]),
                       str(item.get("error") or ""), names.get((env, cluster), ()))


def _finding(item: Mapping[str, Any]) -> Finding:
    """A finding as its JSON has it; its baseline mark is the merge's to set again."""
    if item["kind"] not in KINDS:
        raise ValueError(item["kind"])
    return Finding(item["kind"], str(item["env"]), str(item["cluster"]), str(item.get("release") or ""),
                   str(item.get("namespace") or ""), str(item["summary"]),
                   tuple(str(d) for d in item.get("details") or ()), str(item.get("subject") or ""),
                   str(item.get("diff") or ""), tuple(item.get("changes") or ()))
