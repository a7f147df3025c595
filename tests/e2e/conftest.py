"""Fixtures of the end-to-end tests: real helm 3.19 / 4.1 and kubectl against sandbox clusters.

``HELMKIT_E2E_KUBECONFIG`` points the tests at real clusters instead (see docs/testing.md):
``cluster`` uses its context ``HELMKIT_E2E_CONTEXT`` (or the current one), ``named_clusters`` its
contexts named like the test's clusters (or mapped by ``HELMKIT_E2E_CONTEXTS``). Tests that need
fault injection or the sandbox's request log then skip, saying why. Each test gets its own
kubeconfig, ``KUBECACHEDIR`` and helm cache/config/data folders under ``tmp_path``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.adapters.helmstorage import HelmRelease, latest_releases, read_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
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
        with ExitStack() as stack:  # what the test added is removed after it, as for named_clusters
            take_real_clusters(stack, {"real": context or current_context(real)}, real, tmp_path)
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


# -- named clusters: a sandbox, or the contexts of HELMKIT_E2E_KUBECONFIG -----------------------------

CONTEXT_MAP = "HELMKIT_E2E_CONTEXTS"
LOCK_PREFIX = "helmkit-lock-"
CLEANUP_TIMEOUT = 180.0


def context_map(text: str) -> dict[str, str]:
    """``c1=kind-a,c2=kind-b`` -> {"c1": "kind-a", "c2": "kind-b"}."""
    pairs = [part.strip() for part in text.split(",") if part.strip()]
    mapping = {}
    for pair in pairs:
        name, sep, context = pair.partition("=")
        if not sep or not name.strip() or not context.strip():
            raise pytest.UsageError(f"{CONTEXT_MAP}: expected name=context, got {pair!r}")
        mapping[name.strip()] = context.strip()
    return mapping


def kubeconfig_contexts(kubeconfig: str) -> set[str]:
    names: set[str] = set()
    for part in kubeconfig.split(os.pathsep):
        if part and Path(part).is_file():
            doc = yaml.safe_load(Path(part).read_text()) or {}
            names.update(str(c.get("name")) for c in doc.get("contexts") or [] if isinstance(c, dict))
    return names


def current_context(kubeconfig: str) -> str:
    for part in kubeconfig.split(os.pathsep):
        if part and Path(part).is_file():
            current = (yaml.safe_load(Path(part).read_text()) or {}).get("current-context")
            if current:
                return str(current)
    return ""


@dataclass
class ClusterSnapshot:
    """What a real cluster held before a test: only what the test added is removed after it."""

    namespaces: set[str]
    releases: set[tuple[str, str]]
    crds: set[str]
    locks: set[str]


@dataclass
class E2EClusters:
    """N named clusters of one test: sandbox clusters, or contexts of the real kubeconfig.

    ``context(name)`` is the kube context of a cluster name (the name itself in the sandbox, or as
    mapped by ``HELMKIT_E2E_CONTEXTS``); ``pin_contexts`` writes those into an environment file.
    """

    names: tuple[str, ...]
    kubeconfig: Path
    contexts: dict[str, str]
    sandbox: Sandbox | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    def context(self, name: str) -> str:
        return self.contexts[name]

    def require_sandbox(self, why: str = "fault injection needs the sandbox") -> Sandbox:
        if self.sandbox is None:
            pytest.skip(why)
        return self.sandbox

    def faults(self, name: str) -> Faults:
        return self.require_sandbox().faults(name)

    def requests(self, name: str, since: int = 0) -> list[RequestRecord]:
        return self.require_sandbox("the API request log needs the sandbox").requests(name, since)

    def client(self, name: str) -> KubeClient:
        return KubeClient(load_cluster_config(self.context(name), Runner(), kubeconfig=self.kubeconfig))

    def releases(self, name: str) -> list[HelmRelease]:
        """The newest record of every Helm release of a cluster, read by helmkit's own reader."""
        with self.client(name) as client:
            records = read_releases(client).records
        return [history.latest for history in latest_releases(records).values()]

    def pin_contexts(self, env_file: Path) -> None:
        """Give each cluster of an environment file whose context is not its name an explicit ``context``."""
        if all(name == context for name, context in self.contexts.items()):
            return
        doc = yaml.safe_load(env_file.read_text())
        for entry in doc.get("clusters") or []:
            if entry.get("name") in self.contexts:
                entry["context"] = self.contexts[entry["name"]]
        env_file.write_text(yaml.safe_dump(doc, sort_keys=False))

    # -- real clusters only -------------------------------------------------------------------

    def snapshot(self, name: str) -> ClusterSnapshot:
        with self.client(name) as client:
            return ClusterSnapshot(
                {ns["metadata"]["name"] for ns in client.list("v1", "Namespace")},
                {(r.namespace, r.name) for r in read_releases(client).records},
                {crd["metadata"]["name"] for crd in client.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")},
                {lease["metadata"]["name"] for lease in client.list("coordination.k8s.io/v1", "Lease",
                                                                    namespace="kube-system")
                 if lease["metadata"]["name"].startswith(LOCK_PREFIX)},
            )

    def clean_up(self, name: str, before: ClusterSnapshot, helm: Callable[..., Result]) -> None:
        """Uninstall the releases and delete the namespaces, CRDs and locks a test added; wait for the
        namespaces to be gone so that the next test can create them again."""
        after = self.snapshot(name)
        context = self.context(name)
        for namespace, release in sorted(after.releases - before.releases):
            helm("uninstall", release, "--namespace", namespace, "--kube-context", context, "--ignore-not-found")
        with self.client(name) as client:
            for lock in after.locks - before.locks:
                client.delete("coordination.k8s.io/v1", "Lease", lock, "kube-system")
            for crd in after.crds - before.crds:
                client.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd)
            added = after.namespaces - before.namespaces
            for namespace in added:
                client.delete("v1", "Namespace", namespace)
            deadline = time.monotonic() + CLEANUP_TIMEOUT
            while any(client.get("v1", "Namespace", ns) is not None for ns in added):
                if time.monotonic() > deadline:
                    raise AssertionError(f"namespaces {sorted(added)} of {context} were not deleted in time")
                time.sleep(1)


