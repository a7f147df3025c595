from pathlib import Path

import pytest

from helmkit.adapters.helm import HelmClient
from helmkit.adapters.runner import Runner
from helmkit.plan.execute import Outcome, StepResult
from helmkit.plan.gaterollback import plan_undo
from helmkit.plan.rollout import ClusterPlan, Step, StepKind, Wave


def step(cluster: str, name: str, kind: StepKind) -> Step:
    return Step(kind, f"prod/{cluster}/{name}", cluster, ["helm"], [], "test", name, f"ns-{name}")


def wave_and_results() -> tuple[Wave, dict[str, StepResult]]:
    steps = {
        "a": [step("a", "cert-manager", StepKind.UPGRADE), step("a", "web", StepKind.INSTALL),
              step("a", "api", StepKind.UPGRADE), step("a", "old", StepKind.UNINSTALL)],
        "b": [step("b", "web", StepKind.UPGRADE), step("b", "db", StepKind.SKIP), step("b", "api", StepKind.UPGRADE)],
    }
    outcomes = {"prod/a/cert-manager": Outcome.DEPLOYED, "prod/a/web": Outcome.DEPLOYED, "prod/a/api": Outcome.FAILED,
                "prod/a/old": Outcome.PRUNED, "prod/b/web": Outcome.DEPLOYED, "prod/b/db": Outcome.UNCHANGED,
                "prod/b/api": Outcome.SKIPPED}
    wave = Wave(0, [ClusterPlan(c, f"ctx-{c}", [s[:2], s[2:]]) for c, s in steps.items()])
    results = {s.id: StepResult(s, outcomes[s.key]) for c in wave.clusters for s in c.steps}
    return wave, results


REVISIONS = {"prod/a/cert-manager": 4, "prod/a/web": None, "prod/a/api": 2, "prod/b/web": 7, "prod/b/db": 1}


@pytest.mark.parametrize(("major", "wait"), [(3, "--wait"), (4, "--wait=watcher")])
def test_only_what_the_sync_changed_is_undone_in_reverse_order(major: int, wait: str) -> None:
    wave, results = wave_and_results()
    helm = HelmClient(Runner(), Path("/bin/helm"))
    undo = plan_undo(wave, results, REVISIONS, helm=helm, helm_major=major, kubeconfig=Path("/k"))
    assert [(s.cluster, s.release, s.action, s.revision) for s in undo.steps] == [
        ("a", "web", "uninstall", None), ("a", "cert-manager", "rollback", 4), ("b", "web", "rollback", 7)]
    assert undo.steps[1].argv == ["/bin/helm", "rollback", "cert-manager", "4", "--namespace", "ns-cert-manager",
                                  "--kube-context", "ctx-a", "--kubeconfig", "/k", "--timeout", "5m",
                                  "--history-max", "10", wait]
    assert undo.steps[0].argv[:3] == ["/bin/helm", "uninstall", "web"]
    assert undo.notes == ["prod/a/old: pruned by this sync; helmkit cannot bring it back"]
    assert undo.steps[0].describe() == "uninstall web (installed by this sync)"


def test_installed_releases_can_be_kept() -> None:
    wave, results = wave_and_results()
    undo = plan_undo(wave, results, REVISIONS, helm=HelmClient(Runner(), Path("helm")), helm_major=4,
                     uninstall_installed=False)
    assert [(s.release, s.action, s.argv) for s in undo.steps if s.cluster == "a"] == [
        ("web", "keep", []), ("cert-manager", "rollback", undo.steps[1].argv)]
