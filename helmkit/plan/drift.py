"""Drift findings: what a nightly drift run reports, as plain data every renderer shares.

A :class:`Finding` is one thing a person (or a machine) can act on:

``spec-drift``
    git wants something other than what Helm deployed (values, chart, manifest, a release
    disabled in the specs but still installed, a release of the same name installed by
    someone else).
``live-drift``
    an object of the deployed release differs in the cluster from Helm's record (a hand edit:
    ``kubectl scale``/``patch``/``edit``) or is gone (``kubectl delete``). One finding per object.
``unhealthy``
    the release's last operation failed, or it is stuck ``pending-*``; or one of its workloads
    (Deployment, StatefulSet, DaemonSet) has fewer available replicas than it wants, as its
    controller reports once it observed the latest spec (one finding per workload).
``missing``
    the specs want the release and the cluster has none (never installed, or uninstalled by hand).
``orphan``
    installed by helmkit for this cluster and gone from the specs.
``unreachable``
    the cluster could not be read: nothing else about it is known.

Each finding has a **stable id**: the first 16 hex digits of the SHA-256 of its kind, env,
cluster, namespace, release and subject (the object for live drift). The same drift gives the
same id in every run, which is what a baseline compares (:mod:`helmkit.plan.baseline`).

Findings never hold secret values: diffs are built from masked objects, and
:meth:`DriftReport.mask` runs every text through the run's masker before a renderer sees it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from helmkit.plan.diffmodel import is_text, value_lines
from helmkit.plan.livediff import LiveField, ObjectDrift, ReleaseLiveDiff
from helmkit.plan.manifests import ObjectKey
from helmkit.plan.status import ReleaseState, Status

if TYPE_CHECKING:
    from helmkit.plan.shardreport import ShardInfo

FindingKind = Literal["spec-drift", "live-drift", "unhealthy", "missing", "orphan", "unreachable"]
KINDS: tuple[FindingKind, ...] = ("unreachable", "unhealthy", "missing", "spec-drift", "live-drift", "orphan")
REPORT_FORMAT = "helmkit.dev/drift-report/v1"
BaselineState = Literal["new", "present"]


def finding_id(kind: str, env: str, cluster: str, namespace: str, release: str, *, subject: str = "") -> str:
    raw = json.dumps([kind, env, cluster, namespace, release, subject], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Finding:
    """One drift finding on one release (or one cluster, for ``unreachable``)."""

    kind: FindingKind
    env: str
    cluster: str
    release: str  # "" for a cluster-wide finding
    namespace: str
    summary: str  # one line
    details: tuple[str, ...] = ()  # more lines (reasons, changed fields)
    subject: str = ""  # the object of a live-drift finding, e.g. "apps/v1/Deployment web/web"
    diff: str = ""  # a masked diff (unified or field list), may be empty
    changes: tuple[dict[str, Any], ...] = ()  # masked machine-readable changes
    baseline: BaselineState = "new"

    @property
    def id(self) -> str:
        return finding_id(self.kind, self.env, self.cluster, self.namespace, self.release, subject=self.subject)

    @property
    def sort_key(self) -> tuple[str, str, str, str, int, str]:
        return (self.env, self.cluster, self.release, self.namespace, KINDS.index(self.kind), self.subject)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "env": self.env, "cluster": self.cluster,
            "release": self.release or None, "namespace": self.namespace or None, "subject": self.subject or None,
            "summary": self.summary, "details": list(self.details), "diff": self.diff,
            "changes": list(self.changes), "baseline": self.baseline,
        }


@dataclass(frozen=True)
class ClusterScan:
    """What one cluster's scan looked at."""

    env: str
    cluster: str
    reachable: bool
    releases: int = 0  # releases assessed (in the specs or installed by helmkit)
    api_calls: int = 0  # Kubernetes API requests made for this cluster
    error: str = ""
    release_names: tuple[str, ...] = ()  # the releases assessed, sorted


@dataclass(frozen=True)
class ResolvedFinding:
    """A finding as a baseline report records it; in a report, one that this run no longer sees."""

    id: str
    kind: str
    env: str
    cluster: str
    release: str
    summary: str


