"""What a failed ``helmkit sync`` step left behind, and the steps that apply or create chart CRDs.


A failed helm step is judged from the release's **history**, read from the cluster right after
the failure (one list call of that release's records), never from helm's English -- helm 3 and
helm 4 word the same outcome differently:

- the newest record is a ``deployed`` rollback (``4 deployed Rollback to 2``): helm rolled it
  back cleanly; the release runs what it ran before;
- the newest record is a ``failed`` revision above the failed upgrade (helm's rollback record):
  "manual intervention required", naming both revisions;
- a failed install that helm uninstalled again leaves no record: nothing is left installed;
- a ``pending-*`` record, or a helm process killed by a signal: the release may be left pending;
  the reason names the exact ``helmkit sync ... --recover`` command.

The reason of every failed step carries helm's own error lines (:mod:`helmkit.adapters.helmerrors`),
masked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from helmkit.actions.crds import apply_crds, create_crds
from helmkit.adapters.helmerrors import error_lines
from helmkit.adapters.helmstorage import RELEASE_LABEL_SELECTOR, HelmRelease, RecordError, decode_storage_object
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Result
from helmkit.context import Context
from helmkit.errors import HelmkitError
from helmkit.plan.execute import StepOutcome
from helmkit.plan.rollout import Step, StepKind
from helmkit.plan.summary import recover_command

_ROLLED_BACK_TO = re.compile(r"^Rollback to (\d+)$")
HISTORY_KINDS = (StepKind.INSTALL, StepKind.UPGRADE, StepKind.REPAIR, StepKind.RECOVER)


@dataclass(frozen=True)
class Verdict:
    """What a failed step left: a sentence for a person, and whether the release may be pending."""

    text: str
    pending: bool = False


def judge(step: Step, records: Sequence[HelmRelease], *, before: int | None, atomic: bool,
          killed: bool) -> Verdict:
    """What a failed helm step left, from the release's records (oldest first) read after it."""
    latest = records[-1] if records else None
    history = f"see `helm history {step.release} -n {step.namespace}`"
    if latest is not None and (latest.pending or latest.status == "uninstalling"):
        return Verdict(f"the release is left {latest.status} at revision {latest.revision}: once no helm process "
                       f"works on it, run `{recover_command(step.key)}`", pending=True)
    if killed:
        left = f"revision {latest.revision} is {latest.status}" if latest is not None else "no release record is left"
        return Verdict(f"helm was killed mid-operation; {left} ({history})")
    if step.kind is StepKind.RECOVER:
        return Verdict(f"the recovery failed ({history})")
    if before is None:
        if latest is None or latest.status == "uninstalled":
            return Verdict("helm removed the failed install: nothing is left installed" if atomic
                           else "nothing is left installed")
        if atomic:
            return Verdict(f"manual intervention required: the install failed and helm could not remove it "
                           f"(revision {latest.revision} is {latest.status}; {history})")
        return Verdict(f"revision {latest.revision} is left {latest.status}; the next sync installs it again")
    if latest is None:
        return Verdict(f"manual intervention required: no release record is left ({history})")
    if latest.revision <= before:
        return Verdict(f"nothing was changed: revision {before} is still the current one")
    rolled_to = _ROLLED_BACK_TO.match(latest.description.strip())
    if latest.status == "deployed" and latest.revision > before + 1:
        target = rolled_to.group(1) if rolled_to else str(before)
        return Verdict(f"helm rolled it back: revision {latest.revision} runs revision {target} again")
    if latest.status == "deployed":
        return Verdict(f"revision {latest.revision} is deployed, but helm reported an error")
    if latest.revision > before + 1:
        return Verdict(f"manual intervention required: the upgrade to revision {before + 1} failed and helm's "
                       f"rollback to revision {before} failed too (revision {latest.revision} is {latest.status}; "
                       f"{history})")
    if atomic:
        return Verdict(f"manual intervention required: the upgrade to revision {latest.revision} failed and helm "
                       f"did not roll it back to revision {before} ({history})")
    return Verdict(f"revision {latest.revision} is left {latest.status} (atomic is off); the next sync upgrades "
                   "it again")


def failed_step(ctx: Context, step: Step, result: Result, what: str, *, before: int | None,
                context: str) -> StepOutcome:
    """The outcome of a helm step that failed: what it left (from the history) and helm's error lines."""
    error = ctx.runner.error(result, what)
    detail = error.render().removeprefix("error: ")
    verdict: Verdict | None = None
    if step.kind in HISTORY_KINDS:
        verdict = _verdict(ctx, step, context, before=before, killed=result.returncode < 0)
    first = f"{what} failed (exit {result.returncode})"
    reason = ctx.masker.mask("\n".join([f"{first}: {verdict.text}" if verdict else first,
                                        *error_lines(error.stderr)]))
    message = ctx.masker.mask((f"{verdict.text}\n" if verdict else "") + detail)
    return StepOutcome(False, message, reason=reason, pending=verdict.pending if verdict else False)


def _verdict(ctx: Context, step: Step, context: str, *, before: int | None, killed: bool) -> Verdict:
    atomic = step.instance.atomic if step.instance is not None else False
    try:
        records = release_history(ctx, context, step.release, step.namespace)
    except HelmkitError as exc:
        pending = f"; if it is pending-*, run `{recover_command(step.key)}`" if killed else ""
        return Verdict(f"could not read its release history to tell what helm left ({exc.message}): see "
                       f"`helm history {step.release} -n {step.namespace}`{pending}", pending=killed)
    return judge(step, records, before=before, atomic=atomic, killed=killed)


def release_history(ctx: Context, context: str, release: str, namespace: str) -> list[HelmRelease]:
    """One release's records (one list call, driver ``secret``), oldest first."""
    config = load_cluster_config(context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
    with KubeClient(config, timeout=15.0, retries=2) as client:
        objects = client.list("v1", "secrets", namespace=namespace,
                              label_selector=f"{RELEASE_LABEL_SELECTOR},name={release}")
    records: list[HelmRelease] = []
    for obj in objects:
        try:
            records.append(decode_storage_object(obj))
        except RecordError:
            continue
    return sorted(records, key=lambda r: r.revision)


def apply_crds_step(ctx: Context, step: Step, context: str) -> StepOutcome:
    """A ``crds`` step: server-side apply of the chart's CRDs through helmkit's Kubernetes client."""
    try:
        applied = apply_crds(ctx, context, step.crds)
    except HelmkitError as exc:
        text = ctx.masker.mask(exc.render().removeprefix("error: "))
        return StepOutcome(False, text, reason=f"applying the chart's CRDs failed: {text.splitlines()[0]}")
    return StepOutcome(True, f"applied {applied} CRD(s)")


def create_crds_step(ctx: Context, step: Step, context: str, encoded: dict[int, bytes]) -> StepOutcome:
    """Before an install (policy Create): create the chart's absent CRDs, as helm would, and wait for them."""
    try:
        created = create_crds(ctx, context, step.crds, encoded=encoded)
    except HelmkitError as exc:
        text = ctx.masker.mask(exc.render().removeprefix("error: "))
        return StepOutcome(False, text, reason=f"creating the chart's CRDs failed: {text.splitlines()[0]}")
    return StepOutcome(True, f"created {created} CRD(s)")
