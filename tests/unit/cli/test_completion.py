"""Shell completion through click's bash protocol, as ``eval "$(_HELMKIT_COMPLETE=bash_source helmkit)"``
sets it up: environments, clusters, release names, selector label keys and values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import BashComplete

from helmkit.cli.main import cli


def bash_complete(cwd: Path, line: str) -> list[str]:
    """The candidates bash gets for ``line`` (completing its last, possibly empty, word)."""
    words = line.split(" ")
    env = {**os.environ, "_HELMKIT_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    done = subprocess.run([sys.executable, "-m", "helmkit"], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [item.partition(",")[2] for item in done.stdout.splitlines() if item]


def complete(cwd: Path, line: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The same candidates, computed in this process (click's completion code, no shell)."""
    words = line.split(" ")
    monkeypatch.chdir(cwd)
    completer = BashComplete(cli, {}, "helmkit", "_HELMKIT_COMPLETE")
    return [item.value for item in completer.get_completions(words[1:-1], words[-1])]


@pytest.mark.parametrize(("line", "expected"), [
    ("helmkit diff -e ", ["dev", "prod"]),
    ("helmkit sync --env p", ["prod"]),
    ("helmkit drift -e ", ["dev", "prod"]),
    ("helmkit status -e prod -c ", ["prod-eu-west-1", "prod-us-east-1"]),
    ("helmkit template -e dev -c ", ["dev-1"]),
    ("helmkit explain ", ["cert-manager", "ingress", "web"]),
    ("helmkit list -e prod -l t", ["team=", "tier="]),
    ("helmkit list -e prod -l tier=", ["tier=platform", "tier=service"]),
    ("helmkit diff -e prod -l tier=platform,na", ["tier=platform,name=", "tier=platform,namespace="]),
    ("helmkit diff -e prod -l name=w", ["name=web"]),
    ("helmkit diff -e prod -l !t", ["!team", "!tier"]),
])
def test_completion_in_the_repository(basic_repo: Path, line: str, expected: list[str],
                                      monkeypatch: pytest.MonkeyPatch):
    assert complete(basic_repo, line, monkeypatch) == expected


def test_completion_follows_repo_before_or_after_the_subcommand(basic_repo: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    assert complete(tmp_path, f"helmkit --repo {basic_repo} diff -e ", monkeypatch) == ["dev", "prod"]
    assert complete(tmp_path, f"helmkit status --repo {basic_repo} -e prod -c prod-e", monkeypatch) == [
        "prod-eu-west-1"]


def test_bash_gets_the_candidates_and_nothing_outside_a_repository(basic_repo: Path, tmp_path: Path):
    assert bash_complete(basic_repo, "helmkit list -e prod -l tier=") == ["tier=platform", "tier=service"]
    assert bash_complete(tmp_path, "helmkit diff -e ") == []
    assert bash_complete(tmp_path, "helmkit list -l ") == []
