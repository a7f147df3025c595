"""A selector that matches nothing fails every command, naming the closest labels (issue: a typo in
``sync -l`` printed an all-zero plan and exited 0). ``--allow-no-matching-release`` accepts it."""

from __future__ import annotations

from pathlib import Path

import pytest

COMMANDS = (
    ("sync", "-e", "prod", "--yes"),
    ("diff", "-e", "prod"),
    ("status", "-e", "prod"),
    ("drift", "-e", "prod"),
    ("template", "-e", "prod"),
    ("list", "-e", "prod"),
)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_typo_in_the_selector_fails_every_command(golden, basic_repo: Path, helmkit, args: tuple[str, ...]):
    outcome = helmkit("--repo", str(basic_repo), *args, "-l", "name=wbe")
    assert outcome.code == 1, outcome.out + outcome.err
    assert outcome.out == ""
    golden("no-matching-release.txt", outcome.err)


def test_the_message_names_close_values_keys_and_known_values(golden, basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "list", "-e", "prod", "-l", "tier=platfrom,teem=payments")
    assert outcome.code == 1
    outcome2 = helmkit("--repo", str(basic_repo), "list", "-e", "prod", "-c", "prod-eu-west-1", "-l", "tier=db")
    assert outcome2.code == 1
    golden("no-matching-release-hints.txt", outcome.err + outcome2.err)


def test_drift_over_several_environments_fails_only_when_none_matches(basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "drift", "--all", "-l", "cluster=prod-eu-wst-1")
    assert outcome.code == 1
    assert "matches no release in environments `dev`, `prod`" in outcome.err
    assert "did you mean `cluster=prod-eu-west-1`" in outcome.err
    one_env = helmkit("--repo", str(basic_repo), "--kubeconfig", str(basic_repo / "none"), "drift", "--all",
                      "-l", "cluster=dev-1")
    assert "matches no release" not in one_env.err  # dev matches; prod, selecting nothing, is skipped


@pytest.mark.parametrize("where", ["before", "after"])
def test_allow_no_matching_release_accepts_an_empty_selection(basic_repo: Path, helmkit, where: str):
    flag = ("--allow-no-matching-release",)
    before, after = (flag, ()) if where == "before" else ((), flag)
    listed = helmkit("--repo", str(basic_repo), *before, "list", "-e", "prod", "-l", "name=wbe", *after)
    assert listed.code == 0, listed.err
    rendered = helmkit("--repo", str(basic_repo), *before, "template", "-e", "prod", "-l", "name=wbe", *after)
    assert rendered.code == 0, rendered.err
    assert rendered.out.strip() == ""


def test_a_selector_matching_only_a_disabled_release_is_no_typo(basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "template", "-e", "dev", "-l", "name=ingress")
    assert "matches no release" not in outcome.err