@contextmanager
def cluster_locks(contexts: list[str], kubeconfig: str) -> Iterator[None]:
    """Tests sharing a real cluster (pytest -n) run one at a time on it: one file lock per context,
    taken in sorted order."""
    folder = Path(tempfile.gettempdir()) / f"helmkit-e2e-{hashlib.sha256(kubeconfig.encode()).hexdigest()[:12]}"
    folder.mkdir(exist_ok=True)
    with ExitStack() as stack:
        for context in sorted(set(contexts)):
            handle = stack.enter_context((folder / f"{hashlib.sha256(context.encode()).hexdigest()[:16]}.lock")
                                         .open("w"))
            fcntl.flock(handle, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        yield


StartClusters = Callable[..., E2EClusters]


def take_real_clusters(stack: ExitStack, contexts: dict[str, str], kubeconfig: str, tmp_path: Path) -> E2EClusters:
    """Real clusters for one test: locked against the other tests on them, noted now, cleaned up by ``stack``."""
    stack.enter_context(cluster_locks(list(contexts.values()), kubeconfig))
    clusters = E2EClusters(tuple(contexts), Path(kubeconfig), contexts)
    helm_bin = binary_path(REPO, TOOLS["4"][0])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(KUBECONFIG=kubeconfig, HELM_CACHE_HOME=str(tmp_path / "cleanup-helm" / "cache"),
               HELM_CONFIG_HOME=str(tmp_path / "cleanup-helm" / "config"),
               HELM_DATA_HOME=str(tmp_path / "cleanup-helm" / "data"))
    runner = Runner()

    def helm(*args: str) -> Result:
        return runner.run([str(helm_bin), *args], env=env, timeout=CLEANUP_TIMEOUT)

    for name in contexts:
        stack.callback(clusters.clean_up, name, clusters.snapshot(name), helm)
    return clusters


@pytest.fixture
def named_clusters(tmp_path: Path, sandbox_identity: Identity) -> Iterator[StartClusters]:
    """``named_clusters("c1", "c2")``: the test's clusters, started once per test.

    Sandbox mode: one ``Sandbox`` serving those clusters and its kubeconfig. Real mode
    (``HELMKIT_E2E_KUBECONFIG``): the contexts of that kubeconfig named like the clusters (or mapped
    by ``HELMKIT_E2E_CONTEXTS=c1=kind-a,...``); a missing context skips the test. What the test adds
    on a real cluster (releases, namespaces, CRDs, helmkit locks) is removed when it ends.
    """
    real = os.environ.get(REAL_KUBECONFIG)
    with ExitStack() as stack:

        def start(*names: str) -> E2EClusters:
            if not real:
                sandbox = stack.enter_context(Sandbox(names, identity=sandbox_identity, admin=False))
                kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
                return E2EClusters(names, kubeconfig, {n: n for n in names}, sandbox)
            mapping = context_map(os.environ.get(CONTEXT_MAP, ""))
            contexts = {n: mapping.get(n, n) for n in names}
            missing = sorted(f"{n}={c}" if n != c else n for n, c in contexts.items()
                             if c not in kubeconfig_contexts(real))
            if missing:
                pytest.skip(f"needs kube contexts {', '.join(missing)} in ${REAL_KUBECONFIG} "
                            f"(create clusters with these names, or map names with {CONTEXT_MAP}=name=context,...)")
            return take_real_clusters(stack, contexts, real, tmp_path)

        yield start
