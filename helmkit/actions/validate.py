"""``helmkit validate``: everything that can be checked without a cluster.

YAML hardening, schemas, references between files, paths inside the repository, names,
semver constraints and `needs` graphs (all in :mod:`helmkit.model`), then each chart's
``values.schema.json`` against the effective values, then rendering every instance with helm
(when the static checks pass and ``--no-render`` is not given). All problems of all
environments are reported together; the exit code is 0 when valid, 1 when not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.context import Context
from helmkit.errors import EXIT_ERROR, EXIT_OK, HelmkitError, InputError, Problem, ToolError
from helmkit.model.charts import LocalChart, read_local_chart
from helmkit.model.gates import gates_of
from helmkit.model.instance import Origin, ReleaseInstance
from helmkit.model.layering import coalesce, merge, record, without_nulls
from helmkit.model.repository import Repository, read_repository
from helmkit.model.resolve import environment_of, resolve_environment, unique_problems
from helmkit.model.secrets import apply_secrets, placeholder_secrets
from helmkit.model.yamlfile import Path_
from helmkit.output.problems import render_problems


@dataclass
class ValidateOptions:
    envs: list[str] = field(default_factory=list)  # empty: every environment
    fmt: str = "text"
    render: bool = True
    set_values: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    envs: list[str] = field(default_factory=list)
    instances: list[ReleaseInstance] = field(default_factory=list)
    rendered: int | None = None  # None: rendering not run
    render_note: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(ctx: Context, options: ValidateOptions) -> ValidationReport:
    """Run every check; return all problems (never raises for bad input)."""
    report = ValidationReport()
    repo, problems = read_repository(ctx.repo)
    report.errors.extend(problems)
    envs = options.envs or sorted(repo.environments)
    for env in envs:
        try:
            environment_of(repo, env)
            resolution = resolve_environment(repo, env, set_values=options.set_values)
        except InputError as exc:
            report.errors.extend(exc.problems)
            continue
        report.envs.append(env)
        report.errors.extend(resolution.problems)
        report.errors.extend(gates_of(repo, env)[1])
        report.warnings.extend(resolution.warnings)
        report.instances.extend(resolution.instances)
    report.errors.extend(check_values_schemas(repo, report.instances))
    report.errors = unique_problems(report.errors)
    report.warnings = unique_problems(report.warnings)
    if not options.render:
        report.render_note = "not rendered: --no-render"
    elif report.errors:
        report.render_note = "not rendered: fix the problems above first"
    else:
        _render(ctx, report)
    return report


def check_values_schemas(repo: Repository, instances: list[ReleaseInstance]) -> list[Problem]:
    """Effective values (chart defaults + layers) of every local chart with a values.schema.json."""
    charts: dict[Path, LocalChart | None] = {}
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for instance in instances:
        path = instance.chart.path
        if path is None:
            continue
        if path not in charts:
            charts[path] = _readable_chart(repo, path, problems)
        chart = charts[path]
        if chart is None:
            continue
        if chart.schema_problem is not None:
            problems.append(chart.schema_problem)
            continue
        if chart.values_schema is None:
            continue
        given = instance.values  # a secret as its placeholder, typed as sops recorded it (an integer stays one)
        if instance.secrets:
            given = apply_secrets(given, placeholder_secrets(instance))
        values = without_nulls(coalesce(_defaults(chart), given))
        found = chart.values_schema.problems(values, _provenance_of(chart, instance), instance.key)
        for problem in found:
            key = (problem.message.split(": ", 1)[-1], str(problem.location))
            if key not in seen:
                seen.add(key)
                problems.append(problem)
    return problems


def _readable_chart(repo: Repository, path: Path, problems: list[Problem]) -> LocalChart | None:
    """The chart with its values.yaml, or None; a values.yaml that cannot be loaded is one more problem
    (an unreadable Chart.yaml is already a problem of the resolution)."""
    try:
        chart = read_local_chart(path, repo.display(path), defaults=False)
    except InputError:
        return None
    try:
        _ = chart.defaults
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    return chart


def effective_values(chart: LocalChart | None, instance: ReleaseInstance) -> tuple[dict[str, Any], dict[Path_, Origin]]:
    """Chart defaults with the instance's values over them, nulls removed (as Helm coalesces them)."""
    defaults, provenance = chart_defaults(chart)
    own = {k: v for k, v in instance.provenance.items() if not (k and k[0] == "$field")}
    merged = merge(defaults, instance.values, provenance, lambda p: own.get(p) or _nearest(own, p))
    return without_nulls(merged), provenance


def chart_defaults(chart: LocalChart | None) -> tuple[dict[str, Any], dict[Path_, Origin]]:
    """The chart's ``values.yaml`` (empty without one) and where each value of it was written."""
    provenance: dict[Path_, Origin] = {}
    doc = chart.defaults if chart is not None else None
    if doc is None or not isinstance(doc.data, dict):
        return {}, provenance
    record(provenance, (), doc.data, lambda p: Origin("chart", doc.location(p)))
    return doc.data, provenance


def _defaults(chart: LocalChart) -> dict[str, Any]:
    doc = chart.defaults
    return doc.data if doc is not None and isinstance(doc.data, dict) else {}


def _provenance_of(chart: LocalChart, instance: ReleaseInstance) -> Callable[[], dict[Path_, Origin]]:
    def provenance() -> dict[Path_, Origin]:
        return effective_values(chart, instance)[1]

    return provenance


def _nearest(provenance: dict[Path_, Origin], path: Path_) -> Origin:
    probe = path
    while probe:
        probe = probe[:-1]
        if probe in provenance:
            return provenance[probe]
    size = len(path)
    below = [o for k, o in provenance.items() if k[:size] == path]
    return below[0] if below else Origin("release")


def _render(ctx: Context, report: ValidationReport) -> None:
    try:
        from helmkit.actions.render import render_instances
    except ImportError:
        report.render_note = "not rendered: rendering is not available in this installation"
        return
    results = render_instances(ctx, report.instances, read_secrets=False)
    report.rendered = 0
    for result in results:
        if result.error is None:
            report.rendered += 1
            continue
        report.errors.extend(_render_problems(result.instance, result.error))


def _render_problems(instance: ReleaseInstance, error: HelmkitError) -> list[Problem]:
    if isinstance(error, InputError):
        return [
            Problem(p.message, p.location or instance.source, p.hint, p.pointer, p.layer)
            for p in error.problems
        ]
    message = f"{instance.key}: rendering failed: {error.message}"
    if isinstance(error, ToolError) and error.stderr.strip():
        message += "\n" + "\n".join("  | " + line for line in error.stderr.strip().splitlines()[-10:])
    return [Problem(message, instance.source, error.hint)]


def summary(report: ValidationReport) -> str:
    if report.errors:
        text = f"invalid: {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}"
    else:
        text = f"valid: {len(report.instances)} release instances in {len(report.envs)} environments"
        text += f", {report.rendered} rendered" if report.rendered is not None else ""
    if report.warnings:
        text += f", {len(report.warnings)} warning{'s' if len(report.warnings) != 1 else ''}"
    if report.render_note and report.rendered is None:
        text += f" ({report.render_note})"
    return text


def run_validate(ctx: Context, options: ValidateOptions) -> int:
    """Validate, print the problems in the chosen format, and return the exit code."""
    report = validate(ctx, options)
    output = render_problems(report.errors, report.warnings, options.fmt)
    if output:
        ctx.console.print(output)
    if options.fmt == "json":
        ctx.console.info(summary(report))
    else:
        ctx.console.print(summary(report))
    return EXIT_OK if report.ok else EXIT_ERROR
