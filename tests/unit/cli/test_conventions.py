"""The conventions of kubectl and helm: global options also after the subcommand, and -o/--output
meaning the output format everywhere (with --output-file for drift's file, its old spelling kept)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helmkit.adapters.tools import binary_path
from tests.unit.cli.test_unreachable import write_kubeconfig

PROJECT = Path(__file__).resolve().parents[3]
HELM3 = binary_path(PROJECT, "helm-v3.19.0")
HELM4 = binary_path(PROJECT, "helm-v4.1.4")


def test_global_options_after_the_subcommand(basic_repo: Path, helmkit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_DB_PASSWORD", "not-a-real-password")
    monkeypatch.chdir(basic_repo.parent)  # --repo is needed: the current folder is no release repository
    listed = helmkit("list", "-e", "prod", "--repo", str(basic_repo), "-o", "json")
    assert listed.code == 0, listed.err
    assert {row["release"] for row in json.loads(listed.out)} == {"cert-manager", "ingress", "web"}

    version = helmkit("version", "--helm", str(HELM3), "--repo", str(basic_repo))
    assert version.code == 0, version.err
    assert f"helm: {HELM3} (from --helm)" in version.out

    quiet = helmkit("--repo", str(basic_repo), "template", "-e", "prod", "-l", "name=web", "--helm", str(HELM4))
    verbose = helmkit("template", "-e", "prod", "-l", "name=web", "-v", "--repo", str(basic_repo),
                      "--helm", str(HELM4))
    assert quiet.code == verbose.code == 0, verbose.err
    assert "rendered 2 of 2 instances" in verbose.err and "rendered" not in quiet.err


def test_the_later_global_option_wins(basic_repo: Path, helmkit):
    outcome = helmkit("--helm", str(HELM4), "--repo", str(basic_repo), "version", "--helm", str(HELM3))
    assert f"helm: {HELM3} (from --helm)" in outcome.out


@pytest.mark.parametrize("spelling", ["-o", "--output", "--format"])
def test_dash_o_is_the_output_format(basic_repo: Path, helmkit, spelling: str):
    for args in (("list", "-e", "prod"), ("validate", "--no-render"), ("status", "-e", "nope")):
        outcome = helmkit("--repo", str(basic_repo), *args, spelling, "json")
        if args[0] == "status":  # parsed: the unknown environment is the error, not the option
            assert outcome.code == 1 and "unknown environment `nope`" in outcome.err
            continue
        assert outcome.code == 0, outcome.err
        json.loads(outcome.out)
    graph = helmkit("--repo", str(basic_repo), "graph", "-e", "prod", spelling, "mermaid")
    assert graph.code == 0 and graph.out.startswith("flowchart")


def test_template_json_is_one_list_of_objects(golden, basic_repo: Path, helmkit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_DB_PASSWORD", "not-a-real-password")
    outcome = helmkit("--repo", str(basic_repo), "--helm", str(HELM4), "template", "-e", "prod", "-c",
                      "prod-eu-west-1", "-l", "name=web", "-o", "json")
    assert outcome.code == 0, outcome.err
    doc = json.loads(outcome.out)
    assert doc["kind"] == "List" and [item["kind"] for item in doc["items"]] == ["Deployment"]
    assert "not-a-real-password" not in outcome.out
    golden("template-web.json", outcome.out)
    both = helmkit("--repo", str(basic_repo), "template", "-e", "prod", "-o", "json", "--output-dir", "out")
    assert both.code == 1 and "--output-dir writes YAML files" in both.err


def test_drift_output_file_and_the_old_output_spelling(basic_repo: Path, helmkit, tmp_path: Path):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig")  # unreachable clusters: reports are still written
    base = ("--repo", str(basic_repo), "--helm", str(HELM4), "drift", "-e", "prod", "-l", "name=ingress",
            "--kubeconfig", str(kubeconfig))
    new = helmkit(*base, "-o", "json", "--output-file", str(tmp_path / "new.json"))
    assert json.loads((tmp_path / "new.json").read_text())["environments"] == ["prod"]
    assert "warning" not in new.err
    old = helmkit(*base, "-o", "json", "--output", str(tmp_path / "old.json"))
    assert json.loads((tmp_path / "old.json").read_text())["environments"] == ["prod"]
    assert "warning: --output" in old.err and f"--output-file {tmp_path / 'old.json'}" in old.err
    stdout = helmkit(*base, "--output", "json")
    assert json.loads(stdout.out)["environments"] == ["prod"]
