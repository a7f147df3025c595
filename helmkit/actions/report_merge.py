"""``helmkit report merge A.json B.json …``: one report from the reports of a sharded run.

Drift reports (``helmkit drift --shard I/N --report json=FILE``) merge into the report a single
run of the whole fleet would have written, in any of drift's five formats (``--report
FORMAT=FILE``, ``-o``), with ``--baseline`` applied to the merged findings exactly as in a single
run (:mod:`helmkit.plan.shardreport`). A missing shard makes its clusters *unchecked* (never
resolved): an error line names it and the merge exits 1.

Sync reports (``helmkit sync --shard I/N --wave W --report FILE``, one per job) merge into one
closing summary: every cluster's counts, the failed and skipped releases, and every wave's gates
(:mod:`helmkit.plan.syncmerge`), as a table, JSON or Markdown.

Exit code (drift): as ``helmkit drift``: 1 when a shard is missing, a cluster was unreachable or
a release could not be read; else 2 when ``--fail-on`` says so; else 0. Sync: 1 when a merged sync
failed (its exit code, a failed gate), else 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helmkit.actions.drift import RENDERERS, ReportTarget, write_report
from helmkit.context import Context
from helmkit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, InputError, Location, Problem
from helmkit.output.drift_table import render_table
from helmkit.plan.baseline import FailOn, apply_baseline, fails, read_baseline
from helmkit.plan.drift import REPORT_FORMAT
from helmkit.plan.shardreport import merge_reports, read_shard
from helmkit.plan.syncmerge import SYNC_FORMATS, is_sync_report, merge_sync_reports, render_sync


@dataclass(frozen=True)
class MergeOptions:
    files: tuple[Path, ...]
    reports: tuple[ReportTarget, ...] = (ReportTarget("table"),)
    baseline: Path | None = None
    fail_on: FailOn = "any"


def merge(ctx: Context, options: MergeOptions) -> int:
    """Read every file, merge, write every report; return the exit code."""
    if not options.files:
        raise InputError(Problem("no reports to merge", Location("report merge"),
                                 "give the JSON reports of every shard, e.g. shards/*.json"))
    docs = [(str(path), _read(path)) for path in options.files]
    if all(is_sync_report(doc) for _, doc in docs):
        return _merge_sync(ctx, docs, options)
    for source, doc in docs:
        if is_sync_report(doc) or not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT:
            raise InputError(Problem(f"not a shard's drift report ({REPORT_FORMAT}) like the others", Location(source),
                                     "merge drift reports with drift reports, sync reports with sync reports"))
    baseline = read_baseline(options.baseline) if options.baseline is not None else None
    merged = merge_reports([read_shard(source, doc) for source, doc in docs])
    report = merged.report
    if baseline is not None:
        report = apply_baseline(report, baseline, source=str(options.baseline))
    report = report.mask(ctx.masker.mask)
    count = merged.count
    ctx.console.info(f"merged {len(docs)} of {count} shard(s)" + (
        f"; missing: {', '.join(f'{index}/{count}' for index in sorted(merged.missing))}" if merged.missing else ""))
    for target in options.reports:
        if target.fmt == "table" and target.path is None:
            text = ctx.masker.mask(render_table(report, width=ctx.console.out_width))
        else:
            text = ctx.masker.mask(RENDERERS[target.fmt](report))
        _emit(ctx, target, text)
    if report.errors or any(not c.reachable for c in report.clusters):
        return EXIT_ERROR
    return EXIT_CHANGES if fails(report, options.fail_on) else EXIT_OK


def _merge_sync(ctx: Context, docs: list[tuple[str, Any]], options: MergeOptions) -> int:
    if options.baseline is not None:
        raise InputError(Problem("--baseline is for drift reports", Location("--baseline")))
    for target in options.reports:
        if target.fmt not in SYNC_FORMATS:
            raise InputError(Problem(f"sync reports merge into {', '.join(SYNC_FORMATS)}, not {target.fmt}",
                                     Location("--report" if target.path is not None else "-o")))
    merged = merge_sync_reports(docs)
    for target in options.reports:
        _emit(ctx, target, ctx.masker.mask(render_sync(merged, target.fmt)))
    return EXIT_ERROR if merged.failed else EXIT_OK


def _emit(ctx: Context, target: ReportTarget, text: str) -> None:
    if target.path is None:
        ctx.console.print(text.rstrip("\n"))
    else:
        write_report(target.path, text)
        ctx.console.info(f"wrote {target.fmt} report to {target.path}")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(Problem(f"cannot read the report: {exc.strerror}", Location(str(path)))) from None
    except ValueError:
        raise InputError(Problem("the report is not JSON", Location(str(path)),
                                 "pass the JSON reports of the shards (--report json=FILE)")) from None
