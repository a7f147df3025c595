"""``helmkit drift``: one scan of the fleet, any number of reports, an exit code CI can use.

For each selected environment, :func:`helmkit.actions.livestate.assess` decides every release
(git vs Helm's record: spec drift, missing, unhealthy, orphan; unreachable clusters). Then, for
each reachable cluster in parallel, the live objects of the deployed releases are read with one
list call per kind (:mod:`helmkit.adapters.liveobjects`) and compared with Helm's record on the
fields the manifest sets (:mod:`helmkit.plan.livediff`, ignore rules from ``helmkit.yaml``).
:mod:`helmkit.plan.drift` turns all of that into findings; a baseline marks them new, present or
resolved (:mod:`helmkit.plan.baseline`). Every report of the run is rendered from that one
masked report and written atomically (temp file + rename).

A release whose rendered or deployed manifest cannot be read is an error of that release (its
template and line named); the scan of every other release goes on.

Exit code: 1 when a cluster was unreachable or a release could not be rendered or read (the scan
is incomplete; the reports are still written), else 2 when ``--fail-on`` says the drift fails the
run (``any``: any finding; ``new``: a finding not in the baseline), else 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helmkit.actions.diff import release_diff, release_error
from helmkit.actions.livestate import AssessedRelease, Assessment, AssessOptions, assess
from helmkit.actions.shards import with_shard_info
from helmkit.actions.unreachable import report_unreachable
from helmkit.adapters.cache import atomic_write
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.liveobjects import LiveObjects, read_live_objects
from helmkit.adapters.masking import Digest
from helmkit.context import Context
from helmkit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, HelmkitError, InputError, Location, Problem
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository
from helmkit.model.selectors import NoMatchingRelease, no_match_error
from helmkit.output.drift_html import render_html
from helmkit.output.drift_json import render_json
from helmkit.output.drift_junit import render_junit
from helmkit.output.drift_markdown import render_markdown
from helmkit.output.drift_table import render_table
from helmkit.plan.baseline import FailOn, apply_baseline, fails, read_baseline
from helmkit.plan.diffmodel import render_unified, to_json
from helmkit.plan.drift import ClusterScan, DriftReport, Finding, release_findings, unreachable_finding
from helmkit.plan.livediff import IgnoreRule, ReleaseLiveDiff, live_drift, parse_rules
from helmkit.plan.manifests import DocumentCache, ManifestObject, ObjectKey, parse_manifest
from helmkit.plan.status import Status

FORMATS = ("table", "json", "markdown", "junit", "html")
RENDERERS = {"table": render_table, "json": render_json, "markdown": render_markdown, "junit": render_junit,
             "html": render_html}
LIVE_STATUSES = (Status.IN_SYNC, Status.OUT_OF_SYNC)  # a deployed release whose objects Helm applied
CLUSTERS_AT_ONCE = 4  # clusters compared in parallel: their reads overlap, their memory adds up


@dataclass(frozen=True)
class ReportTarget:
    """One report of the run: a format, written to ``path`` (stdout when None)."""

    fmt: str
    path: Path | None = None


@dataclass(frozen=True)
class DriftOptions:
    envs: tuple[str, ...] = ()
    all_envs: bool = False
    selector: str | None = None
    reports: tuple[ReportTarget, ...] = (ReportTarget("table"),)
    baseline: Path | None = None
    fail_on: FailOn = "any"
    concurrency: int | None = None


def drift(ctx: Context, options: DriftOptions) -> int:
    """Scan, write every report, return the exit code."""
    repo = load_repository(ctx.repo)
    envs = _environments(sorted(repo.environments), options)
    baseline = read_baseline(options.baseline) if options.baseline is not None else None  # bad input: fail first
    report = scan(ctx, envs, selector=options.selector, concurrency=options.concurrency,
                  rules=parse_rules(repo.settings.ignore_differences),
                  diffs=any(target.fmt != "table" for target in options.reports))  # a table shows no diff
    report = with_shard_info(ctx, report, selector=options.selector)  # --shard I/N: for `helmkit report merge`
    if baseline is not None:
        report = apply_baseline(report, baseline, source=str(options.baseline))
    report = report.mask(ctx.masker.mask)
    for target in options.reports:
        if target.fmt == "table" and target.path is None:  # on a terminal: the summary column fits its width
            text = ctx.masker.mask(render_table(report, width=ctx.console.out_width))
        else:  # piped, or a file: nothing is shortened
            text = ctx.masker.mask(RENDERERS[target.fmt](report))
        if target.path is None:
            ctx.console.print(text.rstrip("\n"))
        else:
            write_report(target.path, text)
            ctx.console.info(f"wrote {target.fmt} report to {target.path}")
    if report.errors or any(not c.reachable for c in report.clusters):
        return EXIT_ERROR
    return EXIT_CHANGES if fails(report, options.fail_on) else EXIT_OK


def write_report(path: Path, text: str) -> None:
    """Temp file in the same folder, then rename: an interrupt never leaves a truncated report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise HelmkitError(f"cannot write report {path}: {exc.strerror}") from None


