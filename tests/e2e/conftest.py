"""Fixtures of the end-to-end tests: real helm 3.19 / 4.1 and kubectl against a sandbox cluster.

``HELMKIT_E2E_KUBECONFIG`` (and optionally ``HELMKIT_E2E_CONTEXT``) points the tests at a real
cluster instead; tests that need fault injection then skip. Each test gets its own kubeconfig,
``KUBECACHEDIR`` and helm cache/config/data folders under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helmkit.adapters.runner import Result, Runner
from helmkit.adapters.tools import binary_path
from helmkit.sandbox import Faults, RequestRecord, Sandbox
from helmkit.sandbox.certificates import Identity, generate

REPO = Path(__file__).resolve().parents[2]
CHARTS = Path(__file__).resolve().parent / "charts"
TOOLS = {"3": ("helm-v3.19.0", "kubectl-v1.34.5"), "4": ("helm-v4.1.4", "kubectl-v1.35.2")}
REAL_KUBECONFIG = "HELMKIT_E2E_KUBECONFIG"


@pytest.fixture(params=["3", "4"], ids=["helm3", "helm4"])
def helm_major(request: pytest.FixtureRequest) -> str:
    major: str = request.param
    return major


@pytest.fixture
def helm_bin(helm_major: str) -> Path:
    return binary_path(REPO, TOOLS[helm_major][0])


@pytest.fixture
def kubectl_bin(helm_major: str) -> Path:
    return binary_path(REPO, TOOLS[helm_major][1])


@pytest.fixture(scope="session")
def sandbox_identity() -> Identity:
    """One TLS key for the whole test run (each Sandbox would otherwise make its own)."""
    return generate()


@dataclass
class E2ECluster:
    """The cluster a test runs against: a sandbox cluster, or the real one of HELMKIT_E2E_KUBECONFIG."""

    name: str
    context: str
    kubeconfig: Path
    sandbox: Sandbox | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    def require_sandbox(self) -> Sandbox:
        if self.sandbox is None:
            pytest.skip("fault injection needs the sandbox")
        return self.sandbox

    def faults(self) -> Faults:
        return self.require_sandbox().faults(self.name)

    def requests(self, since: int = 0) -> list[RequestRecord]:
        return self.require_sandbox().requests(self.name, since)


@pytest.fixture
def cluster(tmp_path: Path, sandbox_identity: Identity) -> Iterator[E2ECluster]:
    real = os.environ.get(REAL_KUBECONFIG)
    if real:
        context = os.environ.get("HELMKIT_E2E_CONTEXT", "")
        yield E2ECluster(context or "real", context, Path(real))
        return
    with Sandbox(["e2e"], identity=sandbox_identity, admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        yield E2ECluster("e2e", "e2e", kubeconfig, sandbox)


@pytest.fixture
def tool_env(tmp_path: Path, cluster: E2ECluster) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(
        KUBECONFIG=str(cluster.kubeconfig),
        KUBECACHEDIR=str(tmp_path / "kube-cache"),
        HELM_CACHE_HOME=str(tmp_path / "helm-cache"),
        HELM_CONFIG_HOME=str(tmp_path / "helm-config"),
        HELM_DATA_HOME=str(tmp_path / "helm-data"),
    )
    return env


@pytest.fixture
def namespace(cluster: E2ECluster) -> str:
    """A namespace name of the test's own (created by ``helm --create-namespace``)."""
    return f"e2e-{uuid.uuid4().hex[:8]}"


@dataclass
class Tools:
    """helm and kubectl of one major, bound to the test's cluster, context and environment."""

    helm_bin: Path
    kubectl_bin: Path
    env: dict[str, str]
    context: str
    runner: Runner = field(default_factory=Runner)

    def helm(self, *args: str, check: bool = True, timeout: float = 120) -> Result:
        argv = [str(self.helm_bin), *args]
        if self.context:
            argv += ["--kube-context", self.context]
        return self.runner.run(argv, env=self.env, check=check, timeout=timeout)

    def kubectl(self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 60) -> Result:
        argv = [str(self.kubectl_bin)]
        if self.context:
            argv += ["--context", self.context]
        return self.runner.run([*argv, *args], env=self.env, check=check, stdin=stdin, timeout=timeout)

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)


@pytest.fixture
def tools(helm_bin: Path, kubectl_bin: Path, tool_env: dict[str, str], cluster: E2ECluster,
          namespace: str) -> Iterator[Tools]:
    t = Tools(helm_bin, kubectl_bin, tool_env, cluster.context)
    yield t
    if not cluster.is_sandbox:
        t.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)
