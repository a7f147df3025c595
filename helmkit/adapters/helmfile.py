"""helmfile itself, run to evaluate a helmfile (``helmkit import``).

``build`` prints the state with its Go templates evaluated; ``write-values`` renders ``.gotmpl``
values files. Both go through the runner (argv list, timeouts, masked errors) with
``--skip-deps`` (no ``helm repo add``/``dependency build``: nothing is fetched) and the pinned
helm 3.15.3 when it is bootstrapped.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from helmkit.adapters import tools
from helmkit.adapters.runner import Runner
from helmkit.errors import HelmkitError, ToolError

HELMFILE_FOLDER = "helmfile-v0.166.0"
HELM_FOR_HELMFILE = "helm-v3.15.3"


def _roots(repos: tuple[Path, ...]) -> list[Path]:
    return [tools.tools_dir(repo) for repo in repos] + [tools.user_tools_dir()]


def find_helmfile(repos: tuple[Path, ...], option: str | None) -> Path:
    """``--helmfile PATH``, else ``$HELMKIT_HELMFILE``, else the pin bootstrapped in one of ``repos``
    (or ``~/.cache/helmkit/tools``), else ``helmfile`` on PATH."""
    chosen = option or os.environ.get("HELMKIT_HELMFILE")
    if chosen:
        return Path(chosen)
    for root in _roots(repos):
        pinned = tools.binary_path(root, HELMFILE_FOLDER, root=root)
        if pinned.is_file():
            return pinned
    on_path = shutil.which("helmfile")
    if on_path:
        return Path(on_path)
    raise HelmkitError("no helmfile binary found",
                       hint="run `helmkit bootstrap --with-helmfile`, or pass --helmfile PATH")


def helm_for_helmfile(helmfile: Path) -> Path | None:
    """The helm helmfile runs: the pinned 3.15.3 next to the pinned helmfile, else helm on PATH."""
    pinned = helmfile.parent.parent / HELM_FOR_HELMFILE / "helm"
    if helmfile.parent.name == HELMFILE_FOLDER and pinned.is_file():
        return pinned
    on_path = shutil.which("helm")
    return Path(on_path) if on_path else None


@dataclass(frozen=True)
class Helmfile:
    runner: Runner
    binary: Path
    helm: Path | None

    def _argv(self, file: str, env: str, *command: str) -> list[str]:
        argv = [str(self.binary), "--file", file, "--environment", env, "--no-color"]
        if self.helm is not None:
            argv += ["--helm-binary", str(self.helm)]
        return argv + list(command)

    def build(self, helmfile: Path, env: str) -> str:
        """The evaluated state of ``helmfile`` for ``env`` (``helmfile build``)."""
        result = self.runner.run(self._argv(helmfile.name, env, "build"), cwd=helmfile.parent, check=False)
        if not result.ok:
            raise ToolError(f"helmfile could not evaluate {helmfile} for environment `{env}`",
                            argv=result.argv, stderr=self.runner.masker.mask(result.stderr),
                            returncode=result.returncode,
                            hint="helmkit import runs `helmfile build`, which needs what `helmfile template` "
                                 "needs (requiredEnv variables, helm-secrets for `secrets:`, the registry of OCI "
                                 "charts, kustomize for patches): fix what helmfile reports; --env picks environments")
        return result.stdout

    def write_values(self, base_dir: Path, env: str, state: str, output_dir: Path) -> None:
        """Render the values of the releases of ``state`` (YAML given on stdin) into ``output_dir``,
        one file per release named after its ``hkimport`` label."""
        template = str(output_dir / "{{ .Release.Labels.hkimport }}.yaml")
        argv = self._argv("-", env, "write-values", "--skip-deps", "--output-file-template", template)
        result = self.runner.run(argv, cwd=base_dir, stdin=state, check=False)
        if not result.ok:
            raise ToolError(f"helmfile could not render the .gotmpl values files for environment `{env}`",
                            argv=result.argv, stderr=self.runner.masker.mask(result.stderr),
                            returncode=result.returncode, hint="fix what helmfile reports in the values template")
