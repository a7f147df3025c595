"""A chart whose crds/ gate its own templates (``.Capabilities.APIVersions.Has`` of its CRD's group,
as kube-prometheus-stack's ServiceMonitors): helm's install creates the CRDs and then renders with
them, so the sync keeps the verdict under the render key of the capabilities after the sync, and
the next sync and diff start no helm process; so for a release that needs it and tests the same
API. Settled releases still show a hand edit of their chart's CRDs, and a changed input is still
rendered. Real helm 3.19 / 4.1 against sandbox clusters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.sync import SyncOptions, sync
from helmkit.adapters.runner import Result, Runner
from helmkit.adapters.tools import binary_path
from tests.e2e.conftest import REPO, TOOLS, StartClusters
from tests.e2e.test_sync_support import Fleet, chart_fleet

pytestmark = pytest.mark.e2e
CLUSTERS = ("g1", "g2")
CRD = "gizmos.gated.helmkit.dev"


@pytest.fixture
def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> Fleet:
    return chart_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, charts=["gated-crd", "gated-user"],
                       env="prod", clusters=[{"name": name} for name in CLUSTERS], releases={
                           "gizmos": {"chart": {"path": "charts/gated-crd"}, "namespace": "gizmos"},
                           "user": {"chart": {"path": "charts/gated-user"}, "namespace": "user", "needs": ["gizmos"]},
                       })


def kubectl(fleet: Fleet, cluster: str, *args: str) -> Result:
    major = "4" if "v4." in str(fleet.helm_bin) else "3"
    return Runner().run([str(binary_path(REPO, TOOLS[major][1])), "--context", fleet.clusters.context(cluster), *args],
                        check=True, timeout=60)


def set_release(fleet: Fleet, **spec: object) -> None:
    path = fleet.root / "releases" / "gizmos.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **spec}))


def test_after_a_sync_that_created_its_crds_nothing_renders_and_changes_still_show(gated: Fleet) -> None:
    first = gated.run(sync, SyncOptions(env="prod", yes=True))
    assert first.code == 0, first.out + first.err
    for cluster in CLUSTERS:  # helm installed crds/ before rendering (and before the release that needs it)
        deployed = {r.name: r for r in gated.clusters.releases(cluster)}
        assert "kind: Gizmo" in deployed["gizmos"].manifest, deployed["gizmos"].manifest
        assert "kind: Gizmo" in deployed["user"].manifest, deployed["user"].manifest

    again = gated.run(sync, SyncOptions(env="prod", yes=True))
    assert again.code == 0, again.out + again.err
    assert again.helm_started == 0, (again.ctx.runner.started, again.out)
    assert "plan: 4 skip" in again.out and "(4 in sync)" in again.out, again.out
    shown = gated.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 0, shown.out + shown.err
    assert shown.helm_started == 0, shown.ctx.runner.started

    # a hand edit of the chart's CRD, for settled releases: crds Create shows it, not applied
    kubectl(gated, "g1", "annotate", "crd", CRD, "gated.helmkit.dev/owner=hand", "--overwrite")
    # without live verdicts both clusters' CRDs are read and compared in one run: the edited one differs
    shutil.rmtree(gated.root / ".helmkit" / "cache" / "live-verdicts")
    create = gated.run(diff, DiffOptions(env="prod", fmt="json"))
    assert create.helm_started == 0, create.ctx.runner.started
    crds = {r["cluster"]: "\n".join(r["crds"]) for r in json.loads(create.out)["releases"] if r["release"] == "gizmos"}
    assert "NOT applied (crds: Create" in crds["g1"] and CRD in crds["g1"] and "hand" in crds["g1"], create.out
    assert crds["g2"] == "", create.out
    set_release(gated, crds="CreateReplace")  # not part of the render key: still settled
    replace = gated.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert replace.code == 2, replace.out + replace.err
    assert replace.helm_started == 0, replace.ctx.runner.started
    assert "chart CRDs (crds: CreateReplace): sync applies them" in replace.out and CRD in replace.out, replace.out
    repaired = gated.run(sync, SyncOptions(env="prod", yes=True))
    assert repaired.code == 0, repaired.out + repaired.err
    assert kubectl(gated, "g1", "get", "crd", CRD, "-o", "jsonpath={.metadata.annotations}").stdout.count("chart")
    assert gated.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0

    # a changed input changes the render key: rendered and compared again
    set_release(gated, values={"greeting": "hello"})
    changed = gated.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert changed.code == 2, changed.out + changed.err
    assert changed.helm_started >= 1, changed.ctx.runner.started
    assert "-  greeting: hi\n" in changed.out and "+  greeting: hello\n" in changed.out, changed.out
    assert "# ~ gated.helmkit.dev/Gizmo gizmos/gizmos" in changed.out, changed.out  # rendered with the CRD served
    assert gated.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    settled = gated.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert settled.code == 0 and settled.helm_started == 0, settled.out + str(settled.ctx.runner.started)