def scan(ctx: Context, envs: Sequence[str], *, selector: str | None = None, concurrency: int | None = None,
         rules: list[IgnoreRule] | None = None, diffs: bool = True) -> DriftReport:
    """Every finding of ``envs`` (no baseline, not yet masked); ``rules`` default to helmkit.yaml's.

    ``diffs=False`` leaves out the text and field changes of spec-drift findings (rendering them is
    the costly part of a big release's spec drift); kinds, ids and summaries are the same."""
    if rules is None:
        rules = parse_rules(load_repository(ctx.repo).settings.ignore_differences)
    findings: list[Finding] = []
    clusters: list[ClusterScan] = []
    errors: list[str] = []
    misses: list[NoMatchingRelease] = []
    checked: set[tuple[str, str, str]] = set()  # with -l: the releases looked at (a baseline's others: unchecked)
    for env in envs:
        try:
            assessment = assess(ctx, AssessOptions(env, selector=selector, concurrency=concurrency))
        except NoMatchingRelease as miss:  # fine in one environment of several, an error in all
            misses.append(miss)
            continue
        report_unreachable(ctx, assessment.unreachable)
        checked.update((i.env, i.cluster.name, i.name) for i in assessment.instances)
        checked.update((r.state.env, r.state.cluster, r.state.name) for r in assessment.releases)
        env_findings, env_clusters = _env_findings(ctx, assessment, rules, errors, diffs)
        findings += env_findings
        clusters += env_clusters
        errors += [f"{instance.key}: {_message(error)}" for instance, error in assessment.render_errors]
        errors += [release_error(item) for item in assessment.releases if item.state.status is Status.ERROR]
    if misses and len(misses) == len(envs):
        raise misses[0] if len(misses) == 1 else no_match_error(
            misses[0].selector, [labels for miss in misses for labels in miss.labels],
            "environments " + ", ".join(f"`{env}`" for env in envs))
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return DriftReport(list(envs), clusters, findings, sorted(errors), now,
                       checked=frozenset(checked) if selector else None)


def _env_findings(ctx: Context, assessment: Assessment, rules: list[IgnoreRule],
                  errors: list[str], diffs: bool) -> tuple[list[Finding], list[ClusterScan]]:
    """Cluster by cluster, a few at a time: parse that cluster's deployed manifests, list its live
    objects, compare, and keep only the findings. Live objects of a cluster are dropped when it is
    done, so memory grows with the largest cluster, not with the fleet; a document read once (the
    same chart on many clusters) is shared through the scan's :class:`DocumentCache`. A release that
    cannot be read is added to ``errors`` and the others go on."""
    by_cluster: dict[str, list[AssessedRelease]] = {}
    for item in assessment.releases:
        by_cluster.setdefault(item.state.cluster, []).append(item)
    cache = DocumentCache()

    def one(cluster: Cluster) -> tuple[list[Finding], ClusterScan]:
        return _cluster_findings(ctx, assessment, cluster, by_cluster.get(cluster.name, []), rules=rules,
                                 diffs=diffs, cache=cache, errors=errors)

    if not assessment.clusters:
        return [], []
    workers = min(CLUSTERS_AT_ONCE, len(assessment.clusters))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="helmkit-drift") as pool:
        done = list(pool.map(one, assessment.clusters))
    return [f for findings, _ in done for f in findings], [scan for _, scan in done]


