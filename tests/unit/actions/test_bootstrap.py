"""``helmkit bootstrap`` checks the platform: the pinned builds are Linux x86_64; elsewhere it installs
nothing and uses the helm on PATH (here: a real helm binary put on a PATH of its own)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from helmkit.actions.bootstrap import BootstrapOptions, bootstrap, ensure_helm
from helmkit.adapters.tools import binary_path
from helmkit.context import Context
from helmkit.errors import HelmkitError
from helmkit.output.console import Console

PROJECT = Path(__file__).resolve().parents[3]
HELM4 = binary_path(PROJECT, "helm-v4.1.4")  # before a test points HELMKIT_TOOLS_DIR elsewhere


def context(tmp_path: Path) -> tuple[Context, io.StringIO, io.StringIO]:
    ctx = Context(repo=tmp_path / "fleet")
    out, err = io.StringIO(), io.StringIO()
    ctx.console = Console(masker=ctx.masker, out=out, err=err, colour=False)
    return ctx, out, err


@pytest.fixture
def empty_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tools = tmp_path / "tools"
    tools.mkdir()
    monkeypatch.setenv("HELMKIT_TOOLS_DIR", str(tools))
    return tools


@pytest.mark.parametrize(("system", "machine"), [("Darwin", "arm64"), ("Linux", "aarch64"), ("Darwin", "x86_64")])
def test_another_platform_installs_nothing_and_uses_the_helm_on_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_tools: Path, system: str, machine: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "helm").symlink_to(HELM4)
    monkeypatch.setenv("PATH", str(bin_dir))
    ctx, out, err = context(tmp_path)
    assert bootstrap(ctx, BootstrapOptions(system=system, machine=machine)) == 0
    assert f"are for Linux x86_64, and this is {system} {machine}: nothing installed" in err.getvalue()
    assert out.getvalue() == f"helmkit will use the helm on PATH: {bin_dir / 'helm'} (v4.1.4)\n"
    assert "no kubectl on PATH" in err.getvalue()
    assert list(empty_tools.iterdir()) == []


def test_another_platform_without_helm_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            empty_tools: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx, _, _ = context(tmp_path)
    with pytest.raises(HelmkitError) as caught:
        bootstrap(ctx, BootstrapOptions(system="Darwin", machine="arm64"))
    assert "no helm on PATH" in caught.value.render() and "brew install helm" in caught.value.render()
    assert list(empty_tools.iterdir()) == []


def test_linux_x86_64_installs_the_pinned_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELMKIT_TOOLS_DIR", str(PROJECT / ".helmkit" / "tools"))  # installed: nothing downloaded
    ctx, out, _ = context(tmp_path)
    assert bootstrap(ctx, BootstrapOptions(system="Linux", machine="x86_64")) == 0
    assert "helm-v4.1.4/helm" in out.getvalue() and "helm-v3.19.0/helm" in out.getvalue()


def test_install_helm_uses_the_helm_on_path_and_installs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 empty_tools: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "helm").symlink_to(HELM4)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    ctx, _, err = context(tmp_path)
    ensure_helm(ctx)
    assert err.getvalue() == ""
    assert not (tmp_path / "cache").exists() and list(empty_tools.iterdir()) == []