@dataclass
class DriftReport:
    """Everything one ``helmkit drift`` run found, ready for any renderer."""

    envs: list[str]
    clusters: list[ClusterScan]
    findings: list[Finding]
    errors: list[str] = field(default_factory=list)  # releases that could not be rendered, ...
    generated_at: str = ""
    resolved: list[ResolvedFinding] = field(default_factory=list)
    baseline: str | None = None  # the baseline file compared with, if any
    unchecked: int = 0  # baseline findings on clusters this run could not read or did not scan
    # (env, cluster, release) this run looked at when -l narrowed it; None: every release of a scanned cluster
    checked: frozenset[tuple[str, str, str]] | None = None
    shard: ShardInfo | None = None  # --shard I/N: which shard of which fleet (helmkit.plan.shardreport)

    def __post_init__(self) -> None:
        self.findings = sorted(self.findings, key=lambda f: f.sort_key)
        self.clusters = sorted(self.clusters, key=lambda c: (c.env, c.cluster))

    @property
    def new(self) -> list[Finding]:
        return [f for f in self.findings if f.baseline == "new"]

    @property
    def drifted(self) -> bool:
        return bool(self.findings)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        for finding in self.findings:
            counts[finding.kind] += 1
        return counts

    def cluster_state(self, env: str, cluster: str) -> str:
        """The worst kind of finding on a cluster ("ok" when none): the colour of its grid cell."""
        kinds = {f.kind for f in self.findings if f.env == env and f.cluster == cluster}
        for kind in KINDS:
            if kind in kinds:
                return kind
        return "ok"

    def by_release(self) -> dict[tuple[str, str, str, str], list[Finding]]:
        grouped: dict[tuple[str, str, str, str], list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault((finding.env, finding.cluster, finding.release, finding.namespace), []).append(finding)
        return grouped

    def mask(self, mask: Callable[[str], str]) -> DriftReport:
        """A copy whose every text went through ``mask`` (the run's masker)."""
        findings = [_masked_finding(f, mask) for f in self.findings]
        clusters = [replace(c, error=mask(c.error)) for c in self.clusters]
        return replace(self, envs=list(self.envs), clusters=clusters, findings=findings,
                       errors=[mask(e) for e in self.errors],
                       resolved=[replace(r, summary=mask(r.summary)) for r in self.resolved])


def _masked_finding(finding: Finding, mask: Callable[[str], str]) -> Finding:
    return replace(
        finding, summary=mask(finding.summary), details=tuple(mask(d) for d in finding.details),
        diff=mask(finding.diff), changes=tuple(_mask_data(c, mask) for c in finding.changes),
    )


def _mask_data(node: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(node, str):
        return mask(node)
    if isinstance(node, dict):
        return {mask(str(k)): _mask_data(v, mask) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_mask_data(v, mask) for v in node]
    return node


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.sort_key)


def unreachable_finding(env: str, cluster: str, error: str) -> Finding:
    """The summary says why (the first line of the error, without a repeated ``cluster NAME:``)."""
    lines = error.strip().splitlines() or ["no reason given"]
    reason = lines[0].removeprefix(f"cluster {cluster}: ").removeprefix("error: ")
    return Finding("unreachable", env, cluster, "", "", f"cluster {cluster} could not be read: {reason}", (error,))


def release_findings(state: ReleaseState, *, spec_diff: str = "", spec_changes: Iterable[dict[str, Any]] = (),
                     live: ReleaseLiveDiff | None = None) -> list[Finding]:
    """The findings of one release from its decided state and its live comparison (pure)."""
    def finding(kind: FindingKind, summary: str, **extra: Any) -> Finding:
        return Finding(kind, state.env, state.cluster, state.name, state.namespace, summary, **extra)

    found: list[Finding] = []
    status = state.status
    reasons = tuple(state.reasons)
    if status is Status.OUT_OF_SYNC:
        found.append(finding("spec-drift", "git differs from the deployed release: " + "; ".join(reasons),
                             details=reasons, diff=spec_diff, changes=tuple(spec_changes)))
    elif status is Status.DISABLED_INSTALLED:
        found.append(finding("spec-drift", "disabled in git, still installed", details=reasons, diff=spec_diff))
    elif status is Status.FOREIGN and state.instance is not None and state.instance.enabled:
        found.append(finding("spec-drift", "a release of this name was installed outside helmkit", details=reasons))
    elif status is Status.NOT_INSTALLED:
        found.append(finding("missing", "in git, not installed in the cluster",
                             details=("never installed, or uninstalled by hand",)))
    elif status in (Status.FAILED, Status.PENDING):
        found.append(finding("unhealthy", f"helm status {state.helm_status} at revision {state.revision}",
                             details=reasons))
    elif status is Status.ORPHAN:
        found.append(finding("orphan", "installed by helmkit, gone from git", details=reasons))
    if live is not None:
        for sick in live.unhealthy:
            subject = _subject_of(sick.key, sick.api_version)
            found.append(finding("unhealthy", f"{subject}: {sick.problem}", subject=subject))
        for obj in live.objects:
            found.append(finding("live-drift", obj.describe(), subject=_subject(obj), diff=_live_diff_text(obj),
                                 changes=tuple(_live_change(obj, f) for f in obj.fields)
                                 or ({"state": obj.state},)))
    return found


def _subject(obj: ObjectDrift) -> str:
    return _subject_of(obj.key, obj.api_version)


def _subject_of(key: ObjectKey, api_version: str) -> str:
    return f"{api_version}/{key.kind} {key.namespace}/{key.name}" if key.namespace else \
        f"{api_version}/{key.kind} {key.name}"


def _live_diff_text(obj: ObjectDrift) -> str:
    """``~ path: expected -> live`` per changed field, ``- path: expected`` per field gone live."""
    if obj.state == "missing":
        return f"- {_subject(obj)} (deleted from the cluster)\n"
    lines = [f"~ {_subject(obj)}"]
    if obj.owner_note:
        lines.append(f"    ! {obj.owner_note}")
    for item in obj.fields:
        by = f" (changed by {', '.join(item.managers)})" if item.managers else ""
        if is_text(item.expected) or is_text(item.live):  # a config file: its line diff, expected -> live
            text = value_lines(item.op, item.path, item.expected, item.live)
            lines += ["    " + text[0] + by, *("    " + line for line in text[1:])]
        elif item.op == "change":
            lines.append(f"    ~ {item.path}: {_compact(item.expected)} -> {_compact(item.live)}{by}")
        else:
            lines.append(f"    - {item.path}: {_compact(item.expected)} (not in the live object)")
    return "\n".join(lines) + "\n"


def _live_change(obj: ObjectDrift, item: LiveField) -> dict[str, Any]:
    return {"state": obj.state, "op": item.op, "path": item.path, "pointer": item.pointer,
            "expected": item.expected, "live": item.live, "managers": list(item.managers)}


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