def _cluster_findings(ctx: Context, assessment: Assessment, cluster: Cluster, items: list[AssessedRelease], *,
                      rules: list[IgnoreRule], diffs: bool, cache: DocumentCache,
                      errors: list[str]) -> tuple[list[Finding], ClusterScan]:
    env, gathered = assessment.env, assessment.live[cluster.name]
    error: HelmkitError | None = gathered.error
    objects: LiveObjects | None = None
    deployed: list[list[ManifestObject]] = []
    if error is None:
        deployed = [_deployed_or_error(item, cache, errors) for item in items]  # parsed once per release
        kinds = {(obj.api_version, obj.key.kind) for objs in deployed for obj in objs}
        read = _read_cluster(ctx, cluster, kinds)
        if isinstance(read, HelmkitError):
            error = read
        else:
            objects = read
    if error is not None or objects is None:
        message = _message(error) if error is not None else "not read"
        return ([unreachable_finding(env, cluster.name, message)],
                ClusterScan(env, cluster.name, False, 0, gathered.api_calls, message))
    findings: list[Finding] = []
    for item, objs in zip(items, deployed, strict=True):
        try:
            findings += _release_findings(item, objs, objects, rules=rules, diffs=diffs, digest=ctx.masker.digest)
        except InputError as exc:
            errors.append(release_error(item, exc))
    names = tuple(sorted({item.state.name for item in items}))
    return findings, ClusterScan(env, cluster.name, True, len(items), gathered.api_calls + objects.api_calls,
                                 release_names=names)


def _read_cluster(ctx: Context, cluster: Cluster, kinds: set[tuple[str, str]]) -> LiveObjects | HelmkitError:
    try:
        config = load_cluster_config(cluster.context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
        with KubeClient(config, timeout=15.0, retries=2) as client:
            return read_live_objects(client, kinds)
    except HelmkitError as exc:
        return exc


def _deployed_objects(item: AssessedRelease, cache: DocumentCache) -> list[ManifestObject] | InputError:
    if item.state.status not in LIVE_STATUSES or item.deployed is None or not item.deployed.manifest:
        return []
    try:
        manifest = parse_manifest(item.deployed.manifest, item.state.namespace, origin="deployed manifest",
                                  cache=cache)
    except InputError as exc:
        return exc
    return list(manifest.objects.values())


def _deployed_or_error(item: AssessedRelease, cache: DocumentCache, errors: list[str]) -> list[ManifestObject]:
    parsed = _deployed_objects(item, cache)
    if isinstance(parsed, InputError):
        errors.append(release_error(item, parsed) + " (live drift not checked)")
        return []
    return parsed


def _release_findings(item: AssessedRelease, deployed: list[ManifestObject], objects: LiveObjects, *,
                      rules: list[IgnoreRule], diffs: bool, digest: Digest) -> list[Finding]:
    state = item.state
    spec_diff, spec_changes = "", []
    if diffs and state.status in (Status.OUT_OF_SYNC, Status.DISABLED_INSTALLED):
        detail = release_diff(item, digest=digest)
        spec_diff = (detail.values_diff + render_unified(detail.changes)).strip("\n")
        spec_changes = to_json(detail.changes)
    live: ReleaseLiveDiff | None = None
    if deployed:
        expected = {_rekey(obj.key, objects): (obj.api_version, obj.body) for obj in deployed}
        present: dict[ObjectKey, dict[str, Any]] = {}
        for key, (api_version, _) in expected.items():
            found = objects.get(api_version, key.kind, key.namespace, key.name)
            if found is not None:
                present[key] = found
        if item.instance is not None:
            rules = rules + [IgnoreRule.from_mapping(rule, release=state.name)
                             for rule in item.instance.ignore_differences]
        live = live_drift(state.name, state.namespace, expected, present, rules=rules,
                          secret_values=list(item.secrets.values()), digest=digest)
    return release_findings(state, spec_diff=spec_diff, spec_changes=spec_changes, live=live)


def _rekey(key: ObjectKey, objects: LiveObjects) -> ObjectKey:
    """A custom kind that discovery says is cluster-scoped has no namespace."""
    if key.namespace and (key.group, key.kind) in objects.cluster_scoped:
        return ObjectKey(key.group, key.kind, "", key.name)
    return key


def _environments(known: list[str], options: DriftOptions) -> list[str]:
    if not options.all_envs and not options.envs:
        raise InputError(Problem("no environment selected", Location("--env"),
                                 "give --env ENV (repeatable) or --all"))
    if options.all_envs:
        if not known:
            raise InputError(Problem("no environments: add environments/<env>.yaml", Location("--all")))
        return known
    for env in options.envs:
        if env not in known:
            raise InputError(Problem(f"unknown environment `{env}`", Location("--env"),
                                     f"known environments: {', '.join(known) or 'none'}"))
    return list(dict.fromkeys(options.envs))


def _message(error: HelmkitError) -> str:
    return error.render().removeprefix("error: ")
