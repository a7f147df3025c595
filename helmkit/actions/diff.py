"""``helmkit diff``: what sync would change, per cluster and release.

The decision per release comes from :func:`helmkit.actions.livestate.assess`; this module only
works out the details a person reads: objects (compared as parsed data by
:mod:`helmkit.plan.diffmodel`), hooks, the chart and the values, deployed vs desired. CRDs of a
chart's ``crds/`` folder are left out of that comparison (helm installs them once and never
upgrades them); they are compared with the live CRDs under the release's ``crds`` policy
(:mod:`helmkit.actions.crds`): ``CreateReplace`` changes are what sync will apply, ``Create``
changes are shown as not applied.

Live drift (:mod:`helmkit.actions.livecheck`): a release in sync with its record whose live
objects differ is ``live-drift``, and the diff lists per object and field what sync's ``repair``
step restores (``--no-repair`` leaves live objects unread).

Secrets: the data of every Kubernetes Secret, resolved secret references and the last-applied
annotation are masked with digest masks (a change shows as a different mask) unless
``--show-secrets``. The values diff masks each secret reference path on both sides the same way.

A release whose rendered or deployed manifest cannot be read (:mod:`helmkit.plan.goyaml` reads
YAML as helm does) is an error of that release, named with its template and line; the others go on.

Exit code: 1 when a cluster is unreachable or a release cannot be rendered or read (the other
clusters and releases are still shown), else 2 with ``--detailed-exitcode`` when anything differs, else 0.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from helmkit.actions.livecheck import LiveChecks, check_live, live_lines
from helmkit.actions.livestate import AssessedRelease, Assessment, AssessOptions, SecretValues, assess
from helmkit.adapters.masking import Digest, MaskKey
from helmkit.context import Context
from helmkit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, HelmkitError, InputError
from helmkit.output.diff_view import (
    DiffReport,
    ReleaseDiff,
    render_github,
    render_json,
    render_markdown,
    render_text,
)
from helmkit.plan.diffmodel import DEFAULT_CONTEXT, diff_objects, sorted_yaml, unified_text
from helmkit.plan.manifests import Manifest, ObjectKey, differing_documents, parse_documents, parse_manifest
from helmkit.plan.status import Status


@dataclass(frozen=True)
class DiffOptions:
    env: str
    cluster: str | None = None
    selector: str | None = None
    detailed_exitcode: bool = False
    fmt: str = "text"
    context: int = DEFAULT_CONTEXT
    show_secrets: bool = False
    set_values: tuple[str, ...] = ()
    concurrency: int | None = None
    repair: bool = True  # compare the live objects of in-sync releases (what sync --no-repair skips)


def diff(ctx: Context, options: DiffOptions) -> int:
    """Print the diff of an environment; return the exit code."""
    assessment = assess(ctx, AssessOptions(options.env, options.cluster, options.selector, options.set_values,
                                           options.concurrency, decode_settled=False))
    checks = check_live(ctx, assessment, repair=options.repair)
    for cluster, message in sorted(checks.errors.items()):
        ctx.console.info(f"warning: cluster {cluster}: live objects could not be read: {message}")
    report = build_report(assessment, show_secrets=options.show_secrets, checks=checks,
                          digest=ctx.masker.digest)
    if options.fmt == "json":
        text = render_json(report)
    elif options.fmt == "markdown":
        text = render_markdown(report, context=options.context)
    elif options.fmt == "github":
        text = render_github(report, context=options.context)
    else:
        text = render_text(report, context=options.context, style=ctx.console.style)
    if options.show_secrets:
        ctx.console.out.write(text)  # asked for: the masker is bypassed on purpose
        ctx.console.out.flush()
    else:
        ctx.console.print(text.rstrip("\n"))
    if report.unreachable or report.errors:
        return EXIT_ERROR
    if options.detailed_exitcode and report.differs:
        return EXIT_CHANGES
    return EXIT_OK


def build_report(assessment: Assessment, *, show_secrets: bool = False, checks: LiveChecks | None = None,
                 digest: Digest | None = None) -> DiffReport:
    """The report of every release; one that cannot be read is an error of its own, the rest go on."""
    digest = digest or MaskKey.ephemeral().digest
    releases: list[ReleaseDiff] = []
    errors = [f"{instance.key}: {_message(error)}" for instance, error in assessment.render_errors]
    for item in assessment.releases:
        try:
            releases.append(release_diff(item, show_secrets=show_secrets, digest=digest))
        except InputError as exc:
            errors.append(release_error(item, exc))
            continue
        if item.state.status is Status.ERROR:
            errors.append(release_error(item))
            continue
        check = checks.releases.get(item.state.key) if checks is not None else None
        if check is not None:
            shown = releases[-1]
            shown.live, shown.crds = live_lines(check)
            shown.live_summary = check.summary()
    unreachable = {name: _message(error) for name, error in assessment.unreachable.items()}
    return DiffReport(assessment.env, releases, unreachable, errors)


def release_error(item: AssessedRelease, error: InputError | None = None) -> str:
    """``env/cluster/release: cannot read its manifest: template:line: problem; ...``."""
    problems = [f"{p.location}: {p.message}" if p.location else p.message
                for p in error.problems] if error is not None else list(item.state.reasons)
    return f"{item.state.key}: cannot read its manifest: " + "; ".join(problems)


def release_diff(item: AssessedRelease, *, show_secrets: bool = False, digest: Digest | None = None) -> ReleaseDiff:
    """The details of one release; ``digest`` makes the masks (the run's keyed digest)."""
    digest = digest or MaskKey.ephemeral().digest
    state = item.state
    if state.status is Status.ERROR:  # reported as an error of this release (build_report)
        return ReleaseDiff(state.cluster, state.name, state.namespace, state.status.value, False, state.reasons)
    result = ReleaseDiff(state.cluster, state.name, state.namespace, state.status.value, item.differs,
                         state.reasons, generated=generated_fields(item))
    if not item.differs:
        return result
    secret_values = [] if show_secrets else list(item.secrets.values())
    wanted = item.desired_manifest if state.status not in (Status.ORPHAN, Status.DISABLED_INSTALLED) else None
    record = item.deployed if state.status is not Status.NOT_INSTALLED else None  # e.g. an uninstalled record
    desired, deployed = _changed_parts(wanted, record.manifest if record else None, state.namespace)
    result.changes = diff_objects(_release_objects(desired), _release_objects(deployed), secret_values=secret_values,
                                  mask=not show_secrets, generated=item.generated, digest=digest)
    deployed_hooks = Manifest()
    if record is not None:
        for hook in record.hooks:
            deployed_hooks.hooks += _parse(hook.manifest, state.namespace, "deployed hook").hooks
    result.hook_changes = diff_objects(_hooks(desired), _hooks(deployed_hooks), secret_values=secret_values,
                                       mask=not show_secrets, generated=item.generated, digest=digest)
    if record is not None and item.chart_name is not None and wanted is not None:
        before = f"{record.chart_name} {record.chart_version}"
        after = f"{item.chart_name} {item.chart_version or ''}".strip()
        if before != after:
            result.chart = (before, after)
    if wanted is not None and item.instance is not None:
        result.values_diff = values_diff(record.values if record else {}, item.instance.values,
                                         item.secrets, show_secrets=show_secrets, digest=digest)
    return result


def generated_fields(item: AssessedRelease) -> tuple[str, ...]:
    """The fields the release's chart generates on every render, as ``apiVersion/Kind ns/name /pointer``."""
    if item.deployed is None or item.instance is None or not item.instance.enabled:
        return ()
    return tuple(f"{'v1' if not key.group else key.group}/{key.kind} {f'{key.namespace}/' if key.namespace else ''}"
                 f"{key.name} {pointer}" for key in sorted(item.generated) for pointer in sorted(item.generated[key]))


def values_diff(deployed: dict[str, Any], desired: dict[str, Any], secrets: SecretValues, *,
                show_secrets: bool = False, digest: Digest | None = None) -> str:
    """Unified diff of the user values; each secret reference path masked on both sides."""
    digest_mask = digest or MaskKey.ephemeral().digest
    old, new = copy.deepcopy(deployed), copy.deepcopy(desired)
    for path, value in secrets.items():
        _set_path(new, path, value if show_secrets else digest_mask(value))
        if not show_secrets:
            current = _get_path(old, path)
            if current is not None:
                _set_path(old, path, digest_mask(str(current)))
    if old == new:
        return ""
    return unified_text(sorted_yaml(old) if old else "", sorted_yaml(new) if new else "",
                        fromfile="deployed values", tofile="desired values")


def _parse(text: str | None, namespace: str, origin: str) -> Manifest:
    return parse_manifest(text, namespace, origin=origin) if text else Manifest()


def _changed_parts(desired: str | None, deployed: str | None, namespace: str) -> tuple[Manifest, Manifest]:
    """The objects of the documents that differ in text (identical ones are equal objects), and
    the desired hooks; ``crds/`` documents are left out (helm installs them once, apart)."""
    wanted, have = differing_documents(desired or "", deployed or "")
    return (parse_documents(wanted, namespace, origin="rendered manifest"),
            parse_documents(have, namespace, origin="deployed manifest"))


def _release_objects(manifest: Manifest) -> dict[ObjectKey, dict[str, Any]]:
    return {key: obj.body for key, obj in manifest.objects.items()}


def _hooks(manifest: Manifest) -> dict[ObjectKey, dict[str, Any]]:
    return {hook.key: hook.body for hook in manifest.hooks}


def _get_path(node: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        found = (isinstance(node, dict) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node))
        if found:
            node = node[key]
        else:
            return None
    return node


def _set_path(node: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(key, {})
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
        return
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        node[last] = value


def _message(error: HelmkitError) -> str:
    return error.render().removeprefix("error: ")
