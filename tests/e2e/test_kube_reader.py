"""The Kubernetes reader and Helm storage decoding against the sandbox, with releases made by real helm."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from helmkit.adapters.helmstorage import latest_releases, read_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Result, Runner
from helmkit.adapters.tools import binary_path
from helmkit.errors import ClusterError
from helmkit.plan.diffmodel import diff_objects, render_summary
from helmkit.plan.manifests import parse_manifest
from tests.e2e.conftest import E2ECluster

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Env:
    cluster: E2ECluster
    env: dict[str, str]
    runner: Runner
    chart: Path
    namespace: str

    def helm(self, major: int, *args: str | Path, check: bool = True) -> Result:
        folder = "helm-v4.1.4" if major == 4 else "helm-v3.19.0"
        argv = [binary_path(REPO, folder), *map(str, args)]
        if self.cluster.context:
            argv += ["--kube-context", self.cluster.context]
        return self.runner.run(argv, env=self.env, timeout=120, check=check)

    def client(self, **kwargs: float) -> KubeClient:
        if not self.cluster.context:
            pytest.skip("set HELMKIT_E2E_CONTEXT: helmkit always names its kube context")
        config = load_cluster_config(self.cluster.context, self.runner, kubeconfig=self.cluster.kubeconfig)
        return KubeClient(config, **kwargs)  # type: ignore[arg-type]


def write_chart(root: Path) -> Path:
    chart = root / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.4.0\nappVersion: '2.0'\n")
    (chart / "values.yaml").write_text("replicas: 1\ngreeting: hello\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n")
    (chart / "templates" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n"
        "  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n    spec:\n      containers:\n"
        "      - name: app\n        image: nginx:1.27\n        env:\n"
        "        - {name: GREETING, value: {{ .Values.greeting | quote }}}\n")
    (chart / "templates" / "hook.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n"
        "    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-delete-policy: before-hook-creation\n"
        "data: {}\n")
    return chart


@pytest.fixture
def e2e(cluster: E2ECluster, tool_env: dict[str, str], namespace: str, tmp_path: Path) -> Env:
    return Env(cluster, tool_env, Runner(masker=Masker()), write_chart(tmp_path), namespace)


def test_records_of_both_helm_majors_match_helm(e2e: Env) -> None:
    ns, ns2 = e2e.namespace, f"{e2e.namespace}-b"
    e2e.helm(4, "upgrade", "--install", "web", e2e.chart, "-n", ns, "--create-namespace", "--labels", "team=pay")
    e2e.helm(4, "upgrade", "web", e2e.chart, "-n", ns, "--set", "replicas=3")
    e2e.helm(3, "upgrade", "--install", "api", e2e.chart, "-n", ns2, "--create-namespace")
    kube = e2e.client()
    snapshot = read_releases(kube)
    if e2e.cluster.is_sandbox:
        assert kube.calls == 2  # discovery + one list across all namespaces
        assert snapshot.undecodable == ()
    mine = [r for r in snapshot.records if r.namespace in (ns, ns2)]
    assert [(r.namespace, r.name, r.revision, r.status) for r in mine] == [
        (ns, "web", 1, "superseded"), (ns, "web", 2, "deployed"), (ns2, "api", 1, "deployed")]
    current = latest_releases(mine)
    for namespace in (ns, ns2):
        (item,) = json.loads(e2e.helm(4, "list", "-n", namespace, "-o", "json").stdout)
        release = current[(namespace, item["name"])].current
        assert (release.revision, release.status) == (int(item["revision"]), item["status"])
        assert f"{release.chart_name}-{release.chart_version}" == item["chart"]
        assert release.app_version == item["app_version"]
        manifest = e2e.helm(4, "get", "manifest", release.name, "-n", namespace).stdout
        assert release.manifest.strip() == manifest.strip()
        values = json.loads(e2e.helm(4, "get", "values", release.name, "-n", namespace, "-o", "json").stdout)
        assert release.values == (values or {})
        assert [h.events for h in release.hooks] == [("post-install", "post-upgrade")]
    web = current[(ns, "web")]
    assert web.current.values == {"replicas": 3}
    assert web.current.labels == {"team": "pay"}
    assert web.current.apply_method in ("ssa", "csa")
    assert current[(ns2, "api")].current.apply_method == ""  # helm 3 record


def test_configmap_driver_records(e2e: Env) -> None:
    e2e.env["HELM_DRIVER"] = "configmap"
    e2e.helm(3, "upgrade", "--install", "api", e2e.chart, "-n", e2e.namespace, "--create-namespace")
    e2e.helm(4, "upgrade", "api", e2e.chart, "-n", e2e.namespace, "--set", "greeting=hey")
    kube = e2e.client()
    assert read_releases(kube, namespace=e2e.namespace).records == ()  # nothing in Secrets
    snapshot = read_releases(kube, namespace=e2e.namespace, driver="configmap")
    assert [(r.revision, r.status, r.values) for r in snapshot.records] == [
        (1, "superseded", {}), (2, "deployed", {"greeting": "hey"})]
    assert snapshot.records[0].storage_name == "sh.helm.release.v1.api.v1"
    assert 'greeting: "hey"' in snapshot.records[1].manifest


def test_failed_upgrade_is_current_and_diff_against_template(e2e: Env) -> None:
    ns = e2e.namespace
    e2e.helm(4, "upgrade", "--install", "web", e2e.chart, "-n", ns, "--create-namespace")
    e2e.cluster.faults().fail("PATCH", r"/configmaps/", status=500, count=20)
    failed = e2e.helm(4, "upgrade", "web", e2e.chart, "-n", ns, "--set", "greeting=hi", check=False)
    assert not failed.ok
    e2e.cluster.faults().clear()
    history = latest_releases(read_releases(e2e.client(), namespace=ns).records)[(ns, "web")]
    assert (history.current.revision, history.current.status) == (2, "failed")
    deployed = next(r for r in history.history if r.revision == 1)
    rendered = e2e.helm(4, "template", "web", e2e.chart, "-n", ns, "--set", "greeting=hi").stdout
    desired = parse_manifest(rendered, ns, origin="helm template web")
    changes = diff_objects(desired.bodies(), parse_manifest(deployed.manifest, ns).bodies())
    assert render_summary(changes) == "+0 ~2 -0"
    assert {str(c.key) for c in changes} == {f"ConfigMap {ns}/web-cfg", f"apps/Deployment {ns}/web"}
    same = e2e.helm(4, "template", "web", e2e.chart, "-n", ns).stdout
    assert diff_objects(parse_manifest(same, ns).bodies(), parse_manifest(deployed.manifest, ns).bodies()) == []


def test_reads_survive_server_errors_and_report_unreachable(e2e: Env) -> None:
    faults = e2e.cluster.faults()
    e2e.helm(3, "upgrade", "--install", "api", e2e.chart, "-n", e2e.namespace, "--create-namespace")
    kube = e2e.client(backoff=0.01)
    faults.fail("GET", r"/secrets", status=503, count=2)
    assert len(read_releases(kube).records) == 1
    assert kube.calls == 1 + 3
    faults.drop("GET", r"/secrets", count=1)
    assert len(read_releases(kube).records) == 1
    faults.set_unreachable()
    with pytest.raises(ClusterError, match=f"cluster {e2e.cluster.context}: unreachable at https://127"):
        read_releases(e2e.client(backoff=0.01))


def test_crud_through_the_client_is_seen_by_kubectl(e2e: Env) -> None:
    kube = e2e.client()
    ns = e2e.namespace
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns},
                 "data": {"a": "1"}})
    kube.patch("v1", "ConfigMap", "x", {"data": {"b": "2"}}, namespace=ns)
    kubectl = binary_path(REPO, "kubectl-v1.35.2")
    out = e2e.runner.run([kubectl, "--context", e2e.cluster.context, "get", "configmap", "x", "-n", ns, "-o", "json"],
                         env=e2e.env, timeout=60)
    assert json.loads(out.stdout)["data"] == {"a": "1", "b": "2"}
    assert kube.delete("v1", "ConfigMap", "x", ns)
    assert kube.get("v1", "ConfigMap", "x", ns) is None
    assert kube.delete("v1", "Namespace", ns)
