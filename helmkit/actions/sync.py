"""``helmkit sync``: decide, print the plan, then act on what is missing or out of sync.

1. Lock the environment in each cluster it touches (:mod:`helmkit.actions.lock_env`; not for
   ``--dry-run``), so a second sync of the same environment fails fast naming the holder.
2. Assess (:func:`helmkit.actions.livestate.assess`): render, read every release record, decide.
   A release that cannot be rendered stops the sync before anything is applied. The releases of
   an unreachable cluster become ``blocked`` steps: they count as failed, the cluster's wave
   fails, later waves do not start, and the other clusters of the wave go on. Then the live
   objects of the releases that are in sync are compared with their records
   (:func:`helmkit.actions.livecheck.check_live`): live drift becomes a ``repair`` step, unless
   ``--no-repair``. A cluster whose live objects cannot be read repairs nothing (a warning says so).
3. Build the plan (:func:`helmkit.plan.rollout.build_plan`) and print its summary; ``--dry-run``
   prints every step with its helm argv (values file as ``<values-file>``, secrets masked) and
   stops there.
4. Confirm: on a terminal sync shows the diff it is about to apply (as ``helmkit diff`` prints
   it, secrets masked) and asks before acting unless ``--yes``. Without a terminal (CI) it
   proceeds, as ``helmfile sync`` and ``argocd app sync`` do; ``helmkit diff`` is the preview.
5. Execute (:func:`helmkit.plan.execute.execute`). Each install/upgrade runs ``helm upgrade
   --install`` with the plan's argv: rollback on failure (``--atomic`` / ``--rollback-on-failure``),
   wait and timeout from the spec, helmkit's ownership labels, and the values -- secrets
   resolved -- on helm's stdin (``-f -``), never in a file. The values passed are exactly the
   instance's values, so the release record afterwards makes ``decide`` report in sync.
   After each wave that did not fail, its gates decide whether the next wave starts; a failed
   gate rolls the wave back (:mod:`helmkit.actions.gatesync`).
6. SIGINT/SIGTERM: no new release starts, running helm processes finish; a second signal
   terminates them. The summary says "interrupted", names the releases that may be left
   ``pending-*`` with the ``--recover`` command for each, and the exit code is 130.
7. A failed step says what it left, decided from the release's history, and helm's own error
   lines (:mod:`helmkit.actions.sync_steps`).

Exit codes: 0 everything deployed or unchanged, 1 any failure or skip, 130 interrupted.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from helmkit.actions.aftersync import AfterSync, KeepCluster
from helmkit.actions.diff import build_report
from helmkit.actions.gatesync import WaveGates, load_gate_policy
from helmkit.actions.gatesync import finish as finish_gates
from helmkit.actions.livecheck import LiveChecks, check_live
from helmkit.actions.livestate import Assessment, AssessOptions, SecretValues, assess
from helmkit.actions.lock_env import EnvironmentLock
from helmkit.actions.sync_steps import apply_crds_step, create_crds_step, failed_step
from helmkit.actions.unreachable import report_unreachable
from helmkit.actions.verdicts import keep_after_sync
from helmkit.adapters.helm import VALUES_STDIN, HelmClient, values_yaml
from helmkit.context import Context
from helmkit.errors import EXIT_ERROR, EXIT_OK, ClusterError, HelmkitError, InputError, Location, Problem
from helmkit.model.instance import Cluster, ReleaseInstance
from helmkit.model.repository import load_repository
from helmkit.model.resolve import environment_of, resolve_environment
from helmkit.model.secrets import apply_secrets
from helmkit.model.selectors import parse_selector
from helmkit.output.diff_view import DiffReport
from helmkit.output.diff_view import render_text as render_diff
from helmkit.output.gates_view import render_gate_plan, skip_warning
from helmkit.output.progress import Progress, render_plan_summary, render_total_time
from helmkit.plan.execute import AfterWave, RunResult, StepOutcome, execute
from helmkit.plan.rollout import ClusterPlan, Plan, PlanOptions, PlanProblem, Step, StepKind, Wave, build_plan
from helmkit.plan.summary import summarize

Confirm = Callable[[str], bool]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
TIMEOUT_MARGIN = 120.0
HELM_PER_CPU = 2  # helm processes at once per CPU, all clusters together (--concurrency is per cluster):
# helm is CPU-bound; 20 clusters of real charts on 2 CPUs took 139.8 s with 4 at once, 173.7 s with 8
HELM4_PER_CPU = 2.5  # helm 4 idles on its kstatus watches (after each hook's deletion and creation): CPUs were
# 90% busy with 4 at once, 95% with 5 (20 clusters of real charts on 2 CPUs)


@dataclass(frozen=True)
class SyncOptions:
    env: str
    cluster: str | None = None
    selector: str | None = None
    concurrency: int | None = None
    dry_run: bool = False
    prune: bool = False
    yes: bool = False
    break_lock: bool = False
    recover: bool = False
    adopt: bool = False
    repair: bool = True  # --no-repair: leave live drift of in-sync releases alone
    set_values: tuple[str, ...] = ()
    confirm: Confirm | None = None  # asks a person; None: never ask
    skip_gates: bool = False
    report: Path | None = None  # --report FILE: the summary and the gates' outcomes as JSON


def sync(ctx: Context, options: SyncOptions) -> int:
    """Sync an environment; return the exit code."""
    clusters = _target_clusters(ctx, options)
    if options.dry_run:
        return _sync_locked(ctx, options)
    with EnvironmentLock(ctx, options.env, clusters, kubeconfig=ctx.kubeconfig,
                         break_lock=options.break_lock) as lock:
        for broken in lock.broken:
            ctx.console.info(f"warning: broke the lock on {broken}")
        for expired in lock.expired:
            ctx.console.info(f"note: took over the expired lock on {expired}")
        return _sync_locked(ctx, options, not_locked=dict(lock.unreachable))


def _sync_locked(ctx: Context, options: SyncOptions, *, not_locked: dict[str, ClusterError] | None = None) -> int:
    policy = load_gate_policy(ctx, options.env)
    assessment = assess(ctx, AssessOptions(options.env, options.cluster, options.selector, options.set_values,
                                           options.concurrency, decode_settled=False))
    if assessment.render_errors:
        problems = [Problem(f"{instance.key}: {error.render().removeprefix('error: ')}")
                    for instance, error in assessment.render_errors]
        raise InputError(problems, hint="nothing was applied")
    unreachable = {**(not_locked or {}), **assessment.unreachable}
    report_unreachable(ctx, unreachable)  # once per cluster; its steps only say "cluster unreachable"
    if unreachable and len(unreachable) == len(assessment.clusters):
        ctx.console.info(f"{options.env}: nothing done: no cluster could be reached")
        return EXIT_ERROR
    checks = check_live(ctx, assessment, repair=options.repair)
    for cluster, message in sorted(checks.errors.items()):
        ctx.console.info(f"warning: cluster {cluster}: live objects could not be read, live drift is not repaired: "
                         f"{message}")
    plan = build_sync_plan(ctx, assessment, options, unreachable, checks)
    if options.dry_run:
        ctx.console.print(plan.render_text(ctx.masker).rstrip("\n"))
        if gate_plan := render_gate_plan(policy, plan):
            ctx.console.print(gate_plan)
        return EXIT_ERROR if plan.problems else EXIT_OK
    ask = plan.has_changes and not options.yes and options.confirm is not None and ctx.console.interactive
    if ask:  # as `terraform apply` shows its plan: the diff it is about to apply, then the question
        ctx.console.print(_preview(ctx, assessment, checks, prune=options.prune))
    ctx.console.print(render_plan_summary(plan))
    if options.skip_gates and policy.gates:
        ctx.console.info(skip_warning(policy, [wave.number for wave in plan.waves]))
    if ask and options.confirm is not None and not options.confirm("Apply this plan?"):
        ctx.console.info("nothing applied")
        return EXIT_ERROR
    stop = threading.Event()
    gates = WaveGates(ctx, policy, assessment, stop, skip=options.skip_gates)
    started = time.monotonic()
    crds = {key: [obj.body for obj in check.crds] for key, check in checks.releases.items()}

    def keep(keys: list[str], render: bool) -> int:
        return keep_after_sync(ctx, assessment, keys, crds, render=render)

    result = _execute(ctx, plan, assessment, options, stop=stop, after_wave=gates, after_cluster=keep)
    summary = summarize(plan, result)
    total = render_total_time(time.monotonic() - started)
    ctx.console.print(summary.render_text(ctx.masker).rstrip("\n") + "\n\n" + total)
    return finish_gates(ctx, gates, summary, result, options.report)


def _preview(ctx: Context, assessment: Assessment, checks: LiveChecks, *, prune: bool) -> str:
    """What ``helmkit diff`` shows for the releases this sync changes (secrets masked)."""
    report = build_report(assessment, checks=checks, digest=ctx.masker.digest)
    kept = [r for r in report.releases if prune or r.status not in ("orphan", "disabled-installed")]
    return render_diff(DiffReport(report.env, kept), style=ctx.console.style).rstrip("\n")


def build_sync_plan(ctx: Context, assessment: Assessment, options: SyncOptions,
                    unreachable: dict[str, ClusterError] | dict[str, HelmkitError],
                    checks: LiveChecks | None = None) -> Plan:
    helm = assessment.helm
    plan = build_plan(
        [item.state for item in assessment.releases], clusters=assessment.clusters,
        needs_levels=assessment.needs_levels(),
        options=PlanOptions(helm=helm, helm_major=helm.version().major, kubeconfig=ctx.kubeconfig,
                            prune=options.prune, recover=options.recover, adopt=options.adopt,
                            chart_paths=assessment.chart_paths,
                            crds=checks.chart_crds("CreateReplace") if checks is not None else {},
                            create_crds=checks.chart_crds("Create") if checks is not None else {},
                            client_side=frozenset(
                                item.state.key for item in assessment.releases if item.deployed is not None
                                and item.deployed.status != "uninstalled" and item.deployed.apply_method != "ssa")),
    )
    return _block_unreachable(plan, assessment, unreachable)


def _block_unreachable(plan: Plan, assessment: Assessment,
                       unreachable: dict[str, ClusterError] | dict[str, HelmkitError]) -> Plan:
    """Every enabled release of an unreachable cluster becomes a blocked step (failed, never run)."""
    if not unreachable:
        return plan
    problems = list(plan.problems)
    waves: list[Wave] = []
    for wave in plan.waves:
        clusters: list[ClusterPlan] = []
        for cluster_plan in wave.clusters:
            error = unreachable.get(cluster_plan.cluster)
            if error is None:
                clusters.append(cluster_plan)
                continue
            reason = "cluster unreachable"  # the cluster's error is printed once, not once per release
            steps = [Step(StepKind.BLOCKED, i.key, i.cluster.name, [], [], reason, i.name, i.namespace, i)
                     for i in assessment.instances if i.cluster.name == cluster_plan.cluster and i.enabled]
            problems.append(PlanProblem(f"{assessment.env}/{cluster_plan.cluster}", reason))
            clusters.append(ClusterPlan(cluster_plan.cluster, cluster_plan.context, [steps] if steps else []))
        waves.append(Wave(wave.number, clusters))
    return Plan(waves, problems, list(plan.notes))


def _execute(ctx: Context, plan: Plan, assessment: Assessment, options: SyncOptions, *, stop: threading.Event,
             after_wave: AfterWave, after_cluster: KeepCluster) -> RunResult:
    """Run the plan; ``after_cluster`` gets each cluster's deployed releases once its steps have ended."""
    secrets = {item.state.key: item.secrets for item in assessment.releases}
    revisions = {item.state.key: item.state.revision for item in assessment.releases}
    run_step = _StepRunner(ctx, assessment.helm, secrets, revisions, {c.name: c.context for c in assessment.clusters})
    concurrency = options.concurrency or ctx.concurrency
    per_cpu = HELM4_PER_CPU if assessment.helm.version().major >= 4 else HELM_PER_CPU
    with _signals_stop(ctx, stop), Progress(
            ctx.console, live=ctx.console.interactive,
            cluster_width=max((len(c.name) for c in assessment.clusters), default=15),
            release_width=max((len(i.name) for i in assessment.instances), default=0)) as progress, AfterSync(
            plan.steps(), after_cluster, stop, progress.on_event) as after:
        result = execute(plan, run_step, concurrency=concurrency, stop=stop, on_event=after.on_event,
                         after_wave=after_wave, limit=max(concurrency, int(per_cpu * (os.cpu_count() or 2))),
                         weight={item.state.key: float(len(item.desired_manifest or ""))  # helm's work grows with it
                                 for item in assessment.releases})
        after.wait()
    return result


