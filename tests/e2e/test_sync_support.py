"""Support of the diff/sync/status end-to-end tests (no tests here): a fleet copy, its clusters (a
sandbox, or real ones: see ``named_clusters`` in conftest.py), and a way to run an action with its
output captured and every argv recorded."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.adapters.runner import Result, Runner
from helmkit.context import Context
from helmkit.output.console import Console
from helmkit.sandbox import RequestRecord
from tests.e2e.conftest import CHARTS, E2EClusters, StartClusters

REPO = Path(__file__).resolve().parents[2]
CANARY = "canary-Zq9-secret-value"
PROD_CLUSTERS = ("prod-us-east-1", "prod-us-west-2", "prod-eu-west-1", "prod-ap-southeast-1")
SMALL_ENV = """\
name: stage
clusters:
  - name: c1
    region: us-east-1
    wave: 0
  - name: c2
    region: eu-west-1
    wave: 1
releases:
  log-shipper:
    values:
      flushSeconds: 1
"""


@dataclass
class RecordingRunner(Runner):
    """The real runner, also keeping every argv it was asked to start (a recording at the outer door)."""

    argvs: list[list[str]] = field(default_factory=list)

    def run(self, argv: Sequence[str], **kwargs: Any) -> Result:  # type: ignore[override]
        self.argvs.append([str(a) for a in argv])
        return super().run(argv, **kwargs)


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    ctx: Context

    @property
    def helm_started(self) -> int:
        return self.ctx.runner.started.get("helm", 0)


@dataclass
class Fleet:
    root: Path
    clusters: E2EClusters
    kubeconfig: Path
    helm_bin: Path
    argvs: list[list[str]] = field(default_factory=list)

    def context(self) -> Context:
        ctx = Context(repo=self.root, helm_option=str(self.helm_bin))
        runner = RecordingRunner(masker=ctx.masker)
        runner.argvs = self.argvs
        ctx.runner = runner
        ctx.console = Console(masker=ctx.masker, out=io.StringIO(), err=io.StringIO(), colour=False)
        return ctx

    def run(self, action: Callable[[Context, Any], int], options: Any) -> Outcome:
        ctx = self.context()
        code = action(ctx, options)
        out, err = ctx.console.out, ctx.console.err
        assert isinstance(out, io.StringIO) and isinstance(err, io.StringIO)
        return Outcome(code, out.getvalue(), err.getvalue(), ctx)

    def helm(self, *args: str, context: str) -> Result:
        """Plain helm on the cluster named ``context`` (its kube context when mapped to a real one)."""
        return Runner().run([str(self.helm_bin), *args, "--kube-context", self.clusters.context(context)],
                            timeout=120)

    def writes(self, cluster: str) -> list[RequestRecord]:
        """Write requests of a cluster, without helmkit's own lock Lease (the sandbox's request log)."""
        return [r for r in self.clusters.requests(cluster)
                if r.method not in ("GET", "HEAD") and "/kube-system/leases" not in r.path]

    def deployed_at(self, cluster: str) -> dict[str, datetime]:
        """When helm started the newest revision of each release of a cluster (``last_deployed`` of its
        record, read by helmkit's reader): the rollout order on a cluster without a request log."""
        return {r.name: datetime.fromisoformat(r.last_deployed) for r in self.clusters.releases(cluster)}


def copy_fleet(dest: Path, *, small: bool) -> Path:
    dest.mkdir(parents=True)
    for part in ("helmkit.yaml", "charts", "schemas"):
        source = REPO / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, dest / part)
    if not small:
        for part in ("releases", "environments", "values"):
            shutil.copytree(REPO / part, dest / part)
        return dest
    (dest / "releases").mkdir()
    for name in ("cert-manager", "cluster-issuer", "log-shipper"):
        shutil.copy(REPO / "releases" / f"{name}.yaml", dest / "releases" / f"{name}.yaml")
    (dest / "environments").mkdir()
    (dest / "environments" / "stage.yaml").write_text(SMALL_ENV)
    return dest


def start_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path,
                *, small: bool) -> Fleet:
    root = copy_fleet(tmp_path / "fleet", small=small)
    clusters = named_clusters(*(("c1", "c2") if small else PROD_CLUSTERS))
    for env_file in (root / "environments").glob("*.yaml"):
        clusters.pin_contexts(env_file)
    monkeypatch.setenv("KUBECONFIG", str(clusters.kubeconfig))
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "home" / key.lower()))
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY)
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    return Fleet(root, clusters, clusters.kubeconfig, helm_bin)


def chart_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path, *,
                charts: Sequence[str], releases: dict[str, Any], clusters: list[dict[str, Any]], env: str,
                settings: str = 'helm: {version: ">=3.19.0 <5.0.0"}\ndefaults: {wait: false}\n') -> Fleet:
    """A fleet of test charts (tests/e2e/charts/): one release file each, one environment on sandbox clusters."""
    root = tmp_path / "fleet"
    (root / "releases").mkdir(parents=True)
    (root / "environments").mkdir()
    (root / "helmkit.yaml").write_text(settings)
    for chart in charts:
        shutil.copytree(CHARTS / chart, root / "charts" / chart)
    for name, spec in releases.items():
        (root / "releases" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    env_file = root / "environments" / f"{env}.yaml"
    env_file.write_text(yaml.safe_dump({"clusters": clusters}))
    started = named_clusters(*(c["name"] for c in clusters))
    started.pin_contexts(env_file)
    monkeypatch.setenv("KUBECONFIG", str(started.kubeconfig))
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "home" / key.lower()))
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    return Fleet(root, started, started.kubeconfig, helm_bin)


@pytest.fixture
def prod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> Fleet:
    """The example fleet (environment prod) on clusters prod-us-east-1, -us-west-2, -eu-west-1, -ap-southeast-1."""
    return start_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, small=False)


@pytest.fixture
def stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> Fleet:
    """A small fleet (environment stage: cert-manager, cluster-issuer, log-shipper) on clusters c1 and c2."""
    return start_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, small=True)
