"""The closing summary of a sync: what happened per cluster, and which releases failed or were
skipped and why.

Each release counts once, in one column: ``failed`` if any of its steps failed (a failed
recovery included), else ``skipped`` if a step was skipped, else what its last step did
(``deployed``, ``unchanged``, ``pruned``). Text form (helmkit's one table style)::

    CLUSTER         DEPLOYED  UNCHANGED  FAILED  SKIPPED  PRUNED
    prod-us-east-1  2         1          0       0        0
    total           2         1          0       0        0

    failed:
    CLUSTER         RELEASE  STEP     REASON
    prod-eu-west-1  web      upgrade  helm upgrade --install web failed (exit 1)

    skipped:
    ...

A ``repaired`` column (releases whose live drift a ``repair`` step restored) appears when the
run repaired any. ``interrupted: ...`` follows when the run was interrupted, and a list of the
releases that may be left ``pending-*`` (their helm process was killed) with the exact
``helmkit sync ... --recover`` command for each. A failed step's reason is what it left (from
the release history) and helm's own error lines. The JSON form (:meth:`Summary.to_json`) holds
the same data, with the full messages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tabulate import tabulate

from helmkit.adapters.masking import Masker
from helmkit.plan.execute import Outcome, RunResult, StepResult
from helmkit.plan.rollout import Plan

COLUMNS = ("deployed", "unchanged", "failed", "skipped", "pruned", "repaired")
SHOWN_ALWAYS = COLUMNS[:5]  # "repaired" only when the run repaired a release


@dataclass
class ClusterCounts:
    cluster: str
    deployed: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    pruned: int = 0
    repaired: int = 0

    def add(self, column: str) -> None:
        setattr(self, column, getattr(self, column) + 1)

    def row(self, columns: tuple[str, ...] = SHOWN_ALWAYS) -> list[Any]:
        return [self.cluster, *(getattr(self, column) for column in columns)]


@dataclass(frozen=True)
class ListedRelease:
    env: str
    cluster: str
    release: str
    step: str
    reason: str
    message: str = ""  # the full message (JSON form only)


@dataclass
class Summary:
    clusters: list[ClusterCounts]
    failed: list[ListedRelease] = field(default_factory=list)
    skipped: list[ListedRelease] = field(default_factory=list)
    pending: list[ListedRelease] = field(default_factory=list)  # may be left pending-*: reason is the command
    interrupted: bool = False
    exit_code: int = 0

    @property
    def total(self) -> ClusterCounts:
        total = ClusterCounts("total")
        for counts in self.clusters:
            for column in COLUMNS:
                setattr(total, column, getattr(total, column) + getattr(counts, column))
        return total

    def render_text(self, masker: Masker | None = None) -> str:
        columns = COLUMNS if self.total.repaired else SHOWN_ALWAYS
        rows = [counts.row(columns) for counts in self.clusters] + [self.total.row(columns)]
        parts = [_table(rows, ["cluster", *columns])]
        for title, listed in (("failed", self.failed), ("skipped", self.skipped)):
            if listed:
                table = _table([[r.cluster, r.release, r.step, r.reason] for r in listed],
                               ["cluster", "release", "step", "reason"])
                parts.append(f"{title}:\n{table}")
        if self.interrupted:
            parts.append("interrupted: no new release was started after the signal; "
                         "releases that had not started are listed as skipped")
        if self.pending:
            lines = [f"  {r.env}/{r.cluster}/{r.release}: {r.reason}" for r in self.pending]
            parts.append("may be left pending (helm was stopped mid-operation); once no helm process works on "
                         "them, recover with:\n" + "\n".join(lines))
        text = "\n\n".join(parts) + "\n"
        return masker.mask(text) if masker is not None else text

    def to_json(self) -> dict[str, Any]:
        return {
            "interrupted": self.interrupted,
            "exitCode": self.exit_code,
            "clusters": [asdict(counts) for counts in self.clusters],
            "total": {column: getattr(self.total, column) for column in COLUMNS},
            "failed": [asdict(r) for r in self.failed],
            "skipped": [asdict(r) for r in self.skipped],
            "pending": [asdict(r) for r in self.pending],
        }


def summarize(plan: Plan, result: RunResult) -> Summary:
    """Count ``result`` per cluster, in the plan's order of waves and clusters."""
    clusters = {c.cluster: ClusterCounts(c.cluster) for wave in plan.waves for c in wave.clusters}
    by_release: dict[str, list[StepResult]] = {}
    for step_result in result.results:
        by_release.setdefault(step_result.step.key, []).append(step_result)
    summary = Summary(list(clusters.values()), interrupted=result.interrupted, exit_code=result.exit_code)
    for key, results in by_release.items():
        counts = clusters.setdefault(results[0].step.cluster, ClusterCounts(results[0].step.cluster))
        failed = [r for r in results if r.outcome is Outcome.FAILED]
        skipped = [r for r in results if r.outcome is Outcome.SKIPPED]
        if any(r.pending for r in results):
            env, cluster, release = key.split("/", 2)
            summary.pending.append(ListedRelease(env, cluster, release, "recover", recover_command(key)))
        if failed:
            counts.add("failed")
            summary.failed.append(_listed(key, failed[0]))
        elif skipped:
            counts.add("skipped")
            summary.skipped.append(_listed(key, skipped[-1]))
        else:
            last = results[-1].outcome
            counts.add(last.value if last.value in COLUMNS else "deployed")
    return summary


def recover_command(key: str) -> str:
    """The command that recovers one release left ``pending-*``."""
    env, cluster, release = key.split("/", 2)
    return f"helmkit sync --env {env} --cluster {cluster} -l name={release} --recover"


def short_reason(message: str) -> str:
    """The first line of a message, plus the last line of helm's stderr quoted in it."""
    lines = [line for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    quoted = [line.strip()[1:].strip() for line in lines[1:] if line.strip().startswith("|")]
    return f"{lines[0]}: {quoted[-1]}" if quoted else lines[0]


def _listed(key: str, result: StepResult) -> ListedRelease:
    env, cluster, release = key.split("/", 2)
    reason = result.reason or short_reason(result.message)
    return ListedRelease(env, cluster, release, result.step.kind.value, reason, result.message)


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    """helmkit's one table style (:mod:`helmkit.output.table`, which this layer cannot import)."""
    text = tabulate(rows, headers=[h.upper() for h in headers], tablefmt="plain", disable_numparse=True)
    return "\n".join(line.rstrip() for line in text.splitlines())
