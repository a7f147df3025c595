"""`helmkit import` side by side with helmfile 0.166: the imported repository renders what helmfile renders.

For each helmfile written for the suite (``tests/e2e/helmfiles/``) and each of its environments,
``helmkit template --env E`` of the imported repository (real helm 3.19 and 4.1) must give the same
documents as ``helmfile -e E template`` of the original (helmfile 0.166 with helm 3.15.3, installed by
``helmkit bootstrap --with-helmfile``; ``make check`` bootstraps it). What is normalised, and why:

- document order and comments (``# Source:`` lines, helmkit's per-release headers): helmfile renders
  releases in its own order; the set of objects is what both deploy;
- the values of a Secret's ``data``/``stringData``: ``helmkit template`` masks them by design, so only
  their keys are compared.

Nothing else: every other field of every object must be equal. helmfile runs with ``--include-crds``:
``helmkit template`` prints a chart's ``crds/`` (what helm installs with the release), helmfile only when asked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.adapters.tools import binary_path

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
HELMFILES = Path(__file__).parent / "helmfiles"
GOLDEN = Path(__file__).parent / "golden"
HELM = {"3": "helm-v3.19.0", "4": "helm-v4.1.4"}
CASES = {"fleet": ("dev", "prod"), "layered": ("staging", "production"), "examples": ("staging", "prod")}
PASSWORD = "pw-Zq9-canary-7781"
EXTRA_ENV = {"HFIMPORT_DB_PASSWORD": PASSWORD}  # read by requiredEnv in the fleet's and untranslatable's helmfiles


@pytest.fixture(scope="module")
def helmfile_bin() -> Path:
    binary = binary_path(REPO, "helmfile-v0.166.0")
    if not binary.is_file():
        message = "helmfile 0.166 is not bootstrapped: run `helmkit bootstrap --with-helmfile` (make check does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def tool_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("helmhome")
    env = {**os.environ, **EXTRA_ENV}
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[key] = str(home / key.lower())
    env.pop("HELMKIT_HELM", None)
    env.pop("HELMKIT_HELMFILE", None)
    return env


def helmkit(*args: str, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "helmkit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def import_case(case: str, target: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return helmkit("--repo", str(REPO), "import", str(HELMFILES / case / "helmfile.yaml"), "--to", str(target),
                   *extra, env=env)


@pytest.fixture(scope="module")
def imported(helmfile_bin: Path, tool_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, Path]:
    result = {}
    for case in CASES:
        target = tmp_path_factory.mktemp(f"imported-{case}")
        run = import_case(case, target, tool_env)
        assert run.returncode in (0, 2), run.stdout + run.stderr
        result[case] = target
    return result


def documents(text: str) -> list[str]:
    """The rendered objects, normalised as the module docstring says, sorted."""
    found = []
    for doc in yaml.safe_load_all(text):
        if doc is None:
            continue
        if doc.get("kind") == "Secret":
            for key in ("data", "stringData"):
                if key in doc:
                    doc[key] = dict.fromkeys(doc[key], "<compared by key only>")
        found.append(json.dumps(doc, sort_keys=True))
    return sorted(found)


def helmfile_template(helmfile_bin: Path, case: str, environment: str, env: dict[str, str]) -> list[str]:
    helm = binary_path(REPO, "helm-v3.15.3")
    run = subprocess.run([str(helmfile_bin), "--environment", environment, "--helm-binary", str(helm),
                          "template", "--skip-deps", "--include-crds"],
                         cwd=HELMFILES / case, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    return documents(run.stdout)


@pytest.mark.parametrize("case_env", [f"{c}/{e}" for c, envs in CASES.items() for e in envs])
def test_imported_repository_renders_what_helmfile_renders(
        case_env: str, helm_major: str, helmfile_bin: Path, imported: dict[str, Path], tool_env: dict[str, str]
) -> None:
    case, environment = case_env.split("/")
    expected = helmfile_template(helmfile_bin, case, environment, tool_env)
    run = helmkit("--helm", str(binary_path(REPO, HELM[helm_major])), "template", "--env", environment,
                  env=tool_env, cwd=imported[case])
    assert run.returncode == 0, run.stderr
    got = documents(run.stdout)
    assert len(expected) >= 6
    assert got == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_imported_repository_is_valid(case: str, imported: dict[str, Path], tool_env: dict[str, str]) -> None:
    run = helmkit("--helm", str(binary_path(REPO, HELM["4"])), "validate", env=tool_env, cwd=imported[case])
    assert run.returncode == 0, run.stdout + run.stderr


def test_fleet_import_reports_the_hook_and_keeps_layers(imported: dict[str, Path], tool_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    run = import_case("fleet", tmp_path / "again", tool_env)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "helmfile.yaml:53: release `api`: `hooks` is not translated" in run.stdout
    root = imported["fleet"]
    assert read(root / "environments/prod.yaml")["clusters"] == [{"name": "prod-eu"}, {"name": "prod-us"}]
    assert read(root / "environments/dev.yaml")["releases"]["database"] == {"enabled": False}
    assert read(root / "releases/api.yaml")["needs"] == ["database", "cache"]
    assert read(root / "values/api-prod.yaml")["config"]["environment"] == "prod"


def test_values_read_from_the_environment_become_references_and_are_never_written(
        imported: dict[str, Path], tool_env: dict[str, str], tmp_path: Path) -> None:
    run = import_case("fleet", tmp_path / "repo", tool_env)
    assert PASSWORD not in run.stdout + run.stderr
    assert read(tmp_path / "repo/values/database-secret.yaml") == {"password": "ref+env://HFIMPORT_DB_PASSWORD"}
    for root in (tmp_path / "repo", imported["fleet"], imported["layered"]):
        for file in root.rglob("*"):
            assert not file.is_file() or PASSWORD.encode() not in file.read_bytes(), file
    run = helmkit("--helm", str(binary_path(REPO, HELM["4"])), "template", "--env", "prod", env=tool_env,
                  cwd=tmp_path / "repo")
    assert run.returncode == 0 and "<secret hmac:" in run.stdout and PASSWORD not in run.stdout


def test_untranslatable_items_are_listed_with_file_and_line(helmfile_bin: Path, tool_env: dict[str, str],
                                                           tmp_path: Path) -> None:
    run = import_case("untranslatable", tmp_path / "repo", tool_env)
    assert run.returncode == 2, run.stderr
    check_golden("import-untranslatable.txt", run.stdout.replace(str(tmp_path / "repo"), "<target>"))
    assert (tmp_path / "repo/releases/web.yaml").is_file()
    written = (tmp_path / "repo/environments/default.yaml").read_text() + \
        (tmp_path / "repo/releases/worker.yaml").read_text()
    assert "<from $HFIMPORT_DB_PASSWORD: not translated>" in written and PASSWORD not in written


def test_a_non_empty_target_needs_force(helmfile_bin: Path, tool_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    run = import_case("layered", target, tool_env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "is not empty" in run.stderr and "--force" in run.stderr, run.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    run = import_case("layered", target, tool_env, "--force")
    assert run.returncode == 0, run.stderr
    assert (target / "notes.txt").read_text() == "mine\n"
    assert (target / "releases/frontend.yaml").is_file()


def test_helmfile_errors_are_one_message_and_nothing_is_written(helmfile_bin: Path, tool_env: dict[str, str],
                                                               tmp_path: Path) -> None:
    env = {k: v for k, v in tool_env.items() if k not in EXTRA_ENV}
    run = import_case("fleet", tmp_path / "repo", env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "HFIMPORT_DB_PASSWORD" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "repo").exists()


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("HELMKIT_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; run with HELMKIT_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"output differs from {path}; refresh with HELMKIT_UPDATE_GOLDEN=1"
