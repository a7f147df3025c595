"""One closing summary from the ``sync --report`` files of a sharded, wave-by-wave rollout.

Each CI job (one wave, one shard: ``helmkit sync --wave W --shard I/N --report FILE``) writes the
summary of its clusters and the gates of its wave (``schemas/sync-report.schema.json``). Merged:
every cluster's counts in wave order, the totals summed, the failed, skipped and pending releases
of every job, every wave's gate results, and ``failed`` when any job failed (its exit code, a
failed gate or an interrupt).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from helmkit.errors import InputError, Location, Problem
from helmkit.plan.summary import COLUMNS

SYNC_FORMATS = ("table", "json", "markdown")


def is_sync_report(doc: Any) -> bool:
    return isinstance(doc, dict) and "format" not in doc and isinstance(doc.get("summary"), dict) \
        and isinstance(doc.get("gates"), dict)


@dataclass(frozen=True)
class MergedSync:
    sources: list[str]
    clusters: list[dict[str, Any]]
    total: dict[str, int]
    failed_releases: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    waves: list[dict[str, Any]]
    failed: bool

    def to_json(self) -> dict[str, Any]:
        return {"sources": self.sources, "failed": self.failed, "clusters": self.clusters, "total": self.total,
                "failedReleases": self.failed_releases, "skipped": self.skipped, "pending": self.pending,
                "waves": self.waves}


def merge_sync_reports(docs: Sequence[tuple[str, Any]]) -> MergedSync:
    clusters: list[dict[str, Any]] = []
    failed_releases: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    waves: list[dict[str, Any]] = []
    failed = False
    seen: dict[str, str] = {}
    try:
        for source, doc in docs:
            summary, gates = doc["summary"], doc["gates"]
            for counts in summary["clusters"]:
                name = str(counts["cluster"])
                if name in seen:
                    raise InputError(Problem(f"cluster {name} is in two reports: {seen[name]} and {source}",
                                             Location(source), "merge each job's report once"))
                seen[name] = source
                clusters.append({"cluster": name, **{c: int(counts.get(c, 0)) for c in COLUMNS}})
            failed_releases += list(summary.get("failed") or [])
            skipped += list(summary.get("skipped") or [])
            pending += list(summary.get("pending") or [])
            waves += [dict(wave) for wave in gates.get("waves") or []]
            failed = failed or bool(summary.get("interrupted")) or int(summary.get("exitCode") or 0) != 0 \
                or bool(gates.get("failed"))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError(Problem("the sync report is damaged (a field is missing or of the wrong type)",
                                 Location(source), "pass the files of `helmkit sync --report FILE`")) from None
    total = {c: sum(item[c] for item in clusters) for c in COLUMNS}
    waves.sort(key=lambda wave: int(wave.get("wave", 0)))
    return MergedSync([s for s, _ in docs], clusters, total, failed_releases, skipped, pending, waves, failed)


def render_sync(merged: MergedSync, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(merged.to_json(), indent=2, sort_keys=True) + "\n"
    markdown = fmt == "markdown"
    lines = ["# helmkit sync", ""] if markdown else []
    lines += _table(["cluster", *COLUMNS], [[c["cluster"], *(c[k] for k in COLUMNS)] for c in merged.clusters]
                    + [["total", *(merged.total[k] for k in COLUMNS)]], markdown)
    for title, listed in (("failed", merged.failed_releases), ("skipped", merged.skipped),
                          ("may be left pending", merged.pending)):
        if listed:
            lines += ["", f"{title}:"]
            lines += _table(["cluster", "release", "step", "reason"],
                            [[r.get("cluster", ""), r.get("release", ""), r.get("step", ""), r.get("reason", "")]
                             for r in listed], markdown)
    if merged.waves:
        lines += ["", "gates:"]
        lines += _table(["wave", "clusters", "result"],
                        [[w.get("wave", ""), ", ".join(w.get("clusters") or []) or "-", w.get("result", "")]
                         for w in merged.waves], markdown)
    lines += ["", f"{len(merged.sources)} report(s) merged: " + ("FAILED" if merged.failed else "ok")]
    return "\n".join(lines) + "\n"


def _table(headers: list[str], rows: list[list[Any]], markdown: bool) -> list[str]:
    cells = [[str(cell) for cell in row] for row in rows]
    if markdown:
        return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + \
            ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)] if cells else \
        [len(h) for h in headers]
    out = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return out
