"""``helm.version`` and ``kubeVersion`` of helmkit.yaml: the constraints every rendering obeys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from helmkit.errors import InputError, Location, Problem


@dataclass(frozen=True)
class RenderSettings:
    helm_range: str | None = None
    kube_version: str | None = None


def read_settings(repo: Path) -> RenderSettings:
    """``helm.version`` and ``kubeVersion`` of helmkit.yaml (absent file: no constraints)."""
    path = repo / "helmkit.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RenderSettings()
    try:
        document = yaml.safe_load(text) if len(text) < 1024 * 1024 else None
    except yaml.YAMLError:
        raise InputError(Problem("helmkit.yaml is not valid YAML", Location("helmkit.yaml"),
                                 hint="run `helmkit validate` for details")) from None
    if not isinstance(document, dict):
        return RenderSettings()
    helm = document.get("helm")
    helm_range = helm.get("version") if isinstance(helm, dict) else None
    kube = document.get("kubeVersion")
    return RenderSettings(str(helm_range) if helm_range else None, str(kube) if kube else None)
