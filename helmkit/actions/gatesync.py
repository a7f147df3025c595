"""Rollout gates inside ``helmkit sync``: the executor's ``after_wave`` hook.

After a wave in which nothing failed, :class:`WaveGates` runs the gates of that wave
(:mod:`helmkit.model.gates` says which) on every cluster of the wave where this sync changed a
release (:mod:`helmkit.actions.gaterun`). All pass: the next wave starts. One fails:

1. the gates still running on the wave's other clusters are cancelled;
2. what this sync changed in the wave is undone on every cluster of the wave
   (:func:`helmkit.plan.gaterollback.plan_undo`: ``helm rollback`` to the revision before the
   sync, ``helm uninstall`` of what it installed unless ``onGateFailure.uninstallInstalled`` is
   false), clusters in parallel, each cluster's releases one by one in reverse deploy order;
3. no later wave starts (its releases are skipped with the reason), and sync exits 1.

A signal while gates run ends them undecided: nothing is rolled back (no rollback was started, so
none is left half done), no later wave starts, sync exits 130. Once started, a rollback runs to
the end (a second signal still terminates the helm processes, as during deploys).

``--skip-gates`` runs no gate and says so loudly before and after. Everything a gate did ends in
:class:`~helmkit.plan.gatereport.GateReport`, which sync prints and writes with ``--report``.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from helmkit.actions.gaterecord import write_records
from helmkit.actions.gaterun import ChangedRelease, GateRunner, GateTarget
from helmkit.actions.livestate import Assessment
from helmkit.adapters.waiting import map_in
from helmkit.context import Context
from helmkit.errors import EXIT_ERROR, EXIT_OK, HelmkitError, InputError
from helmkit.model.gates import GatePolicy, gates_of
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository
from helmkit.output.gate_progress import GateProgress
from helmkit.output.gates_view import render_gate_report
from helmkit.plan.execute import INTERRUPTED, Outcome, RunResult, StepResult
from helmkit.plan.gatereport import GateReport, UndoResult, WaveGateResult
from helmkit.plan.gaterollback import UndoPlan, UndoStep, plan_undo
from helmkit.plan.rollout import StepKind, Wave
from helmkit.plan.status import Status
from helmkit.plan.summary import Summary

UNDO_TIMEOUT_MARGIN = 120.0


def load_gate_policy(ctx: Context, env: str) -> GatePolicy:
    """The gates of ``env``; bad gates raise one InputError listing every problem."""
    policy, problems = gates_of(load_repository(ctx.repo), env)
    if problems:
        raise InputError(problems, hint="nothing was applied")
    return policy


@dataclass
class WaveGates:
    """The ``after_wave`` hook of one sync."""

    ctx: Context
    policy: GatePolicy
    assessment: Assessment
    stop: threading.Event
    skip: bool = False
    report: GateReport = field(default_factory=GateReport)

    def __post_init__(self) -> None:
        self.report.skip_gates = self.skip
        self._clusters: dict[str, Cluster] = {c.name: c for c in self.assessment.clusters}
        self._manifests = {r.state.key: r.desired_manifest or "" for r in self.assessment.releases}
        # the revision to return to: what the release had before the sync; for one that was stuck in
        # pending-*, the good revision the sync recovered it to
        self._revisions = {r.state.key: r.state.rollback_revision if r.state.status is Status.PENDING
                           else r.state.revision for r in self.assessment.releases}
        self._width = max((len(name) for name in self._clusters), default=15)

    def __call__(self, wave: Wave, results: dict[str, StepResult]) -> str | None:
        gates = self.policy.for_wave(wave.number)
        if not gates:
            return None
        if self.skip:
            self.report.waves.append(WaveGateResult(wave.number, skipped=True))
            self.ctx.console.info(f"WARNING: --skip-gates: the {len(gates)} gate(s) of wave {wave.number} did not run")
            return None
        record = WaveGateResult(wave.number)
        self.report.waves.append(record)
        targets = self._targets(wave, results, record)
        if not targets:
            return None
        record.clusters = [t.cluster.name for t in targets]
        self.ctx.console.info(f"gates of wave {wave.number}: {len(gates)} gate(s) on {', '.join(record.clusters)}")
        runner = GateRunner(self.ctx.runner, self.ctx.kubeconfig, cwd=self.ctx.repo)
        with GateProgress(self.ctx.console, width=self._width, live=self.ctx.console.interactive,
                          verbose=self.ctx.verbose) as progress:
            record.outcomes = runner.run_wave_gates(gates, targets, stop=self.stop, on_event=progress.on_event)
        if self.stop.is_set():
            write_records(self.ctx, [t.cluster for t in targets], record)
            self.ctx.console.info(f"interrupted during the gates of wave {wave.number}: nothing was rolled back; "
                                  "no later wave starts")
            return INTERRUPTED
        if not record.failed:
            write_records(self.ctx, [t.cluster for t in targets], record)
            return None
        first = record.failed[0]
        record.undo = plan_undo(wave, results, self._revisions, helm=self.assessment.helm,
                                helm_major=self.assessment.helm.version().major,
                                uninstall_installed=self.policy.uninstall_installed, kubeconfig=self.ctx.kubeconfig)
        self.ctx.console.info(f"gate {first.gate.name} failed on {first.cluster}: rolling back wave {wave.number} "
                              f"({sum(1 for s in record.undo.steps if s.action != 'keep')} release(s))")
        record.undone = self._undo(record.undo)
        write_records(self.ctx, [t.cluster for t in targets], record)
        return f"gate {first.gate.name} failed on {first.cluster} in wave {wave.number}; wave {wave.number} rolled back"

    def _targets(self, wave: Wave, results: dict[str, StepResult], record: WaveGateResult) -> list[GateTarget]:
        targets: list[GateTarget] = []
        for cluster_plan in wave.clusters:
            changed = [ChangedRelease(step.release, step.namespace, self._manifests.get(step.key, ""))
                       for step in cluster_plan.steps
                       if step.kind in (StepKind.INSTALL, StepKind.UPGRADE)
                       and (found := results.get(step.id)) is not None and found.outcome is Outcome.DEPLOYED]
            if changed and cluster_plan.cluster in self._clusters:
                targets.append(GateTarget(self._clusters[cluster_plan.cluster], changed))
            else:
                record.unchanged.append(cluster_plan.cluster)
        return targets

    def _undo(self, plan: UndoPlan) -> list[UndoResult]:
        by_cluster = plan.by_cluster()
        if not by_cluster:
            return []

        def one(steps: list[UndoStep]) -> list[UndoResult]:
            return [self._undo_step(step) for step in steps if step.action != "keep"]

        with ThreadPoolExecutor(max_workers=len(by_cluster), thread_name_prefix="helmkit-undo") as pool:
            return [result for found in map_in(pool, one, by_cluster.values()) for result in found]

    def _undo_step(self, step: UndoStep) -> UndoResult:
        what = f"helm {step.action} {step.release} on {step.cluster}"
        result = self.ctx.runner.run(step.argv, env=self.assessment.helm.env, check=False, timeout=None, what=what)
        if result.ok:
            self.ctx.console.info(f"{'undone':<9} {step.cluster.ljust(self._width)}  {step.describe()}")
            return UndoResult(step, True)
        error = self.ctx.runner.error(result, what).render().removeprefix("error: ")
        self.ctx.console.info(f"{'FAILED':<9} {step.cluster.ljust(self._width)}  {step.describe()}: {error}")
        return UndoResult(step, False, error)


def finish(ctx: Context, gates: WaveGates, summary: Summary, result: RunResult, report_file: Path | None) -> int:
    """Print the gate report after sync's summary, write ``--report``; return sync's exit code."""
    text = render_gate_report(gates.report)
    if text:
        ctx.console.print("\n" + text.rstrip("\n"))
    if report_file is not None:
        document = {"summary": summary.to_json(), "gates": gates.report.to_json()}
        try:
            report_file.write_text(ctx.masker.mask(json.dumps(document, indent=2, sort_keys=True)) + "\n",
                                   encoding="utf-8")
        except OSError as exc:
            raise HelmkitError(f"cannot write the report {report_file}: {exc.strerror}") from None
    code = result.exit_code
    if code == EXIT_OK and gates.report.failed:
        code = EXIT_ERROR
    return code
