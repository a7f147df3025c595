"""What one release on one cluster of one environment is, after layering.

These types are the contract between the model (loading and layering), rendering, planning
and the CLI. They hold plain data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.adapters.helmconfig import RegistryAccess
from helmkit.errors import Location


@dataclass(frozen=True)
class Origin:
    """Where a merged leaf or field came from."""

    layer: str  # "chart", "defaults", "release", "environment", "cluster", "set"
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.layer} ({self.location})" if self.location else self.layer


@dataclass(frozen=True)
class Cluster:
    name: str
    env: str
    context: str
    region: str = ""
    wave: int = 0
    kube_version: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    api_versions: tuple[str, ...] | None = None  # declared `capabilities` (None: not declared)


@dataclass(frozen=True)
class ChartRef:
    """A local chart (``path``) or a chart in a Helm repository (``repository`` + ``name``)."""

    path: Path | None = None  # absolute path of a local chart directory inside the repo
    repository: str | None = None  # repository URL
    repository_name: str | None = None  # its name in helmkit.yaml
    name: str | None = None
    version: str | None = None  # constraint as written (repository charts) or None
    local_version: str | None = None  # a local chart's version from its Chart.yaml
    access: RegistryAccess | None = None  # plainHttp / TLS files of its repository in helmkit.yaml

    @property
    def display(self) -> str:
        if self.path is not None:
            return self.path.name
        return f"{self.repository_name}/{self.name}"


@dataclass(frozen=True)
class SecretRef:
    """A value that is a secret reference (``ref+env://``, ``ref+file://``, ``ref+awssecrets://``, ``ref+sops://``)."""

    path: tuple[str | int, ...]  # where in the values
    ref: str  # the reference as written
    location: Location | None = None


@dataclass
class ReleaseInstance:
    """One release, on one cluster of one environment, with all layers merged."""

    env: str
    cluster: Cluster
    name: str
    namespace: str
    chart: ChartRef
    values: dict[str, Any]  # merged and interpolated; secret references are left as written
    secrets: list[SecretRef] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    wait: bool = True
    timeout: str = "5m"
    atomic: bool = True
    create_namespace: bool = True
    history_max: int = 10
    crds: str = "Create"  # chart crds/ policy: Skip, Create (helm's behaviour), CreateReplace
    ignore_differences: list[dict[str, Any]] = field(default_factory=list)  # drift: this release's ignore rules
    # provenance of each merged value leaf (key: path in values) and field (key: ("$field", name))
    provenance: dict[tuple[str | int, ...], Origin] = field(default_factory=dict)
    source: Location | None = None  # the release's base file

    @property
    def key(self) -> str:
        return f"{self.env}/{self.cluster.name}/{self.name}"
