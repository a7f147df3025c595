"""What a failed gate undoes, as data: the rollback plan of one wave (nothing here runs helm).

Only what this sync changed in the wave is undone, on every cluster of the wave:

- a release this sync upgraded (``upgrade`` step deployed) -> ``helm rollback NAME REV`` to the
  revision it had before the sync;
- a release this sync installed (``install`` step deployed) -> ``helm uninstall``, unless
  ``onGateFailure.uninstallInstalled`` is false: then it is kept, and listed as kept;
- a release this sync pruned cannot be brought back by helmkit: it is listed as a note.

Releases left unchanged, skipped or failed are not touched. Within a cluster the steps run in
the reverse of the deploy order (a release goes back before the releases it ``needs``); the
clusters of the wave go in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helmkit.adapters.helm import HelmClient, KubeTarget
from helmkit.plan.execute import Outcome, StepResult
from helmkit.plan.rollout import StepKind, Wave

ROLLBACK = "rollback"
UNINSTALL = "uninstall"
KEEP = "keep"


@dataclass(frozen=True)
class UndoStep:
    cluster: str
    release: str
    namespace: str
    action: str  # "rollback", "uninstall", "keep"
    argv: list[str] = field(default_factory=list)
    revision: int | None = None  # rollback: the revision returned to

    def describe(self) -> str:
        if self.action == ROLLBACK:
            return f"roll {self.release} back to revision {self.revision}"
        if self.action == UNINSTALL:
            return f"uninstall {self.release} (installed by this sync)"
        return f"keep {self.release} (installed by this sync; onGateFailure.uninstallInstalled is false)"


@dataclass(frozen=True)
class UndoPlan:
    wave: int
    steps: list[UndoStep]
    notes: list[str] = field(default_factory=list)

    def by_cluster(self) -> dict[str, list[UndoStep]]:
        found: dict[str, list[UndoStep]] = {}
        for step in self.steps:
            found.setdefault(step.cluster, []).append(step)
        return found


def plan_undo(wave: Wave, results: Mapping[str, StepResult], revisions: Mapping[str, int | None], *,
              helm: HelmClient, helm_major: int, uninstall_installed: bool = True,
              kubeconfig: Path | None = None) -> UndoPlan:
    """The undo steps for what ``results`` (step id -> result) say this sync did in ``wave``.

    ``revisions``: release key -> Helm revision before the sync (None: not installed).
    """
    steps: list[UndoStep] = []
    notes: list[str] = []
    for cluster in wave.clusters:
        target = KubeTarget(cluster.context, kubeconfig)
        for step in reversed(cluster.steps):
            result = results.get(step.id)
            if result is None or result.outcome is not Outcome.DEPLOYED:
                if result is not None and result.outcome is Outcome.PRUNED:
                    notes.append(f"{step.key}: pruned by this sync; helmkit cannot bring it back")
                continue
            before = revisions.get(step.key)
            instance = step.instance
            timeout = instance.timeout if instance is not None else "5m"
            if step.kind is StepKind.INSTALL or before is None:
                if not uninstall_installed:
                    steps.append(UndoStep(step.cluster, step.release, step.namespace, KEEP))
                    continue
                argv = helm.uninstall_argv(step.release, step.namespace, target, wait=True, timeout=timeout,
                                           major=helm_major)
                steps.append(UndoStep(step.cluster, step.release, step.namespace, UNINSTALL, argv))
                continue
            argv = helm.rollback_argv(step.release, step.namespace, target, before,
                                      wait=instance.wait if instance is not None else True, timeout=timeout,
                                      history_max=instance.history_max if instance is not None else 10,
                                      major=helm_major)
            steps.append(UndoStep(step.cluster, step.release, step.namespace, ROLLBACK, argv, before))
    return UndoPlan(wave.number, steps, notes)

