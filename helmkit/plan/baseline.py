"""Comparing a drift run with a baseline: which findings are new, still present, resolved.

A baseline is an earlier JSON drift report (``helmkit drift --report json=drift.json``): the
nightly job keeps last night's report and passes it with ``--baseline``. Findings are matched by
their stable id (:func:`helmkit.plan.drift.finding_id`).

- **new**: in this run, not in the baseline;
- **still present** (``present``): in both;
- **resolved**: in the baseline, and this run scanned its cluster and no longer sees it.

A baseline finding on a cluster that this run did not read (unreachable, or an environment not
selected), or of a release that ``-l`` left out, is neither resolved nor present: it is counted
as *unchecked*.

``--fail-on new`` fails (exit 2) only when there are new findings; ``--fail-on any`` (the
default) whenever there are findings at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from helmkit.errors import InputError, Location, Problem
from helmkit.plan.drift import REPORT_FORMAT, DriftReport, ResolvedFinding

FailOn = Literal["new", "any"]


def read_baseline(path: Path) -> list[ResolvedFinding]:
    """The findings of a JSON drift report; an unreadable or foreign file is an input error."""
    where = Location(str(path))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(Problem(f"cannot read the baseline: {exc.strerror}", where,
                                 hint="pass a JSON report of an earlier run (--report json=FILE)")) from None
    except ValueError:
        raise InputError(Problem("the baseline is not JSON", where,
                                 hint="pass a JSON report of an earlier run (--report json=FILE)")) from None
    if not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT or not isinstance(doc.get("findings"), list):
        raise InputError(Problem(f"the baseline is not a helmkit drift report ({REPORT_FORMAT})", where))
    entries: list[ResolvedFinding] = []
    for item in doc["findings"]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise InputError(Problem("the baseline has a finding without an id", where))
        entries.append(ResolvedFinding(item["id"], str(item.get("kind", "")), str(item.get("env", "")),
                                       str(item.get("cluster", "")), str(item.get("release") or ""),
                                       str(item.get("summary", ""))))
    return entries


def apply_baseline(report: DriftReport, baseline: list[ResolvedFinding], *, source: str) -> DriftReport:
    """A copy of ``report`` with each finding marked new or present, and the resolved ones listed."""
    known = {entry.id for entry in baseline}
    current = {finding.id for finding in report.findings}
    scanned = {(c.env, c.cluster) for c in report.clusters if c.reachable}
    findings = [replace(f, baseline="present" if f.id in known else "new") for f in report.findings]
    resolved: list[ResolvedFinding] = []
    unchecked = 0
    for entry in baseline:
        if entry.id in current:
            continue
        if (entry.env, entry.cluster) not in scanned or not _checked(report, entry):
            unchecked += 1
            continue
        resolved.append(entry)
    resolved.sort(key=lambda r: (r.env, r.cluster, r.release, r.kind, r.id))
    return replace(report, findings=findings, resolved=resolved, baseline=source, unchecked=unchecked)


def _checked(report: DriftReport, entry: ResolvedFinding) -> bool:
    """Whether this run looked at the release of ``entry`` (a cluster-wide finding has none)."""
    if report.checked is None or not entry.release:
        return True
    return (entry.env, entry.cluster, entry.release) in report.checked


def fails(report: DriftReport, fail_on: FailOn) -> bool:
    """Whether the run should exit 2 under ``--fail-on``."""
    if fail_on == "new":
        return bool(report.new)
    return report.drifted


def baseline_summary(report: DriftReport) -> Mapping[str, Any]:
    present = sum(1 for f in report.findings if f.baseline == "present")
    return {"file": report.baseline, "new": len(report.new), "present": present,
            "resolved": len(report.resolved), "unchecked": report.unchecked}
