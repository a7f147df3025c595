"""Manifests as helm writes and reads them, end to end on both helm majors.

The ``oddities`` chart (tests/e2e/charts/oddities) carries what real upstream charts do to a
manifest reader: crds/ files that open with a licence comment and ``---`` (its own and a
subchart's), two CRDs in one file, a CRD enum item ``- =``, YAML 1.1 scalars and merge keys in
custom resources and ConfigMaps. After one sync nothing may differ: diff exits 0, status says
in-sync, drift finds nothing (drift compares helmkit's reading of helm's record with what helm
really sent to the API server), and a second sync starts no helm upgrade.

The ``unreadable`` chart renders, when told to, a document nobody can key (a ConfigMap without a
name): that release alone is an error in every command, named with its template; the other
release goes on.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.drift import DriftOptions, ReportTarget, drift
from helmkit.actions.livestate import AssessOptions, assess
from helmkit.actions.status import StatusOptions, status
from helmkit.actions.sync import SyncOptions, sync
from helmkit.plan.manifests import differing_documents
from tests.e2e.conftest import StartClusters
from tests.e2e.test_sync_support import REPO, Fleet

pytestmark = pytest.mark.e2e
CHARTS = Path(__file__).parent / "charts"
ENV = """\
name: stage
clusters:
  - name: c1
    region: us-east-1
    wave: 0
"""
RELEASES = {
    "oddities": {"chart": {"path": "charts/oddities"}, "namespace": "odd", "wait": False},
    "unreadable": {"chart": {"path": "charts/unreadable"}, "namespace": "plain", "wait": False},
}


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> Fleet:
    root = tmp_path / "fleet"
    (root / "releases").mkdir(parents=True)
    (root / "environments").mkdir()
    shutil.copy(REPO / "helmkit.yaml", root / "helmkit.yaml")
    shutil.copytree(REPO / "schemas", root / "schemas")
    for name, spec in RELEASES.items():
        shutil.copytree(CHARTS / name, root / "charts" / name)
        (root / "releases" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    (root / "environments" / "stage.yaml").write_text(ENV)
    clusters = named_clusters("c1")
    clusters.pin_contexts(root / "environments" / "stage.yaml")
    monkeypatch.setenv("KUBECONFIG", str(clusters.kubeconfig))
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "home" / key.lower()))
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    return Fleet(root, clusters, clusters.kubeconfig, helm_bin)


def upgrades(fleet: Fleet) -> list[str]:
    """Releases that helm was asked to install or upgrade since the last call."""
    names = [argv[argv.index("upgrade") + 2] for argv in fleet.argvs if "upgrade" in argv]
    fleet.argvs.clear()
    return names


def test_odd_manifests_sync_once_then_nothing_differs(fleet: Fleet) -> None:
    first = fleet.run(sync, SyncOptions(env="stage", yes=True))
    assert first.code == 0, first.out + first.err
    assert sorted(upgrades(fleet)) == ["oddities", "unreadable"]
    crds = {name for name in fleet.clusters.snapshot("c1").crds if name.endswith("oddities.helmkit.dev")}
    assert crds == {"doodads.oddities.helmkit.dev", "whatsits.oddities.helmkit.dev", "gadgets.oddities.helmkit.dev"}

    assessment = assess(fleet.context(), AssessOptions("stage"))
    for item in assessment.releases:  # helm records the text it renders: no document needs a parse
        assert item.desired_manifest is not None and item.deployed is not None
        assert differing_documents(item.desired_manifest, item.deployed.manifest) == ([], [])

    shown = fleet.run(diff, DiffOptions(env="stage", detailed_exitcode=True, fmt="json"))
    assert shown.code == 0, shown.out + shown.err
    report = json.loads(shown.out)
    assert report["errors"] == [] and not report["differs"]
    assert {r["release"]: r["status"] for r in report["releases"]} == {"oddities": "in-sync", "unreadable": "in-sync"}

    table = fleet.run(status, StatusOptions(env="stage", fmt="json"))
    assert table.code == 0, table.err
    assert {r["release"]: r["status"] for r in json.loads(table.out)} == {"oddities": "in-sync",
                                                                          "unreadable": "in-sync"}

    scan = fleet.run(drift, DriftOptions(envs=("stage",), reports=(ReportTarget("json"),)))
    assert scan.code == 0, scan.out + scan.err
    found = json.loads(scan.out)
    assert found["findings"] == [] and found["errors"] == []

    again = fleet.run(sync, SyncOptions(env="stage", yes=True))
    assert again.code == 0, again.out + again.err
    assert upgrades(fleet) == []


def test_an_unreadable_release_is_an_error_of_its_own_in_every_command(fleet: Fleet) -> None:
    assert fleet.run(sync, SyncOptions(env="stage", yes=True)).code == 0
    upgrades(fleet)
    spec = {**RELEASES["unreadable"], "values": {"broken": True}}
    (fleet.root / "releases" / "unreadable.yaml").write_text(yaml.safe_dump(spec))
    where = "stage/c1/unreadable: cannot read its manifest: unreadable/templates/broken.yaml:"
    what = "a ConfigMap of rendered manifest has no metadata.name"

    shown = fleet.run(diff, DiffOptions(env="stage", detailed_exitcode=True, fmt="json"))
    assert shown.code == 1, shown.out + shown.err
    report = json.loads(shown.out)
    (error,) = report["errors"]
    assert error.startswith(where) and what in error
    assert {r["release"]: r["status"] for r in report["releases"]} == {"oddities": "in-sync", "unreadable": "error"}
    text = fleet.run(diff, DiffOptions(env="stage"))
    assert text.code == 1 and f"error: {where}" in text.out

    table = fleet.run(status, StatusOptions(env="stage", fmt="json"))
    assert table.code == 1
    assert {r["release"]: r["status"] for r in json.loads(table.out)} == {"oddities": "in-sync", "unreadable": "error"}
    assert f"error: {where}" in table.err and what in table.err

    scan = fleet.run(drift, DriftOptions(envs=("stage",), reports=(ReportTarget("json"),)))
    assert scan.code == 1, scan.out + scan.err
    found = json.loads(scan.out)
    assert found["findings"] == []
    (error,) = found["errors"]
    assert error.startswith(where) and what in error

    planned = fleet.run(sync, SyncOptions(env="stage", dry_run=True))
    assert planned.code == 1, planned.out + planned.err
    assert where in planned.out and "oddities" in planned.out
    assert upgrades(fleet) == []

    applied = fleet.run(sync, SyncOptions(env="stage", yes=True))
    assert applied.code == 1, applied.out + applied.err
    assert where in applied.out
    assert upgrades(fleet) == []  # the readable release was in sync; the unreadable one was not touched
