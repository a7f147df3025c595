"""`helmkit drift`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions.drift import FORMATS, DriftOptions, ReportTarget, drift
from helmkit.cli.completion import complete_env
from helmkit.cli.options import kubeconfig_option, selector_option, shard_option
from helmkit.context import Context


def _report(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[ReportTarget, ...]:
    targets = []
    for item in value:
        fmt, sep, path = item.partition("=")
        if not sep or fmt not in FORMATS or not path:
            raise click.BadParameter(f"{item!r}: expected FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}")
        targets.append(ReportTarget(fmt, Path(path)))
    return tuple(targets)


def _output(ctx: click.Context, param: click.Parameter, value: str | None) -> str | Path | None:
    """``--output FORMAT`` is the format; ``--output FILE`` (before -o meant the format) is a file."""
    if value is None or value in FORMATS:
        return value
    click.echo(f"warning: --output {value}: --output is the report format now (as -o); "
               f"write `--output-file {value}` for a file", err=True)
    return Path(value)


@click.command("drift")
@click.option("--env", "-e", "envs", multiple=True, metavar="ENV", help="Environment to scan (repeatable).",
              shell_complete=complete_env)
@click.option("--all", "all_envs", is_flag=True, help="Scan every environment.")
@selector_option()
@click.option("-o", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Format of the report on stdout (or in --output-file).")
@click.option("--output", "output", metavar="FORMAT", callback=_output,
              help="The same as -o (--output FILE, the old spelling of --output-file, still works).")
@click.option("--output-file", "output_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the -o report to FILE instead of stdout.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT=FILE", callback=_report,
              help=f"Also write a report (repeatable; FORMAT: {', '.join(FORMATS)}), e.g. --report json=drift.json.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A JSON report of an earlier run: mark findings new, still present or resolved.")
@click.option("--fail-on", "fail_on", type=click.Choice(("new", "any")), default="any", show_default=True,
              help="Exit 2 on any finding, or only on findings not in the baseline.")
@kubeconfig_option()
@click.option("--concurrency", type=click.IntRange(min=1), help="helm template processes in parallel.")
@shard_option()
@click.pass_obj
def command(ctx: Context, *, envs: tuple[str, ...], all_envs: bool, selector: str | None, fmt: str,
            output: str | Path | None, output_file: Path | None, reports: tuple[ReportTarget, ...],
            baseline: Path | None, fail_on: str, kubeconfig: Path | None, concurrency: int | None) -> int:
    """Report drift between git, Helm and the live clusters; one scan, any number of reports.

    \b
    Exit codes: 0 no drift, 2 drift (see --fail-on), 1 error (an unreachable cluster, a release
    that cannot be rendered: the reports are still written).
    \b
    Examples:
      helmkit drift --env prod
      helmkit drift --env prod -o json --output-file drift.json
      helmkit drift --all --report json=drift.json --report html=drift.html \\
          --baseline last/drift.json --fail-on new
    """
    if kubeconfig is not None:
        ctx.kubeconfig = kubeconfig
    if isinstance(output, str):
        fmt = output
    elif output is not None:
        output_file = output_file or output
    targets = (ReportTarget(fmt, output_file), *reports)
    return drift(ctx, DriftOptions(envs=envs, all_envs=all_envs, selector=selector, reports=targets,
                                   baseline=baseline, fail_on="new" if fail_on == "new" else "any",
                                   concurrency=concurrency))
