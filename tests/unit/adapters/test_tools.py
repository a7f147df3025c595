import stat
from pathlib import Path

import pytest

from helmkit.adapters import tools
from helmkit.errors import HelmkitError

REPO = Path(__file__).resolve().parents[3]


def test_pins_are_unique_and_cover_both_helm_majors():
    folders = [p.folder for p in tools.PINS]
    assert len(folders) == len(set(folders))
    assert {tools.pin(f).version[:2] for f in tools.HELM_MAJORS.values()} == {"v3", "v4"}


def test_bootstrapped_binaries_match_their_pins():
    # `make check` runs `helmkit bootstrap` first; this checks what it installed.
    for folder in tools.DEFAULT_SET:
        path = tools.binary_path(REPO, folder)
        assert path.is_file(), f"{path} missing: run `helmkit bootstrap`"
        assert path.stat().st_mode & stat.S_IXUSR
        import hashlib

        assert hashlib.sha256(path.read_bytes()).hexdigest() == tools.pin(folder).sha256


def test_find_helm_order(tmp_path, monkeypatch):
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    monkeypatch.setenv("HELMKIT_TOOLS_DIR", str(tmp_path / "tools"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(HelmkitError, match="no helm binary found"):
        tools.find_helm(tmp_path, None)
    on_path = tmp_path / "bin" / "helm"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert tools.find_helm(tmp_path, None) == on_path
    bootstrapped = tmp_path / "tools" / "helm-v3.19.0" / "helm"
    bootstrapped.parent.mkdir(parents=True)
    bootstrapped.write_text("")
    assert tools.find_helm(tmp_path, None) == bootstrapped
    assert tools.find_helm(tmp_path, "3") == bootstrapped
    monkeypatch.setenv("HELMKIT_HELM", str(on_path))
    assert tools.find_helm(tmp_path, None) == on_path
    with pytest.raises(HelmkitError, match="not installed"):
        tools.find_helm(tmp_path, "4")


def test_the_pinned_sops_is_the_go_sops_and_is_found_first(tmp_path, monkeypatch):
    import subprocess

    pinned = tools.binary_path(REPO, tools.SOPS)
    out = subprocess.run([str(pinned), "--version", "--disable-version-check"], capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("sops 3.11.0")  # getsops/sops, not the 2018 Python package called sops
    monkeypatch.delenv("HELMKIT_SOPS", raising=False)
    monkeypatch.setenv("HELMKIT_TOOLS_DIR", str(tmp_path / "tools"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert tools.find_sops(tmp_path) is None
    on_path = tmp_path / "bin" / "sops"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert tools.find_sops(tmp_path) == on_path
    bootstrapped = tools.binary_path(tmp_path, tools.SOPS)
    bootstrapped.parent.mkdir(parents=True)
    bootstrapped.write_text("")
    assert tools.find_sops(tmp_path) == bootstrapped
    monkeypatch.setenv("HELMKIT_SOPS", str(on_path))
    assert tools.find_sops(tmp_path) == on_path
