"""What a failed helm step left, judged from the release history (both majors word it differently)."""

from __future__ import annotations

import pytest

from helmkit.actions.sync_steps import judge
from helmkit.adapters.helmstorage import HelmRelease
from helmkit.plan.rollout import Step, StepKind

UPGRADE = Step(StepKind.UPGRADE, "prod/c1/web", "c1", ["helm"], release="web", namespace="shop")
INSTALL = Step(StepKind.INSTALL, "prod/c1/web", "c1", ["helm"], release="web", namespace="shop")


def record(revision: int, status: str, description: str = "") -> HelmRelease:
    return HelmRelease("web", "shop", revision, status, "shop", "1.0.0", "", {}, "", (), "", "", description)


def history(*entries: tuple[int, str, str]) -> list[HelmRelease]:
    return [record(*entry) for entry in entries]


def test_a_clean_rollback_is_not_manual_intervention() -> None:
    records = history((1, "superseded", "Install complete"), (2, "failed", "Upgrade failed"),
                      (3, "deployed", "Rollback to 1"))
    verdict = judge(UPGRADE, records, before=1, atomic=True, killed=False)
    assert verdict.text == "helm rolled it back: revision 3 runs revision 1 again" and not verdict.pending


def test_a_failed_rollback_is_manual_intervention_naming_the_revisions() -> None:
    records = history((1, "deployed", ""), (2, "superseded", ""), (3, "failed", "Rollback \"web\" failed"))
    text = judge(UPGRADE, records, before=1, atomic=True, killed=False).text
    assert text.startswith("manual intervention required: the upgrade to revision 2 failed and helm's rollback "
                           "to revision 1 failed too (revision 3 is failed")


def test_a_failed_install_helm_removed_leaves_nothing() -> None:
    verdict = judge(INSTALL, [], before=None, atomic=True, killed=False)
    assert verdict.text == "helm removed the failed install: nothing is left installed"
    stuck = judge(INSTALL, history((1, "failed", "")), before=None, atomic=True, killed=False)
    assert stuck.text.startswith("manual intervention required: the install failed and helm could not remove it")


@pytest.mark.parametrize("status", ["pending-rollback", "pending-upgrade"])
def test_a_pending_release_names_the_recover_command(status: str) -> None:
    records = history((1, "superseded", ""), (2, "failed", ""), (3, status, ""))
    verdict = judge(UPGRADE, records, before=1, atomic=True, killed=True)
    assert verdict.pending
    assert verdict.text == (f"the release is left {status} at revision 3: once no helm process works on it, run "
                            "`helmkit sync --env prod --cluster c1 -l name=web --recover`")


def test_without_atomic_a_failed_upgrade_is_upgraded_again_and_an_unwritten_one_changed_nothing() -> None:
    failed = judge(UPGRADE, history((1, "superseded", ""), (2, "failed", "")), before=1, atomic=False, killed=False)
    assert failed.text.startswith("revision 2 is left failed (atomic is off)")
    unchanged = judge(UPGRADE, history((1, "deployed", "")), before=1, atomic=True, killed=False)
    assert unchanged.text == "nothing was changed: revision 1 is still the current one"
