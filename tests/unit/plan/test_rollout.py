"""The rollout plan as data: steps, needs, waves, argv, and the --dry-run text.

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/plan/test_rollout.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helmkit.adapters.helm import HelmClient
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.errors import HelmkitError
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance
from helmkit.plan.rollout import VALUES_FILE, Plan, PlanOptions, Step, StepKind, build_plan
from helmkit.plan.status import Marker, ReleaseState, Status

HELM = HelmClient(Runner(), Path("/opt/helm/bin/helm"))
CANARY = "canary-Secret-Value-9f3e"
CANARY_CLUSTER = Cluster(name="prod-canary", env="prod", context="ctx-canary", wave=0)
EU = Cluster(name="prod-eu", env="prod", context="ctx-eu", wave=1)
US = Cluster(name="prod-us", env="prod", context="ctx-us", wave=1)
CLUSTERS = [CANARY_CLUSTER, EU, US]
LEVELS = {c.name: [["cert-manager", "ingress"], ["web"]] for c in CLUSTERS}


def inst(cluster: Cluster, name: str, *, needs: list[str] | None = None, enabled: bool = True,
         chart: Path | None = None) -> ReleaseInstance:
    return ReleaseInstance(
        env="prod", cluster=cluster, name=name, namespace=name,
        chart=ChartRef(path=chart if chart is not None else Path(f"/repo/charts/{name}")),
        values={"password": "ref+env://WEB_DB_PASSWORD", "note": "literal-value-not-in-argv"},
        needs=needs or [], enabled=enabled, timeout="10m" if name == "web" else "5m",
    )


def state(cluster: Cluster, name: str, status: Status, *, reasons: tuple[str, ...] = (),
          instance: ReleaseInstance | bool | None = True, helm_status: str | None = None,
          revision: int | None = None, rollback: int | None = None) -> ReleaseState:
    if instance is True:
        instance = inst(cluster, name, needs=["cert-manager", "ingress"] if name == "web" else None)
    return ReleaseState(
        env="prod", cluster=cluster.name, name=name, namespace=name, status=status,
        instance=instance or None, reasons=reasons, revision=revision, helm_status=helm_status,
        rollback_revision=rollback,
    )


def fleet() -> list[ReleaseState]:
    """Canary: all in sync but web out of sync. EU: fresh install. US: failed, orphan, pending."""
    return [
        state(CANARY_CLUSTER, "cert-manager", Status.IN_SYNC),
        state(CANARY_CLUSTER, "ingress", Status.IN_SYNC),
        state(CANARY_CLUSTER, "web", Status.OUT_OF_SYNC, reasons=("values changed at replicaCount",)),
        state(EU, "web", Status.NOT_INSTALLED),
        state(EU, "ingress", Status.NOT_INSTALLED),
        state(EU, "cert-manager", Status.NOT_INSTALLED),
        state(US, "cert-manager", Status.FAILED, reasons=("last operation failed at revision 4",)),
        state(US, "ingress", Status.PENDING, reasons=("pending-upgrade at revision 9 for 2h1m",),
              helm_status="pending-upgrade", revision=9, rollback=8),
        state(US, "web", Status.IN_SYNC),
        state(US, "old-dns", Status.ORPHAN, reasons=("installed by helmkit, gone from the specs",),
              instance=None, revision=2),
    ]


def plan_for(states: list[ReleaseState], *, major: int = 3, **flags: bool) -> Plan:
    options = PlanOptions(helm=HELM, helm_major=major, kubeconfig=Path("/home/u/.kube/config"), **flags)
    return build_plan(states, clusters=CLUSTERS, needs_levels=LEVELS, options=options)


def by_id(plan: Plan) -> dict[str, Step]:
    return {step.id: step for step in plan.steps()}


def test_waves_clusters_and_levels() -> None:
    plan = plan_for(fleet(), prune=True, recover=True)
    assert [(w.number, [c.cluster for c in w.clusters]) for w in plan.waves] == [
        (0, ["prod-canary"]), (1, ["prod-eu", "prod-us"])]
    eu = plan.waves[1].clusters[0]
    assert eu.context == "ctx-eu"
    assert [[(s.kind, s.release) for s in level] for level in eu.levels] == [
        [(StepKind.INSTALL, "cert-manager"), (StepKind.INSTALL, "ingress")], [(StepKind.INSTALL, "web")]]
    assert eu.levels[1][0].needs == ["prod/prod-eu/cert-manager", "prod/prod-eu/ingress"]


def test_each_status_becomes_its_step() -> None:
    steps = by_id(plan_for(fleet(), prune=True, recover=True))
    assert steps["prod/prod-canary/cert-manager"].kind is StepKind.SKIP
    assert steps["prod/prod-canary/cert-manager"].argv == []
    assert steps["prod/prod-canary/web"].kind is StepKind.UPGRADE
    assert steps["prod/prod-canary/web"].reason == "values changed at replicaCount"
    # in-sync needs stay linked: the executor treats them as met
    assert steps["prod/prod-canary/web"].needs == ["prod/prod-canary/cert-manager", "prod/prod-canary/ingress"]
    failed = steps["prod/prod-us/cert-manager"]
    assert (failed.kind, failed.reason) == (StepKind.UPGRADE, "last operation failed at revision 4; upgrading again")
    recover = steps["prod/prod-us/ingress#recover"]
    assert recover.kind is StepKind.RECOVER
    assert recover.argv[:4] == ["/opt/helm/bin/helm", "rollback", "ingress", "8"]
    assert steps["prod/prod-us/ingress"].needs == ["prod/prod-us/ingress#recover"]
    prune = steps["prod/prod-us/old-dns"]
    assert prune.kind is StepKind.UNINSTALL
    assert prune.argv[:3] == ["/opt/helm/bin/helm", "uninstall", "old-dns"]
    # pruning comes last in its cluster and needs every deploy of the cluster
    assert plan_for(fleet(), prune=True, recover=True).waves[1].clusters[1].levels[-1] == [prune]
    assert prune.needs == ["prod/prod-us/cert-manager", "prod/prod-us/ingress#recover", "prod/prod-us/ingress"]


@pytest.mark.parametrize(("major", "rollback", "wait"), [(3, "--atomic", "--wait"), (4, "--rollback-on-failure",
                                                                                      "--wait=watcher")])
def test_upgrade_argv_per_helm_major(major: int, rollback: str, wait: str) -> None:
    step = by_id(plan_for(fleet(), major=major))["prod/prod-eu/web"]
    assert step.argv == [
        "/opt/helm/bin/helm", "upgrade", "--install", "web", "/repo/charts/web", "--namespace", "web",
        "--kube-context", "ctx-eu", "--kubeconfig", "/home/u/.kube/config", rollback, wait,
        *(["--force-conflicts"] if major >= 4 else []),
        "--timeout", "10m", "--history-max", "10", "--create-namespace", "-f", VALUES_FILE,
        "--labels", "helmkit.dev/managed=true,helmkit.dev/env=prod,helmkit.dev/cluster=prod-eu",
    ]
    assert Marker("prod", "prod-eu").helm_argv() == step.argv[-2:]


def test_values_reach_helm_only_as_a_file() -> None:
    plan = plan_for(fleet(), prune=True, recover=True)
    text = plan.render_text()
    for step in plan.steps():
        assert not any("literal-value" in arg or "ref+env" in arg for arg in step.argv)
        assert "--set" not in step.argv
    assert "literal-value" not in text
    step = by_id(plan)["prod/prod-eu/web"]
    assert step.uses_values
    concrete = step.argv_with_values(Path("/tmp/helmkit-values-x/values-0.yaml"))
    assert concrete[concrete.index("-f") + 1] == "/tmp/helmkit-values-x/values-0.yaml"
    assert VALUES_FILE not in concrete
    assert not by_id(plan)["prod/prod-us/old-dns"].uses_values


def test_render_text_masks_secrets() -> None:
    states = [state(EU, "web", Status.OUT_OF_SYNC, reasons=(f"oops {CANARY}",))]
    text = plan_for(states).render_text(Masker([CANARY]))
    assert CANARY not in text
    assert "oops ***" in text


def test_orphans_need_prune() -> None:
    plan = plan_for(fleet(), recover=True)
    assert "prod/prod-us/old-dns" not in by_id(plan)
    assert plan.notes == [
        "prod/prod-us/old-dns: installed by helmkit, gone from the specs; pass --prune to uninstall it"]
    disabled = state(EU, "web", Status.DISABLED_INSTALLED, reasons=("disabled",),
                     instance=inst(EU, "web", enabled=False))
    assert by_id(plan_for([disabled], prune=True))["prod/prod-eu/web"].kind is StepKind.UNINSTALL
    assert by_id(plan_for([disabled])) == {}


def test_pending_is_blocked_unless_recover() -> None:
    plan = plan_for(fleet(), prune=True)
    step = by_id(plan)["prod/prod-us/ingress"]
    assert step.kind is StepKind.BLOCKED
    assert step.argv == []
    assert "prod/prod-us/ingress#recover" not in by_id(plan)
    assert [(p.key, p.message, p.hint) for p in plan.problems] == [(
        "prod/prod-us/ingress",
        "another helm operation is in progress or was killed: pending-upgrade at revision 9 for 2h1m",
        "if no helm process still works on it, pass --recover to roll it back to revision 8 and retry",
    )]
    assert by_id(plan)["prod/prod-us/old-dns"].needs == ["prod/prod-us/cert-manager", "prod/prod-us/ingress"]
    with pytest.raises(HelmkitError, match=r"1 release\(s\) cannot be synced safely") as err:
        plan.raise_if_blocked()
    assert "revision 9 for 2h1m" in err.value.message
    plan_for(fleet(), prune=True, recover=True).raise_if_blocked()


def test_pending_install_recovers_by_uninstalling() -> None:
    pending = state(EU, "ingress", Status.PENDING, reasons=("pending-install at revision 1",),
                    helm_status="pending-install", revision=1)
    steps = by_id(plan_for([pending], recover=True))
    assert steps["prod/prod-eu/ingress#recover"].argv[1:3] == ["uninstall", "ingress"]
    assert steps["prod/prod-eu/ingress"].kind is StepKind.INSTALL
    assert steps["prod/prod-eu/ingress"].needs == ["prod/prod-eu/ingress#recover"]


def test_pending_without_a_good_revision_needs_a_person() -> None:
    pending = state(EU, "ingress", Status.PENDING, reasons=("pending-upgrade at revision 3",),
                    helm_status="pending-upgrade", revision=3, rollback=None)
    plan = plan_for([pending], recover=True)
    assert [s.kind for s in plan.steps()] == [StepKind.BLOCKED]
    assert "manual intervention required" in plan.problems[0].message


def test_pending_orphan_is_pruned_only_with_recover() -> None:
    pending = state(EU, "old", Status.PENDING, reasons=("uninstalling at revision 3",), instance=None,
                    helm_status="uninstalling", revision=3)
    assert plan_for([pending]).steps() == []
    assert [s.kind for s in plan_for([pending], prune=True).steps()] == [StepKind.BLOCKED]
    assert [s.kind for s in plan_for([pending], prune=True, recover=True).steps()] == [StepKind.UNINSTALL]


def test_foreign_release_is_left_alone_or_adopted() -> None:
    wanted = state(EU, "web", Status.FOREIGN, reasons=("release web was not installed by helmkit",))
    unwanted = state(EU, "other", Status.FOREIGN, reasons=("release other was not installed by helmkit",),
                     instance=None)
    plan = plan_for([wanted, unwanted], prune=True)
    assert [s.kind for s in plan.steps()] == [StepKind.BLOCKED]
    assert plan.problems[0].hint == "pass --adopt to let helmkit take it over"
    assert plan.notes == ["prod/prod-eu/other: release other was not installed by helmkit; left alone"]
    adopted = plan_for([wanted, unwanted], prune=True, adopt=True)
    assert [(s.kind, s.release) for s in adopted.steps()] == [(StepKind.UPGRADE, "web")]


def test_chart_not_available_is_blocked_and_chart_paths_win() -> None:
    repo_chart = ReleaseInstance(env="prod", cluster=EU, name="web", namespace="web",
                                 chart=ChartRef(repository="https://charts.example.com", repository_name="example",
                                                name="web", version="^1.4.0"), values={})
    missing = state(EU, "web", Status.NOT_INSTALLED, instance=repo_chart)
    plan = plan_for([missing])
    assert [s.kind for s in plan.steps()] == [StepKind.BLOCKED]
    assert plan.problems[0].message == "chart example/web is not available locally"
    options = PlanOptions(helm=HELM, helm_major=4, chart_paths={"prod/prod-eu/web": Path("/cache/web-1.4.2.tgz")})
    found = build_plan([missing], clusters=CLUSTERS, needs_levels={}, options=options)
    assert found.steps()[0].argv[4] == "/cache/web-1.4.2.tgz"


def test_states_of_unknown_clusters_are_refused() -> None:
    stray = Cluster(name="elsewhere", env="prod", context="x")
    with pytest.raises(ValueError, match="elsewhere"):
        plan_for([state(stray, "web", Status.NOT_INSTALLED)])


def test_counts_and_changes() -> None:
    plan = plan_for(fleet(), prune=True, recover=True)
    counts = plan.counts()
    assert (counts[StepKind.INSTALL], counts[StepKind.UPGRADE], counts[StepKind.SKIP]) == (3, 3, 3)
    assert (counts[StepKind.RECOVER], counts[StepKind.UNINSTALL], counts[StepKind.BLOCKED]) == (1, 1, 0)
    assert plan.has_changes
    quiet = plan_for([state(EU, "web", Status.IN_SYNC)])
    assert not quiet.has_changes


@pytest.mark.parametrize("major", [3, 4])
def test_dry_run_text(golden: Callable[[str, str], None], major: int) -> None:
    golden(f"rollout-helm{major}.txt", plan_for(fleet(), major=major, prune=True).render_text())


def test_dry_run_text_with_recovery(golden: Callable[[str, str], None]) -> None:
    golden("rollout-recover.txt", plan_for(fleet(), major=4, recover=True).render_text())


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.example.com"}}


def test_live_drift_becomes_a_repair_step_with_the_same_upgrade_argv() -> None:
    drifted = [state(EU, "web", Status.LIVE_DRIFT, reasons=("live drift: ConfigMap web/web-cfg is missing",))]
    changed = [state(EU, "web", Status.OUT_OF_SYNC, reasons=("values changed at x",))]
    repair = by_id(plan_for(drifted, major=4))["prod/prod-eu/web"]
    upgrade = by_id(plan_for(changed, major=4))["prod/prod-eu/web"]
    assert repair.kind is StepKind.REPAIR and repair.kind.runs and repair.uses_values
    assert repair.reason == "live drift: ConfigMap web/web-cfg is missing"
    assert repair.argv == upgrade.argv and "--force-conflicts" in repair.argv


def test_create_replace_puts_a_crds_step_before_the_helm_step_and_skip_passes_skip_crds() -> None:
    web = inst(EU, "web")
    web.crds = "CreateReplace"
    ingress = inst(EU, "ingress")
    ingress.crds = "Skip"
    states = [state(EU, "web", Status.OUT_OF_SYNC, instance=web), state(EU, "ingress", Status.LIVE_DRIFT,
                                                                        instance=ingress)]
    options = PlanOptions(helm=HELM, helm_major=3, crds={"prod/prod-eu/web": [CRD]})
    plan = build_plan(states, clusters=CLUSTERS, needs_levels=LEVELS, options=options)
    steps = by_id(plan)
    crds = steps["prod/prod-eu/web#crds"]
    assert crds.kind is StepKind.CRDS and crds.argv == [] and crds.crds == (CRD,)
    assert "widgets.example.com" in crds.reason and "server-side apply" in crds.reason
    assert steps["prod/prod-eu/web"].needs == ["prod/prod-eu/web#crds"]
    assert "--skip-crds" in steps["prod/prod-eu/ingress"].argv and "--skip-crds" not in steps["prod/prod-eu/web"].argv
    text = plan.render_text()
    assert "crds      web (namespace web): server-side apply" in text and "needs: web (crds)" in text
    assert plan.counts()[StepKind.REPAIR] == 1 and "1 repair" in text.splitlines()[0]


def test_under_create_an_install_creates_the_chart_crds_itself_and_an_upgrade_leaves_them() -> None:
    states = [state(EU, "web", Status.NOT_INSTALLED), state(EU, "ingress", Status.OUT_OF_SYNC)]
    wanted = {"prod/prod-eu/web": [CRD], "prod/prod-eu/ingress": [CRD]}
    plan = build_plan(states, clusters=CLUSTERS, needs_levels=LEVELS,
                      options=PlanOptions(helm=HELM, helm_major=4, create_crds=wanted))
    steps = by_id(plan)
    install, upgrade = steps["prod/prod-eu/web"], steps["prod/prod-eu/ingress"]
    assert install.kind is StepKind.INSTALL and install.crds == (CRD,) and "--skip-crds" in install.argv
    assert upgrade.kind is StepKind.UPGRADE and upgrade.crds == () and "--skip-crds" not in upgrade.argv
    assert "prod/prod-eu/web#crds" not in steps  # one step: the CRDs are created by the install step
    assert "creates the chart's CRDs first (crds: Create), those absent: widgets.example.com" in plan.render_text()
    plain = by_id(plan_for(states[:1], major=4))["prod/prod-eu/web"]  # nothing to create: helm installs crds/
    assert plain.crds == () and "--skip-crds" not in plain.argv


def test_helm4_forces_conflicts_except_for_a_release_applied_client_side() -> None:
    states = [state(EU, "web", Status.LIVE_DRIFT), state(EU, "ingress", Status.OUT_OF_SYNC)]
    options = PlanOptions(helm=HELM, helm_major=4, client_side=frozenset({"prod/prod-eu/ingress"}))
    steps = by_id(build_plan(states, clusters=CLUSTERS, needs_levels=LEVELS, options=options))
    assert "--force-conflicts" in steps["prod/prod-eu/web"].argv
    assert "--force-conflicts" not in steps["prod/prod-eu/ingress"].argv
