"""validate with rendering: the real helm binaries render each instance of a small repository."""

import shutil
from pathlib import Path

import pytest

from helmkit.adapters.tools import binary_path
from helmkit.cli.main import main

PROJECT = Path(__file__).resolve().parents[3]
FIXTURE = PROJECT / "tests" / "fixtures" / "repos" / "basic"
CANARY = "canary-render-secret-4c1d"


@pytest.fixture
def local_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The basic fixture with only local charts (no chart repository to reach)."""
    for name in ("KUBECACHEDIR", "HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    (root / "releases" / "cert-manager.yaml").write_text("chart: {path: charts/web}\nnamespace: cert-manager\n")
    monkeypatch.setenv("WEB_DB_PASSWORD", CANARY)
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


@pytest.mark.parametrize("helm", ["helm-v4.1.4", "helm-v3.19.0"])
def test_validate_renders_every_instance(local_repo: Path, capsys: pytest.CaptureFixture[str], helm: str):
    code, out, err = run(capsys, "--repo", str(local_repo), "--helm", str(binary_path(PROJECT, helm)), "validate")
    assert code == 0, out + err
    assert out.strip().splitlines()[-1].startswith("valid: 8 release instances in 2 environments, 8 rendered")
    assert CANARY not in out + err


def test_render_errors_of_all_instances_are_reported_together(local_repo: Path, capsys: pytest.CaptureFixture[str]):
    template = local_repo / "charts" / "web" / "templates" / "broken.yaml"
    template.write_text("{{ if .Values.replicaCount }}\nkind: ConfigMap\n")
    helm = str(binary_path(PROJECT, "helm-v4.1.4"))
    code, out, err = run(capsys, "--repo", str(local_repo), "--helm", helm, "validate", "--env", "dev")
    assert code == 1
    assert out.count("rendering failed") == 3, out
    assert "Traceback" not in out + err
    assert CANARY not in out + err