@dataclass
class _StepRunner:
    """Runs one step's helm argv through the runner; values (secrets resolved) on helm's stdin."""

    ctx: Context
    helm: HelmClient
    secrets: dict[str, SecretValues]
    revisions: dict[str, int | None]  # release key -> Helm revision before this sync
    contexts: dict[str, str] = field(default_factory=dict)  # cluster name -> kube context
    crd_payloads: dict[int, bytes] = field(default_factory=dict)  # each chart CRD's JSON, encoded once a run

    def __call__(self, step: Step) -> StepOutcome:
        if step.kind is StepKind.CRDS:
            return apply_crds_step(self.ctx, step, self.contexts[step.cluster])
        if step.kind is StepKind.INSTALL and step.crds:
            created = create_crds_step(self.ctx, step, self.contexts[step.cluster], self.crd_payloads)
            if not created.ok:
                return created
        instance = step.instance
        timeout = _seconds(instance.timeout) if instance is not None else None
        what = f"helm {step.kind.value} {step.release} on {step.cluster}"
        if step.uses_values:
            if not isinstance(instance, ReleaseInstance):
                raise HelmkitError(f"{step.key}: a step with values has no release instance")
            resolved = self.secrets.get(step.key, {})
            values = apply_secrets(instance.values, resolved) if resolved else instance.values
            result = self.ctx.runner.run(step.argv_with_values(VALUES_STDIN), env=self.helm.env, check=False,
                                         timeout=timeout, what=what, stdin=values_yaml(values))
        else:
            result = self.ctx.runner.run(step.argv, env=self.helm.env, check=False, timeout=timeout, what=what)
        if result.ok:
            return StepOutcome(True)
        return failed_step(self.ctx, step, result, what, before=self.revisions.get(step.key),
                           context=self.contexts[step.cluster])


