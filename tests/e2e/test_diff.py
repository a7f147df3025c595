"""`helmkit diff` end to end: real helm against sandbox clusters; masking, formats, unreachable clusters."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.sync import SyncOptions, sync
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import CANARY, REPO, Fleet

pytestmark = pytest.mark.e2e
prod = support.prod  # fixtures
stage = support.stage
NEW_CANARY = "canary-Xk7-rotated-value"
ONE_PAYMENTS = {"env": "prod", "cluster": "prod-us-east-1", "selector": "name=payments"}


def test_a_changed_secret_shows_as_different_masks_and_never_in_clear(prod: Fleet,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert prod.run(sync, SyncOptions(yes=True, **ONE_PAYMENTS)).code == 0
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", NEW_CANARY)

    shown = prod.run(diff, DiffOptions(detailed_exitcode=True, **ONE_PAYMENTS))
    assert shown.code == 2, shown.out + shown.err
    assert CANARY not in shown.out + shown.err and NEW_CANARY not in shown.out + shown.err
    assert "# ~ v1/Secret payments/payments-database" in shown.out
    removed = re.findall(r"^  -\s+password: (<secret hmac:\w+>)$", shown.out, re.M)
    added = re.findall(r"^  \+\s+password: (<secret hmac:\w+>)$", shown.out, re.M)
    assert len(removed) == 2 and len(added) == 2, shown.out  # in the values and in the Secret's data
    assert set(removed).isdisjoint(added), shown.out

    as_json = prod.run(diff, DiffOptions(fmt="json", **ONE_PAYMENTS))
    data = json.loads(as_json.out)
    assert [(r["release"], r["status"]) for r in data["releases"]] == [("payments", "out-of-sync")]
    assert CANARY not in as_json.out and NEW_CANARY not in as_json.out

    revealed = prod.run(diff, DiffOptions(show_secrets=True, **ONE_PAYMENTS))
    assert NEW_CANARY in revealed.out  # asked for explicitly


def test_markdown_names_each_release_that_differs(stage: Fleet) -> None:
    shown = stage.run(diff, DiffOptions(env="stage", fmt="markdown", cluster="c1", detailed_exitcode=True))
    assert shown.code == 2
    assert shown.out.startswith("## helmkit diff: stage\n")
    assert "### c1 / cert-manager — not-installed (+" in shown.out and "```diff" in shown.out
    assert "| not-installed | 3 |" in shown.out


def test_an_unreachable_cluster_is_reported_while_the_others_are_diffed(stage: Fleet) -> None:
    assert stage.run(sync, SyncOptions(env="stage", yes=True, cluster="c1")).code == 0
    stage.clusters.faults("c2").set_unreachable()
    shown = stage.run(diff, DiffOptions(env="stage", detailed_exitcode=True))
    assert shown.code == 1, shown.out
    assert shown.out.count("error: cluster c2: ") == 1  # once, not "cluster c2: cluster c2:"
    assert "stage: 3 releases: 3 in-sync" in shown.out  # c1 was read and compared


def test_cli_detailed_exitcode_and_no_traceback(stage: Fleet) -> None:
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"))
    argv = [sys.executable, "-m", "helmkit", "--repo", str(stage.root), "--helm", str(stage.helm_bin), "diff",
            "--env", "stage", "--detailed-exitcode", "--kubeconfig", str(stage.kubeconfig)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "+ c1 cert-manager (namespace cert-manager): not-installed" in proc.stdout
    bad = subprocess.run([*argv[:8], "--env", "nope"], capture_output=True, text=True, env=env, check=False,
                         timeout=60)
    assert bad.returncode == 1 and "unknown environment `nope`" in bad.stderr and "Traceback" not in bad.stderr
