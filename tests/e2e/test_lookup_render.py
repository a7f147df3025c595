"""A chart that needs the cluster to render an upgrade: ``lookup`` keeps its password, and without
the existing Secret it refuses to upgrade (``PASSWORDS ERROR``, as many database charts do).

``helm template --is-upgrade`` fails for it offline; the real ``helm upgrade`` succeeds. helmkit asks
the cluster (``helm upgrade --dry-run=server``) for such a release, so a no-op is a no-op on both
helm majors and a values change shows exactly itself, never a new password.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.status import StatusOptions, status
from helmkit.actions.sync import SyncOptions, sync
from tests.e2e.conftest import StartClusters
from tests.e2e.test_sync_support import Fleet, chart_fleet

pytestmark = pytest.mark.e2e


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> Fleet:
    return chart_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, charts=["lookup-required"], env="day2",
                       releases={"db": {"chart": {"path": "charts/lookup-required"}, "namespace": "db"}},
                       clusters=[{"name": "l1"}])


def test_a_chart_that_needs_lookup_to_upgrade_is_in_sync_and_a_change_is_exactly_itself(fleet: Fleet) -> None:
    first = fleet.run(sync, SyncOptions(env="day2", yes=True))
    assert first.code == 0, first.out + first.err
    password = _password(fleet)

    shown = fleet.run(diff, DiffOptions(env="day2", detailed_exitcode=True))
    assert shown.code == 0, shown.out + shown.err  # offline, helm template fails with PASSWORDS ERROR
    assert "day2: 1 releases: 1 in-sync" in shown.out, shown.out
    assert "PASSWORDS ERROR" not in shown.out + shown.err

    listed = fleet.run(status, StatusOptions(env="day2"))
    assert listed.code == 0, listed.out + listed.err
    assert "in-sync" in listed.out

    again = fleet.run(sync, SyncOptions(env="day2", yes=True))
    assert again.code == 0, again.out + again.err
    assert _revision(fleet) == 1  # nothing to do: no upgrade
    before = len(fleet.argvs)
    settled = fleet.run(diff, DiffOptions(env="day2", detailed_exitcode=True))
    assert settled.code == 0, settled.out + settled.err
    assert fleet.argvs[before:] == [], fleet.argvs[before:]  # judged before, record unchanged: a verdict, no helm

    changed = fleet.run(diff, DiffOptions(env="day2", detailed_exitcode=True, set_values=("greeting=bonjour",)))
    assert changed.code == 2, changed.out + changed.err
    assert "ConfigMap db/db-settings" in changed.out and "bonjour" in changed.out, changed.out
    assert "Secret" not in changed.out, changed.out  # the kept password is no change
    assert "out-of-sync +0 ~1 -0" in changed.out, changed.out

    done = fleet.run(sync, SyncOptions(env="day2", yes=True, set_values=("greeting=bonjour",)))
    assert done.code == 0, done.out + done.err
    assert _password(fleet) == password
    after = fleet.run(diff, DiffOptions(env="day2", detailed_exitcode=True, set_values=("greeting=bonjour",)))
    assert after.code == 0, after.out + after.err


def _revision(fleet: Fleet) -> int:
    record = fleet.clusters.releases("l1")[0]
    return int(record.revision)


def _password(fleet: Fleet) -> str:
    record = fleet.clusters.releases("l1")[0]
    for document in yaml.safe_load_all(record.manifest):
        if isinstance(document, dict) and document.get("kind") == "Secret":
            return str(document["data"]["password"])
    raise AssertionError("no Secret in the release record")