def _seconds(duration: str) -> float | None:
    """Go duration (``5m``, ``1h30m``, ``90s``) in seconds plus a margin; None if unreadable."""
    parts = _DURATION.findall(duration or "")
    if not parts or "".join(n + u for n, u in parts) != duration:
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts) + TIMEOUT_MARGIN


@contextmanager
def _signals_stop(ctx: Context, stop: threading.Event) -> Iterator[None]:
    """First SIGINT/SIGTERM: start nothing new; second: terminate the running helm processes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            ctx.console.info("second signal: terminating running helm processes")
            threading.Thread(target=ctx.runner.terminate_all, name="helmkit-terminate", daemon=True).start()
            return
        stop.set()
        ctx.console.info("interrupted: no new release starts; waiting for running helm processes "
                         "(signal again to terminate them)")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _target_clusters(ctx: Context, options: SyncOptions) -> list[Cluster]:
    repo = load_repository(ctx.repo)
    environment = environment_of(repo, options.env)
    if options.selector:  # a selector that matches nothing fails before any cluster is locked
        resolve_environment(repo, options.env, cluster=options.cluster, include_disabled=True,
                            selector=parse_selector(options.selector, allow_empty=ctx.allow_no_matching_release))
    clusters = [spec.cluster for spec in environment.clusters]
    if options.cluster is not None:
        clusters = [c for c in clusters if c.name == options.cluster]
        if not clusters:
            raise InputError(f"unknown cluster `{options.cluster}` in environment `{options.env}`")
    wave = ctx.cluster_filter.wave
    if wave is not None and wave not in {c.wave for c in clusters}:
        known = ", ".join(str(w) for w in sorted({spec.cluster.wave for spec in environment.clusters}))
        raise InputError(Problem(f"no cluster of environment `{options.env}` is in wave {wave}", Location("--wave"),
                                 f"waves of `{options.env}`: {known}"))
    return [c for c in clusters if ctx.cluster_filter.keeps(c)]  # --shard, --wave
