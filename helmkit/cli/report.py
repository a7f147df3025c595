"""`helmkit report merge`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions.drift import FORMATS, ReportTarget
from helmkit.actions.report_merge import MergeOptions, merge
from helmkit.cli.drift import _report
from helmkit.context import Context


@click.group("report")
def command() -> None:
    """Work with the JSON reports of drift and sync runs."""


@command.command("merge")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Format of the merged report on stdout (or in --output-file).")
@click.option("--output-file", "output_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the -o report to FILE instead of stdout.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT=FILE", callback=_report,
              help=f"Also write a report (repeatable; FORMAT: {', '.join(FORMATS)}), e.g. --report html=drift.html.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A JSON drift report of an earlier run: mark merged findings new, still present or resolved.")
@click.option("--fail-on", "fail_on", type=click.Choice(("new", "any")), default="any", show_default=True,
              help="Exit 2 on any finding, or only on findings not in the baseline.")
@click.pass_obj
def merge_command(ctx: Context, *, files: tuple[Path, ...], fmt: str, output_file: Path | None,
                  reports: tuple[ReportTarget, ...], baseline: Path | None, fail_on: str) -> int:
    """Merge the JSON reports of every shard into one report (drift: all five formats; sync: a summary).

    \b
    Exit codes (drift) as `helmkit drift`: 0 no drift, 2 drift, 1 error, a shard missing included.
    \b
    Examples:
      helmkit report merge shards/drift-*.json --report json=drift.json --report html=drift.html \\
          --baseline last/drift.json --fail-on new
      helmkit report merge sync-*.json -o markdown >> "$GITHUB_STEP_SUMMARY"
    """
    targets = (ReportTarget(fmt, output_file), *reports)
    return merge(ctx, MergeOptions(files, targets, baseline, "new" if fail_on == "new" else "any"))
