"""The pre-merge modes through the command line, as a pull-request job runs them: no cluster, no
secrets in the environment, a real git clone of the example fleet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helmkit.adapters.tools import binary_path
from tests.support.gitwork import GIT_ENV

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
FLEET_PARTS = ("helmkit.yaml", "charts", "releases", "environments", "values", "schemas")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    root.mkdir()
    for part in FLEET_PARTS:
        source = REPO / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / part)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "fleet")
    git(root, "checkout", "-q", "-b", "change")
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, env={**os.environ, **GIT_ENV})


def helmkit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PAYMENTS_DB_PASSWORD"}  # a PR job has no secrets
    env["HELMKIT_HELM"] = str(binary_path(REPO, "helm-v4.1.4"))
    env["HELMKIT_TOOLS_DIR"] = str(REPO / ".helmkit" / "tools")
    return subprocess.run([sys.executable, "-m", "helmkit", "--repo", str(root), *args], check=False,
                          capture_output=True, text=True, env=env, timeout=600)


def test_pull_request_job_validates_and_diffs_without_secrets(clone: Path) -> None:
    env_file = clone / "environments" / "staging.yaml"
    text = env_file.read_text()
    env_file.write_text(text + "\n" if not text.endswith("\n") else text)  # formatting only: no diff
    release = clone / "releases" / "payments.yaml"
    release.write_text(release.read_text().replace("ref+env://PAYMENTS_DB_PASSWORD", "ref+env://PAYMENTS_DB_PW_V2"))
    git(clone, "commit", "-q", "-am", "rotate the payments secret reference")

    validate = helmkit(clone, "validate", "--changed-since", "main")
    assert validate.returncode == 0, validate.stderr
    assert "release instances affected" in validate.stdout + validate.stderr

    diff = helmkit(clone, "diff", "--git-base", "main", "--format", "markdown", "--detailed-exitcode")
    assert diff.returncode == 2, diff.stderr
    assert "| Environment | Cluster | Release |" in diff.stdout
    assert "payments" in diff.stdout and "storefront" not in diff.stdout
    assert "<secret hmac:" in diff.stdout  # the Secret changed, shown masked


def test_git_base_refuses_option_like_refs_and_cluster_flags(clone: Path) -> None:
    bad = helmkit(clone, "diff", "--git-base", "--output=/tmp/x")
    assert bad.returncode == 1
    assert "refused" in bad.stderr and "Traceback" not in bad.stderr
    mixed = helmkit(clone, "diff", "--git-base", "main", "--env", "prod")
    assert mixed.returncode == 1
    assert "drop --env" in mixed.stderr


def test_git_base_without_git_head_diffs_the_working_tree(clone: Path) -> None:
    """A pre-commit hook diffs what is about to be committed: uncommitted edits are the head."""
    release = clone / "releases" / "payments.yaml"
    release.write_text(release.read_text().replace("ref+env://PAYMENTS_DB_PASSWORD", "ref+env://PAYMENTS_DB_PW_V2"))

    diff = helmkit(clone, "diff", "--git-base", "main", "--detailed-exitcode")
    assert diff.returncode == 2, diff.stdout + diff.stderr
    assert "the working tree" in diff.stdout
    assert "payments" in diff.stdout

    committed = helmkit(clone, "diff", "--git-base", "main", "--git-head", "HEAD", "--detailed-exitcode")
    assert committed.returncode == 0, committed.stdout + committed.stderr  # nothing committed yet
