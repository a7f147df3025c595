"""``helmkit bootstrap``: install the pinned helm (and kubectl) builds, on the platform they are for.

The pinned binaries are official Linux x86_64 builds. On any other platform (macOS, arm64,
Windows) nothing is installed: bootstrap says so and names the helm on ``PATH`` that helmkit
will use instead (``brew install helm`` on macOS), or fails with what to install when there is
none.

:func:`ensure_helm` (``helmkit --install-helm``, what the pre-commit hooks run) is for a repository
that never ran bootstrap: when no helm is found at all, it installs the pinned helm 4 once into
the user's tools folder (:func:`helmkit.adapters.tools.user_tools_dir`), which every repository
then finds.
"""

from __future__ import annotations

import os
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from helmkit.adapters import tools
from helmkit.adapters.helm import HelmClient
from helmkit.context import Context
from helmkit.errors import EXIT_OK, HelmkitError

PINNED_SYSTEM = "Linux"
PINNED_MACHINES = ("x86_64", "amd64")


@dataclass(frozen=True)
class BootstrapOptions:
    with_helmfile: bool = False
    system: str = field(default_factory=platform.system)  # e.g. Linux, Darwin, Windows
    machine: str = field(default_factory=platform.machine)  # e.g. x86_64, arm64, aarch64

    @property
    def pinned_platform(self) -> bool:
        return self.system == PINNED_SYSTEM and self.machine.lower() in PINNED_MACHINES


def bootstrap(ctx: Context, options: BootstrapOptions) -> int:
    if not options.pinned_platform:
        return _use_path_helm(ctx, options)
    folders = tools.DEFAULT_SET + (tools.COMPARISON_SET if options.with_helmfile else ())
    for path in tools.install(ctx.repo, ctx.runner, folders):
        ctx.console.print(str(path.relative_to(ctx.repo) if path.is_relative_to(ctx.repo) else path))
    return EXIT_OK


def ensure_helm(ctx: Context) -> None:
    """Make sure some helm is found; install the pinned helm 4 for the user when none is."""
    if ctx.helm_option or os.environ.get("HELMKIT_HELM"):
        return  # asked for a particular helm: the command says what is wrong with it
    try:
        tools.find_helm(ctx.repo, None)
        return
    except HelmkitError:
        options = BootstrapOptions()
        if not options.pinned_platform:
            raise HelmkitError(
                f"no helm found, and the pinned helm is built for Linux x86_64, not {options.system} "
                f"{options.machine}",
                hint="install helm 3.19+ or 4.1+ on PATH (macOS: brew install helm)",
            ) from None
    root = tools.user_tools_dir()
    folder = tools.HELM_MAJORS["4"]
    ctx.console.info(f"no helm found: installing the pinned {folder} into {root} (once, for every repository)")
    tools.install(ctx.repo, ctx.runner, (folder,), root=root)


def _use_path_helm(ctx: Context, options: BootstrapOptions) -> int:
    ctx.console.info(f"helmkit bootstrap: the pinned helm and kubectl builds are for Linux x86_64, and this is "
                     f"{options.system} {options.machine}: nothing installed")
    found = shutil.which("helm")
    if found is None:
        raise HelmkitError(
            "no helm on PATH to use instead",
            hint="install helm 3.19+ or 4.1+ (macOS: brew install helm; others: https://helm.sh/docs/intro/install/) "
            "or pass --helm PATH",
        )
    helm = HelmClient(ctx.runner, Path(found))
    ctx.console.print(f"helmkit will use the helm on PATH: {found} ({helm.version()})")
    if shutil.which("kubectl") is None:
        ctx.console.info("note: no kubectl on PATH (only the sandbox demo and the tests use it)")
    return EXIT_OK
