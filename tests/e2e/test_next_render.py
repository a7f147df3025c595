"""After a sync, the next run renders nothing, also for charts whose install rendering is not what
the next run compares: a chart that reads ``.Release.IsInstall`` (rendered as an upgrade next
time) and a chart that keeps its password through ``lookup`` (asked of the cluster next time).
The sync renders those the next run's way right after it deployed them (helmkit.actions.nextrender);
where the install differs from what an upgrade renders (``IgnoreOnInstallOnly``), the next diff
shows the difference, from the render cache. Real helm 3.19 / 4.1 against sandbox clusters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.sync import SyncOptions, sync
from tests.e2e.conftest import StartClusters
from tests.e2e.test_sync_support import Fleet, chart_fleet

pytestmark = pytest.mark.e2e
CLUSTERS = ("n1", "n2")


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> Fleet:
    return chart_fleet(tmp_path, monkeypatch, named_clusters, helm_bin,
                       charts=["install-phase", "lookup-required", "generated-password"], env="prod",
                       clusters=[{"name": name} for name in CLUSTERS], releases={
                           "phase": {"chart": {"path": "charts/install-phase"}, "namespace": "phase"},
                           "db": {"chart": {"path": "charts/lookup-required"}, "namespace": "db"},
                           "pw": {"chart": {"path": "charts/generated-password"}, "namespace": "pw"},
                       })


def _policy(fleet: Fleet, cluster: str, release: str) -> str:
    record = next(r for r in fleet.clusters.releases(cluster) if r.name == release)
    return str(yaml.safe_load(record.manifest)["data"]["failurePolicy"])


def test_a_sync_after_installs_of_phase_and_lookup_charts_starts_no_helm(fleet: Fleet) -> None:
    first = fleet.run(sync, SyncOptions(env="prod", yes=True))
    assert first.code == 0, first.out + first.err
    upgrades = [argv for argv in fleet.argvs if "template" in argv and "--is-upgrade" in argv]
    offline = sorted(argv[2] for argv in upgrades if "--dry-run=server" not in argv)
    # As the next run renders them: one rendering serves both clusters (db's fails offline, once for the run).
    assert offline == ["db", "phase"], fleet.argvs
    dry_runs = [argv for argv in fleet.argvs if "--dry-run=server" in argv]
    # Only the chart whose offline upgrade rendering fails is asked of each cluster; the one whose lookup
    # keeps a generated password is settled offline, as the next run's comparison settles it.
    assert sorted(argv[2] for argv in dry_runs) == ["db"] * len(CLUSTERS), fleet.argvs
    assert all(argv in upgrades and "upgrade" not in argv for argv in dry_runs), dry_runs  # helm template's
    # pw generates its password: the sync's rendering and the new records tell which fields it generates,
    # so one rendering (both clusters, before the sync) is all it takes, not a second one to learn them
    assert [argv[2] for argv in fleet.argvs if "template" in argv and argv[2] == "pw"] == ["pw"], fleet.argvs

    again = fleet.run(sync, SyncOptions(env="prod", yes=True))
    assert again.code == 0, again.out + again.err
    assert again.helm_started == 0, (again.ctx.runner.started, again.out)
    assert "(6 in sync)" in again.out, again.out
    shown = fleet.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert (shown.code, shown.helm_started) == (0, 0), (shown.out, shown.ctx.runner.started)


def test_an_install_that_differs_from_its_upgrade_shows_the_difference_without_helm(fleet: Fleet) -> None:
    path = fleet.root / "releases" / "phase.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "values": {
        "failurePolicy": "IgnoreOnInstallOnly"}}))
    first = fleet.run(sync, SyncOptions(env="prod", yes=True))
    assert first.code == 0, first.out + first.err
    assert {_policy(fleet, c, "phase") for c in CLUSTERS} == {"Ignore"}

    shown = fleet.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 2, shown.out + shown.err  # as helm diff upgrade shows it: the upgrade sets Fail
    assert shown.helm_started == 0, shown.ctx.runner.started  # rendered by the sync, from the render cache
    assert "-  failurePolicy: Ignore" in shown.out and "+  failurePolicy: Fail" in shown.out, shown.out

    done = fleet.run(sync, SyncOptions(env="prod", yes=True))
    assert done.code == 0, done.out + done.err
    assert {_policy(fleet, c, "phase") for c in CLUSTERS} == {"Fail"}
    again = fleet.run(sync, SyncOptions(env="prod", yes=True))
    assert (again.code, again.helm_started) == (0, 0), (again.out, again.ctx.runner.started)
