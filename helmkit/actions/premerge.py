"""Pre-merge checks of a pull request: ``validate --changed-since REF`` and ``diff --git-base REF``.

Both compare with the merge base of the given ref and the head (what a pull request shows),
never fetch, and need no cluster.

``validate --changed-since REF``: every file of the repository is loaded and checked (YAML,
schemas, references between files); then only the environments and releases the changed files can
reach (and the releases they need, so a `needs` cycle made by one file is found) are resolved; the
affected instances get the values-schema checks and are rendered with helm. The head is the
working tree (untracked files included).

``diff --git-base REF [--git-head REF]``: both revisions are written from git objects into temp
folders (the working tree is the head when ``--git-head`` is not given), the affected instances
are rendered on both sides (sharing the render cache), and their manifests compared object by
object with the diff model: secrets masked, YAML order and formatting never a change.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.actions.premerge_report import PremergeDiff, ReleaseDiff, render_report
from helmkit.actions.render import RenderResult, render_instances
from helmkit.actions.validate import check_values_schemas
from helmkit.adapters.cache import private_dir
from helmkit.adapters.gitrepo import Change, GitRepository, check_ref
from helmkit.adapters.tools import find_helm
from helmkit.context import Context
from helmkit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, HelmkitError, InputError, Problem, ToolError
from helmkit.model.affected import AffectedInstance, AffectedSet, affected_set
from helmkit.model.instance import ReleaseInstance
from helmkit.model.repository import load_repository
from helmkit.output.problems import render_problems
from helmkit.plan.diffmodel import diff_objects
from helmkit.plan.manifests import ObjectKey, parse_manifest

CHANGED_SINCE = "--changed-since"
GIT_BASE = "--git-base"
GIT_HEAD = "--git-head"


@dataclass
class ChangedSinceOptions:
    since: str
    fmt: str = "text"  # text, json, github
    render: bool = True


@dataclass
class ChangedValidation:
    base: str = ""
    changes: list[Change] = field(default_factory=list)
    affected: AffectedSet = field(default_factory=AffectedSet)
    total: int | None = None  # instances in the repository (None: only the reachable ones were resolved)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rendered: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        files = f"{len(self.changes)} changed file{'s' if len(self.changes) != 1 else ''} since {self.base[:12]}"
        count = len(self.affected.head_instances())
        if self.errors:
            text = f"invalid: {len(self.errors)} error{'s' if len(self.errors) != 1 else ''} ({files})"
        else:
            of = f" of {self.total}" if self.total is not None else ""
            text = f"valid: {count}{of} release instance{'s' if count != 1 else ''} affected by {files}"
            text += f", {self.rendered} rendered" if self.rendered is not None else ", not rendered"
        if self.warnings:
            text += f", {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        return text


def validate_changed(ctx: Context, options: ChangedSinceOptions) -> ChangedValidation:
    """Check the repository; values schemas and rendering for the affected instances only."""
    check_ref(options.since, CHANGED_SINCE)
    git = GitRepository(ctx.repo, ctx.runner)
    report = ChangedValidation()
    report.base = git.merge_base(options.since, None, base_option=CHANGED_SINCE, head_option="HEAD")
    report.changes = git.changed_paths(report.base)
    try:
        repo = load_repository(ctx.repo)
    except InputError as exc:
        report.errors.extend(exc.problems)
        return report
    report.affected = affected_set(report.changes, repo)
    head = report.affected.head
    if head is not None:
        report.total = len(head.instances) if head.complete else None
        report.errors.extend(head.problems)
        report.warnings.extend(head.warnings)
    instances = report.affected.head_instances()
    report.errors.extend(check_values_schemas(repo, instances))
    if options.render and not report.errors and instances:
        results = render_instances(ctx, instances, read_secrets=False)
        report.rendered = sum(1 for r in results if r.error is None)
        for result in results:
            if result.error is not None:
                report.errors.extend(render_problems_of(result))
    elif options.render and not report.errors:
        report.rendered = 0
    return report


def run_validate_changed(ctx: Context, options: ChangedSinceOptions) -> int:
    report = validate_changed(ctx, options)
    output = render_problems(report.errors, report.warnings, options.fmt)
    if output:
        ctx.console.print(output)
    for entry in report.affected.instances if ctx.verbose else []:
        ctx.console.info(f"affected: {entry.key} ({'; '.join(entry.reasons)})")
    (ctx.console.info if options.fmt == "json" else ctx.console.print)(report.summary())
    return EXIT_OK if report.ok else EXIT_ERROR


def render_problems_of(result: RenderResult) -> list[Problem]:
    instance, error = result.instance, result.error
    if error is None:
        return []
    if isinstance(error, InputError):
        return [Problem(p.message, p.location or instance.source, p.hint, p.pointer, p.layer) for p in error.problems]
    message = f"{instance.key}: rendering failed: {error.message}"
    if isinstance(error, ToolError) and error.stderr.strip():
        message += "\n" + "\n".join("  | " + line for line in error.stderr.strip().splitlines()[-10:])
    return [Problem(message, instance.source, error.hint)]


# -- diff --git-base ---------------------------------------------------------------------------


@dataclass
class GitDiffOptions:
    base: str
    head: str | None = None  # None: the working tree
    fmt: str = "text"  # text, json, markdown, github
    context: int = 3
    detailed_exitcode: bool = False
    max_chars: int = 60_000  # markdown size cap


def git_diff(ctx: Context, options: GitDiffOptions) -> PremergeDiff:
    """Render the affected instances at the merge base and at the head; compare them."""
    check_ref(options.base, GIT_BASE)
    if options.head is not None:
        check_ref(options.head, GIT_HEAD)
    git = GitRepository(ctx.repo, ctx.runner)
    base_sha = git.merge_base(options.base, options.head, base_option=GIT_BASE, head_option=GIT_HEAD)
    head_sha = git.resolve(options.head, GIT_HEAD) if options.head is not None else None
    changes = git.changed_paths(base_sha, head_sha)
    report = PremergeDiff(
        base=f"{base_sha[:12]} (merge base with {options.base})",
        head=f"{head_sha[:12]} ({options.head})" if head_sha and options.head else "the working tree",
        changed_files=[c.path for c in changes],
        context=options.context,
    )
    if not changes:
        return report
    helm = find_helm(ctx.repo, ctx.helm_option)
    with tempfile.TemporaryDirectory(prefix="helmkit-premerge-") as tmp:
        base_ctx = _revision_context(ctx, git, base_sha, Path(tmp) / "base", helm)
        head_ctx = ctx if head_sha is None else _revision_context(ctx, git, head_sha, Path(tmp) / "head", helm)
        try:
            base_repo = load_repository(base_ctx.repo)
        except InputError as exc:
            raise InputError([_at_base(p, base_sha) for p in exc.problems]) from None
        try:
            head_repo = load_repository(head_ctx.repo)
        except InputError as exc:
            report.errors.extend(exc.problems)
            return report
        affected = affected_set(changes, head_repo, base_repo)
        if affected.head is not None:
            report.errors.extend(affected.head.problems)
            report.warnings.extend(affected.head.warnings)
        if affected.base is not None:
            report.warnings.extend(_at_base(p, base_sha) for p in affected.base.problems)
        if report.errors:
            return report
        base_results = _by_key(render_instances(base_ctx, affected.base_instances(), read_secrets=False,
                                                announce=False))  # the head's capabilities line is the one shown
        head_results = _by_key(render_instances(head_ctx, affected.head_instances(), read_secrets=False))
        for entry in affected.instances:
            release = _release_diff(entry, base_results, head_results)
            report.releases.append(release)
            head_result = head_results.get(entry.head.key) if entry.head is not None else None
            if head_result is not None and head_result.error is not None:
                report.errors.extend(render_problems_of(head_result))
    return report


def run_git_diff(ctx: Context, options: GitDiffOptions) -> int:
    report = git_diff(ctx, options)
    ctx.console.print(render_report(report, options.fmt, max_chars=options.max_chars))
    if report.errors:
        if options.fmt == "markdown":
            ctx.console.info(render_problems(report.errors, report.warnings, "text"))
        return EXIT_ERROR
    if options.detailed_exitcode and report.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def _revision_context(ctx: Context, git: GitRepository, sha: str, dest: Path, helm: Path) -> Context:
    """A context over the files of revision ``sha``: same runner, masker, console, helm and cache."""
    materialized = git.materialize(sha, dest)
    for skipped in materialized.skipped:
        ctx.console.debug(f"revision {sha[:12]}: not written: {skipped}")
    state = dest / ".helmkit"
    state.mkdir()
    (state / "cache").symlink_to(private_dir(ctx.state_dir / "cache"), target_is_directory=True)
    (state / "state").symlink_to(ctx.state_dir / "state", target_is_directory=True)  # last-known capabilities
    revision = Context(repo=materialized.root, masker=ctx.masker, helm_option=str(helm),
                       kubeconfig=ctx.kubeconfig, concurrency=ctx.concurrency, verbose=ctx.verbose)
    revision.runner = ctx.runner
    revision.console = ctx.console
    return revision


def _at_base(problem: Problem, sha: str) -> Problem:
    return Problem(f"at the base revision {sha[:12]}: {problem.message}", problem.location, problem.hint,
                   problem.pointer, problem.layer)


def _by_key(results: list[RenderResult]) -> dict[str, RenderResult]:
    return {r.instance.key: r for r in results}


def _objects(result: RenderResult | None, instance: ReleaseInstance | None) -> dict[ObjectKey, dict[str, Any]]:
    if result is None or result.manifest is None or instance is None:
        return {}
    manifest = parse_manifest(result.manifest, instance.namespace, origin=f"helm template {instance.name}")
    bodies = manifest.bodies()
    for hook in manifest.hooks:
        bodies.setdefault(hook.key, hook.body)
    return bodies


def _release_diff(entry: AffectedInstance, base_results: dict[str, RenderResult],
                  head_results: dict[str, RenderResult]) -> ReleaseDiff:
    release = ReleaseDiff(entry.env, entry.cluster, entry.release, entry.kind, renamed_from=entry.renamed_from,
                          reasons=entry.reasons)
    base_result = base_results.get(entry.base.key) if entry.base is not None else None
    head_result = head_results.get(entry.head.key) if entry.head is not None else None
    for side, result in (("base", base_result), ("head", head_result)):
        if result is not None and result.error is not None:
            release.status = "error"
            release.error = f"cannot render at the {side}: {result.error.message}"
            return release
    try:
        old = _objects(base_result, entry.base)
        new = _objects(head_result, entry.head)
    except HelmkitError as exc:
        release.status, release.error = "error", exc.message
        return release
    release.changes = diff_objects(new, old)  # secrets were never read: references render as placeholders
    if release.status == "changed" and not release.changes:
        release.status = "unchanged"
    return release

