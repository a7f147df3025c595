"""`helmkit version`: helmkit's version, and which helm it will use, from where, at which version."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from helmkit import __version__
from helmkit.actions.render import helm_client
from helmkit.actions.rendersettings import read_settings
from helmkit.adapters.semverrange import VersionConstraint
from helmkit.adapters.tools import HELM_MAJORS, tools_dir, user_tools_dir
from helmkit.context import Context
from helmkit.errors import HelmkitError


def helm_source(ctx: Context, binary: Path) -> str:
    """Where the helm binary was found: --helm, HELMKIT_HELM, the tools folder or PATH."""
    if ctx.helm_option:
        return "--helm"
    if os.environ.get("HELMKIT_HELM"):
        return "HELMKIT_HELM"
    if binary.resolve().is_relative_to(tools_dir(ctx.repo).resolve()):
        return "tools folder"
    if binary.resolve().is_relative_to(user_tools_dir().resolve()):
        return "user tools folder"
    return "PATH"


def show_version(ctx: Context) -> None:
    ctx.console.print(f"helmkit {__version__}")
    try:
        helm = helm_client(ctx)
    except HelmkitError as exc:
        ctx.console.print(f"helm: not found ({exc.message})")
        raise
    source = helm_source(ctx, helm.binary)
    ctx.console.print(f"helm: {helm.binary} (from {source})")
    found = helm.version()
    ctx.console.print(f"helm version: {found}")
    wanted = read_settings(ctx.repo).helm_range
    if wanted:
        try:
            ok = VersionConstraint.parse(wanted).allows(found.version, include_prerelease=True)
            verdict = "satisfied" if ok else "NOT satisfied"
        except ValueError as exc:
            verdict = f"invalid: {exc}"
        ctx.console.print(f"helmkit.yaml helm.version: {wanted} ({verdict})")
    bootstrapped = [major for major, folder in sorted(HELM_MAJORS.items())
                    if (tools_dir(ctx.repo) / folder / "helm").is_file()]
    if bootstrapped:
        ctx.console.print("bootstrapped helm majors: " + ", ".join(bootstrapped) + " (use --helm 3 or --helm 4)")
    elif shutil.which("helm") is None and source == "PATH":
        ctx.console.print("hint: run `helmkit bootstrap` to install the pinned helm binaries")
