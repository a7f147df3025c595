"""`helmkit status` end to end: clusters x releases as Helm has them, against sandbox clusters."""

from __future__ import annotations

import json

import pytest

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.status import StatusOptions, status
from helmkit.actions.sync import SyncOptions, sync
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import Fleet

pytestmark = pytest.mark.e2e
stage = support.stage  # fixture


def test_status_lists_each_release_per_cluster_with_revision_and_sync_state(stage: Fleet) -> None:
    assert stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1")).code == 0
    stage.helm("rollback", "log-shipper", "1", "--namespace", "logging", context="c1")  # revision 2, same content

    shown = stage.run(status, StatusOptions(env="stage", fmt="json"))
    assert shown.code == 0, shown.err
    rows = {(r["cluster"], r["release"]): r for r in json.loads(shown.out)}
    assert sorted(rows) == [("c1", "cert-manager"), ("c1", "cluster-issuer"), ("c1", "log-shipper"),
                            ("c2", "cert-manager"), ("c2", "cluster-issuer"), ("c2", "log-shipper")]
    shipper = rows[("c1", "log-shipper")]
    assert (shipper["revision"], shipper["helm_status"], shipper["status"]) == (2, "deployed", "in-sync")
    assert shipper["chart"].startswith("log-shipper-") and shipper["last_deployed"]
    assert rows[("c2", "cert-manager")]["status"] == "not-installed"

    stage.clusters.faults("c2").set_unreachable()
    table = stage.run(status, StatusOptions(env="stage"))
    assert table.code == 1
    lines = table.out.splitlines()
    assert lines[0].split() == ["CLUSTER", "RELEASE", "NAMESPACE", "CHART", "REVISION", "HELM", "STATUS", "LAST",
                                "DEPLOYED", "STATUS"]
    assert any(line.startswith("c2") and line.rstrip().endswith("unreachable") for line in lines), table.out
    assert sum(1 for line in lines if line.startswith("c1") and line.rstrip().endswith("in-sync")) == 3
    why = diff_reason(stage, "c2")  # what diff says about the cluster: status says the same
    assert f"error: cluster c2: {why}" in table.err, table.err
    as_json = json.loads(stage.run(status, StatusOptions(env="stage", fmt="json")).out)
    assert [r["reason"] for r in as_json if r["status"] == "unreachable"] == [why]


def diff_reason(fleet: Fleet, cluster: str) -> str:
    shown = fleet.run(diff, DiffOptions(env="stage"))
    line = next(line for line in shown.out.splitlines() if line.startswith(f"error: cluster {cluster}: "))
    reason = line.removeprefix(f"error: cluster {cluster}: ")
    assert reason.strip(), shown.out
    return reason
