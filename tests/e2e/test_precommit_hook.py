"""The pre-commit hook in a fleet repository that never ran ``helmkit bootstrap``, with no helm on PATH:
the hook's own entry (read from .pre-commit-hooks.yaml) installs the pinned helm once into the
user's tools folder, validates, and leaves the repository clean. No secret is exported."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.gitwork import GIT_ENV

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "repos" / "basic"


def hook_entry(hook_id: str) -> list[str]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    entry = next(h["entry"] for h in hooks if h["id"] == hook_id)
    argv = shlex.split(entry)
    assert argv[0] == "helmkit"
    return argv[1:]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    shutil.copytree(FIXTURE, root)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "fleet")):
        subprocess.run(["git", *args], cwd=root, check=True, env={**os.environ, **GIT_ENV})
    web = root / "releases" / "web.yaml"
    web.write_text(web.read_text().replace("labels: {", "labels: {owner: shop, "))  # the change to commit
    return root


def run_hook(fleet: Path, tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"  # git, and no helm
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "git").exists():
        (bin_dir / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELMKIT_", "WEB_DB"))}
    env.update(PATH=str(bin_dir), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PIP_CACHE_DIR=str(Path.home() / ".cache" / "pip"), **GIT_ENV)
    return subprocess.run([sys.executable, "-m", "helmkit", *args], cwd=fleet, env=env, capture_output=True,
                          text=True, check=False, timeout=900)


def test_the_hook_installs_the_pinned_helm_once_when_none_is_found(fleet: Path, tmp_path: Path) -> None:
    without = run_hook(fleet, tmp_path, ["validate", "--changed-since", "HEAD"])
    assert without.returncode == 1 and "no helm binary found" in without.stdout + without.stderr
    assert "--install-helm" in without.stderr

    first = run_hook(fleet, tmp_path, hook_entry("helmkit-validate"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "no helm found: installing the pinned helm-v4.1.4" in first.stderr
    assert "3 rendered" in first.stdout  # web on dev-1 and both prod clusters, rendered with helm
    assert (tmp_path / "cache" / "helmkit" / "tools" / "helm-v4.1.4" / "helm").is_file()

    second = run_hook(fleet, tmp_path, hook_entry("helmkit-validate"))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "installing" not in second.stderr

    status = subprocess.run(["git", "status", "--porcelain"], cwd=fleet, capture_output=True, text=True, check=True)
    assert status.stdout.split("\n")[0].strip() == "M releases/web.yaml"  # no .helmkit/ left in the repository
    assert len(status.stdout.strip().splitlines()) == 1
