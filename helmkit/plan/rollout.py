"""The rollout plan: release states turned into steps, as data (nothing here runs helm).

Shape: waves (the clusters' ``wave`` numbers, ascending) -> the clusters of a wave (run in
parallel) -> ``needs`` levels within a cluster -> steps. Each :class:`Step` carries the exact
helm argv it will run. Values never appear in it: the argv names the values file as
:data:`VALUES_FILE`, and the step's runner substitutes ``-`` (:meth:`Step.argv_with_values`) and
gives helm the resolved values on its stdin, so they are never written to a file.

What each status becomes:

- NOT_INSTALLED -> ``install``; OUT_OF_SYNC -> ``upgrade`` (both ``helm upgrade --install``
  with helmkit's ownership labels); IN_SYNC -> ``skip`` (reported as unchanged, never run).
- LIVE_DRIFT -> ``repair``: the same ``helm upgrade --install`` with the same chart and values,
  which restores the live objects to the release (git is the desired state).
- A release whose ``crds`` policy is ``CreateReplace`` and whose chart has ``crds/``: its
  install, upgrade or repair is preceded by a ``crds`` step (server-side apply of the chart's
  CRDs, never a delete); ``Skip`` adds helm's ``--skip-crds``. Under ``Create`` (helm's
  behaviour) an install creates the chart's absent CRDs itself before helm runs, and helm gets
  ``--skip-crds`` (:mod:`helmkit.actions.crds`); an upgrade leaves them alone, as helm does.
- FAILED -> ``upgrade``. Helm upgrades from a failed revision by itself, and the new attempt
  is covered by ``--atomic``/``--rollback-on-failure``; rolling back first would add a second
  mutation nobody asked for, and would fail anyway when the failed revision was the first.
- PENDING -> ``blocked`` (not run, counted as failed, a :class:`PlanProblem` with revision and
  age), unless ``recover``: then a ``recover`` step (``helm rollback`` to the newest good
  revision, or ``helm uninstall`` for a ``pending-install``) followed by the normal step.
  Without a good revision to return to, recovery is "manual intervention required".
- ORPHAN, DISABLED_INSTALLED -> ``uninstall`` with ``prune``, else a note. Uninstall steps
  come last in their cluster and need every deploy step of that cluster (blocked ones too):
  the new state is up before the old one goes, and a failed deploy keeps everything in place.
- ERROR (a manifest that cannot be read) -> ``blocked``, naming the template and line.
- FOREIGN -> left alone, with a note; when the specs want that release, ``blocked`` unless
  ``adopt`` (then ``upgrade``, which adds helmkit's labels).
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from helmkit.adapters.helm import HelmClient, KubeTarget, UpgradeRequest
from helmkit.adapters.masking import Masker
from helmkit.errors import HelmkitError
from helmkit.plan.status import DesiredRelease, Marker, ReleaseState, Status, TargetCluster

VALUES_FILE = "<values-file>"
DEFAULT_TIMEOUT = "5m"


class StepKind(enum.Enum):
    INSTALL = "install"
    UPGRADE = "upgrade"
    UNINSTALL = "uninstall"
    RECOVER = "recover"
    REPAIR = "repair"  # upgrade with the same chart and values: restores live drift
    CRDS = "crds"  # server-side apply of the chart's crds/ before its helm step (crds: CreateReplace)
    SKIP = "skip"  # nothing to do (in sync)
    BLOCKED = "blocked"  # cannot be done safely; counts as failed, never run

    @property
    def runs(self) -> bool:
        return self in (StepKind.INSTALL, StepKind.UPGRADE, StepKind.UNINSTALL, StepKind.RECOVER, StepKind.REPAIR,
                        StepKind.CRDS)


@dataclass(frozen=True)
class Step:
    kind: StepKind
    key: str  # release key env/cluster/name
    cluster: str
    argv: list[str]
    needs: list[str] = field(default_factory=list)  # ids of steps that must succeed first
    reason: str = ""
    release: str = ""
    namespace: str = ""
    instance: DesiredRelease | None = field(default=None, compare=False, repr=False)
    crds: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, repr=False)  # CRDS: what it applies;
    # INSTALL: the chart's CRDs it creates before helm runs (helm's --skip-crds)

    @property
    def id(self) -> str:
        """Unique in a plan: a recover or crds step and the step after it share a release key."""
        if self.kind in (StepKind.RECOVER, StepKind.CRDS):
            return f"{self.key}#{self.kind.value}"
        return self.key

    @property
    def uses_values(self) -> bool:
        return VALUES_FILE in self.argv

    def argv_with_values(self, values_file: Path) -> list[str]:
        return [str(values_file) if arg == VALUES_FILE else arg for arg in self.argv]


@dataclass(frozen=True)
class ClusterPlan:
    cluster: str
    context: str
    levels: list[list[Step]]

    @property
    def steps(self) -> list[Step]:
        return [step for level in self.levels for step in level]


@dataclass(frozen=True)
class Wave:
    number: int
    clusters: list[ClusterPlan]


@dataclass(frozen=True)
class PlanProblem:
    key: str
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class PlanOptions:
    helm: HelmClient  # only its argv builders are used
    helm_major: int
    kubeconfig: Path | None = None
    prune: bool = False
    recover: bool = False
    adopt: bool = False
    chart_paths: Mapping[str, Path] = field(default_factory=dict)  # release key -> chart dir or .tgz
    crds: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)  # key -> CRDs to apply first
    create_crds: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)  # key -> CRDs an
    # install creates first (policy Create; helm gets --skip-crds)
    client_side: frozenset[str] = frozenset()  # keys whose record helm applied client-side: no --force-conflicts


@dataclass(frozen=True)
class Plan:
    waves: list[Wave]
    problems: list[PlanProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def steps(self) -> list[Step]:
        return [step for wave in self.waves for cluster in wave.clusters for step in cluster.steps]

    def counts(self) -> dict[StepKind, int]:
        counts = dict.fromkeys(StepKind, 0)
        for step in self.steps():
            counts[step.kind] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(step.kind.runs for step in self.steps())

    def raise_if_blocked(self) -> None:
        if self.problems:
            lines = [f"{p.key}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in self.problems]
            raise HelmkitError(
                f"{len(self.problems)} release(s) cannot be synced safely:\n  " + "\n  ".join(lines),
                hint="fix the releases above, or pass the option their hint names",
            )

    def render_text(self, masker: Masker | None = None) -> str:
        """The plan for ``--dry-run``: each step with its helm argv (secrets masked)."""
        counts = self.counts()
        head = ", ".join(f"{counts[kind]} {kind.value}" for kind in StepKind if counts[kind]) or "nothing to do"
        lines = [f"plan: {head}"]
        for wave in self.waves:
            lines.append(f"wave {wave.number}")
            for cluster in wave.clusters:
                lines.append(f"  cluster {cluster.cluster} (context {cluster.context})")
                if not cluster.steps:
                    lines.append("    nothing to do")
                for number, level in enumerate(cluster.levels):
                    if level:
                        lines.append(f"    level {number}")
                    for step in level:
                        lines += _step_lines(step)
        for title, items in (("problems", [_problem_text(p) for p in self.problems]), ("notes", self.notes)):
            if items:
                lines.append(f"{title}:")
                lines += [f"  - {item}" for item in items]
        text = "\n".join(lines) + "\n"
        return masker.mask(text) if masker is not None else text


def build_plan(
    states: Sequence[ReleaseState],
    *,
    clusters: Sequence[TargetCluster],
    needs_levels: Mapping[str, Sequence[Sequence[str]]],
    options: PlanOptions,
) -> Plan:
    """Steps for ``states`` of ``clusters``. ``needs_levels``: cluster name -> release names per level."""
    known = {c.name for c in clusters}
    unknown = sorted({s.cluster for s in states} - known)
    if unknown:
        raise ValueError(f"states of clusters not in the plan: {', '.join(unknown)}")
    builder = _StepBuilder(options)
    by_wave: dict[int, list[ClusterPlan]] = {}
    for cluster in clusters:
        mine = sorted((s for s in states if s.cluster == cluster.name), key=lambda s: s.name)
        plan = _cluster_plan(cluster, mine, needs_levels.get(cluster.name, ()), builder)
        by_wave.setdefault(cluster.wave, []).append(plan)
    waves = [Wave(number, by_wave[number]) for number in sorted(by_wave)]
    return Plan(waves, builder.problems, builder.notes)


def _cluster_plan(cluster: TargetCluster, states: list[ReleaseState], levels: Sequence[Sequence[str]],
                  builder: _StepBuilder) -> ClusterPlan:
    level_of = {name: index for index, names in enumerate(levels) for name in names}
    placed: dict[int, list[Step]] = {}
    removals: list[Step] = []
    for state in states:
        for step in builder.steps_for(state, KubeTarget(cluster.context, builder.options.kubeconfig)):
            if step.kind is StepKind.UNINSTALL:
                removals.append(step)
            else:
                placed.setdefault(level_of.get(state.name, 0), []).append(step)
    ordered = [placed.get(index, []) for index in range(max(placed, default=-1) + 1)]
    ids = {s.id for level in ordered for s in level}
    ordered = [[_with_needs(step, _needs_of(step, ids, cluster.env)) for step in level] for level in ordered]
    if removals:
        deploys = [s.id for level in ordered for s in level if s.kind is not StepKind.SKIP]
        ordered.append([_with_needs(step, deploys) for step in removals])
    return ClusterPlan(cluster.name, cluster.context, ordered)


def _needs_of(step: Step, ids: set[str], env: str) -> list[str]:
    """The steps of the releases the instance ``needs`` (those that have one), and for the step
    after a recover step, that recover step."""
    if step.kind is StepKind.RECOVER:
        return []
    needs = [f"{step.key}#recover"] if f"{step.key}#recover" in ids else []
    if step.kind is StepKind.CRDS:
        return needs
    if f"{step.key}#crds" in ids:
        needs.append(f"{step.key}#crds")
    for name in step.instance.needs if step.instance is not None else ():
        wanted = f"{env}/{step.cluster}/{name}"
        if wanted in ids:
            needs.append(wanted)
    return needs


def _with_needs(step: Step, needs: list[str]) -> Step:
    return Step(step.kind, step.key, step.cluster, step.argv, list(needs), step.reason, step.release,
                step.namespace, step.instance, step.crds)


@dataclass
class _StepBuilder:
    """Turns one state into its steps; collects the plan's problems and notes."""

    options: PlanOptions
    problems: list[PlanProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def steps_for(self, state: ReleaseState, target: KubeTarget) -> list[Step]:
        why = "; ".join(state.reasons)
        status = state.status
        if status is Status.IN_SYNC:
            return [_step(state, StepKind.SKIP, [], "in sync")]
        if status in (Status.NOT_INSTALLED, Status.OUT_OF_SYNC, Status.FAILED, Status.LIVE_DRIFT):
            kind = {Status.NOT_INSTALLED: StepKind.INSTALL, Status.LIVE_DRIFT: StepKind.REPAIR}.get(
                status, StepKind.UPGRADE)
            reason = {Status.NOT_INSTALLED: "not installed", Status.OUT_OF_SYNC: why, Status.LIVE_DRIFT: why,
                      Status.FAILED: f"{why}; upgrading again"}[status]
            return self.deploy(state, kind, reason, target)
        if status in (Status.ORPHAN, Status.DISABLED_INSTALLED):
            if self.options.prune:
                return [self.uninstall(state, why, target)]
            self.notes.append(f"{state.key}: {why}; pass --prune to uninstall it")
            return []
        if status is Status.FOREIGN:
            if state.instance is None or not state.instance.enabled:
                self.notes.append(f"{state.key}: {why}; left alone")
                return []
            if self.options.adopt:
                return self.deploy(state, StepKind.UPGRADE, f"{why}; adopting it", target)
            return [self.blocked(state, why, "pass --adopt to let helmkit take it over")]
        if status is Status.PENDING:
            return self.pending(state, why, target)
        if status is Status.ERROR:
            return [self.blocked(state, f"cannot read its manifest: {why}",
                                 "nothing is done to this release; the others go on")]
        return []  # DISABLED: nothing installed, nothing wanted

    def pending(self, state: ReleaseState, why: str, target: KubeTarget) -> list[Step]:
        wanted = state.instance is not None and state.instance.enabled
        if not wanted and not self.options.prune:
            self.notes.append(f"{state.key}: {why}; gone from the specs, left alone")
            return []
        in_progress = f"another helm operation is in progress or was killed: {why}"
        if not wanted:
            if self.options.recover:
                return [self.uninstall(state, f"{why}; gone from the specs", target)]
            return [self.blocked(state, in_progress,
                                 "if no helm process still works on it, pass --recover to uninstall it")]
        first_install = state.helm_status == "pending-install"
        if not first_install and state.rollback_revision is None:
            return [self.blocked(state, f"{why}; manual intervention required",
                                 "no earlier good revision is kept to roll back to")]
        if not self.options.recover:
            action = ("uninstall it and install again" if first_install
                      else f"roll it back to revision {state.rollback_revision} and retry")
            hint = f"if no helm process still works on it, pass --recover to {action}"
            return [self.blocked(state, in_progress, hint)]
        helm, major = self.options.helm, self.options.helm_major
        instance = state.instance
        assert instance is not None
        if first_install:
            argv = helm.uninstall_argv(state.name, state.namespace, target, wait=True, timeout=instance.timeout,
                                       major=major)
            return [_step(state, StepKind.RECOVER, argv, f"{why}; uninstalling the unfinished install"),
                    *self.deploy(state, StepKind.INSTALL, "install again after recovery", target)]
        argv = helm.rollback_argv(state.name, state.namespace, target, state.rollback_revision,
                                  wait=instance.wait, timeout=instance.timeout, history_max=instance.history_max,
                                  major=major, force_conflicts=state.key not in self.options.client_side)
        return [_step(state, StepKind.RECOVER, argv, f"{why}; rolling back to revision {state.rollback_revision}"),
                *self.deploy(state, StepKind.UPGRADE, "upgrade after recovery", target)]

    def deploy(self, state: ReleaseState, kind: StepKind, reason: str, target: KubeTarget) -> list[Step]:
        """The helm step, preceded by a ``crds`` step when the release replaces its chart's CRDs."""
        instance = state.instance
        assert instance is not None
        chart = self.options.chart_paths.get(state.key) or instance.chart.path
        if chart is None:
            return [self.blocked(state, f"chart {instance.chart.display} is not available locally",
                                 "run `helmkit lock`, then render again")]
        create = tuple(self.options.create_crds.get(state.key, ())) if (
            kind is StepKind.INSTALL and instance.crds == "Create") else ()
        request = UpgradeRequest(
            release=instance.name, chart=chart, namespace=instance.namespace, target=target,
            values_files=(Path(VALUES_FILE),), wait=instance.wait, timeout=instance.timeout,
            atomic=instance.atomic, create_namespace=instance.create_namespace, history_max=instance.history_max,
            skip_crds=instance.crds == "Skip" or bool(create),
            force_conflicts=state.key not in self.options.client_side,
        )
        argv = self.options.helm.upgrade_install_argv(request, self.options.helm_major)
        argv += Marker(state.env, state.cluster).helm_argv()
        crds = tuple(self.options.crds.get(state.key, ()))
        if not crds:
            step = _step(state, kind, argv, reason)
            return [replace(step, crds=create) if create else step]
        names = ", ".join(str((crd.get("metadata") or {}).get("name", "")) for crd in crds)
        apply = Step(StepKind.CRDS, state.key, state.cluster, [], [],
                     f"server-side apply of the chart's CRDs (crds: CreateReplace, field manager helmkit, force): "
                     f"{names}", state.name, state.namespace, state.instance, crds)
        return [apply, _step(state, kind, argv, reason)]

    def uninstall(self, state: ReleaseState, reason: str, target: KubeTarget) -> Step:
        argv = self.options.helm.uninstall_argv(state.name, state.namespace, target, wait=True,
                                                timeout=_timeout(state), major=self.options.helm_major)
        return _step(state, StepKind.UNINSTALL, argv, reason)

    def blocked(self, state: ReleaseState, message: str, hint: str) -> Step:
        self.problems.append(PlanProblem(state.key, message, hint))
        return _step(state, StepKind.BLOCKED, [], f"{message}; {hint}")


def _timeout(state: ReleaseState) -> str:
    return state.instance.timeout if state.instance is not None else DEFAULT_TIMEOUT


def _step(state: ReleaseState, kind: StepKind, argv: list[str], reason: str) -> Step:
    return Step(kind, state.key, state.cluster, argv, [], reason, state.name, state.namespace, state.instance)


def _step_lines(step: Step) -> list[str]:
    lines = [f"      {step.kind.value:<9} {step.release} (namespace {step.namespace}): {step.reason}"]
    if step.needs:
        lines.append("        needs: " + ", ".join(_need_name(need) for need in step.needs))
    if step.kind is StepKind.INSTALL and step.crds:
        lines.append("        creates the chart's CRDs first (crds: Create), those absent: "
                     + ", ".join(str((crd.get("metadata") or {}).get("name", "")) for crd in step.crds))
    if step.argv:
        lines.append("        $ " + shlex.join(step.argv))
    return lines


def _need_name(step_id: str) -> str:
    release = step_id.rsplit("/", 1)[-1]
    return release.replace("#recover", " (recover)").replace("#crds", " (crds)")


def _problem_text(problem: PlanProblem) -> str:
    return f"{problem.key}: {problem.message}" + (f"\n    hint: {problem.hint}" if problem.hint else "")
