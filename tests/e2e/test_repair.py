"""sync repairs live drift, helm 4 takes back hand-edited fields, and the ``crds`` policy, end to end:
real helm 3.19 / 4.1 and kubectl against sandbox clusters (or real ones: docs/testing.md)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.drift import DriftOptions, drift
from helmkit.actions.sync import SyncOptions, sync
from helmkit.adapters.runner import Result, Runner
from helmkit.adapters.tools import binary_path
from tests.e2e.conftest import StartClusters
from tests.e2e.test_sync_support import CANARY, REPO, Fleet

pytestmark = pytest.mark.e2e
TOOLS = {"3": "kubectl-v1.34.5", "4": "kubectl-v1.35.2"}
NS = "shop"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}}
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        env:
        - {name: GREETING, value: {{ .Values.greeting | quote }}}
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}-cfg}
data: {greeting: {{ .Values.greeting | quote }}}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: {{ .Release.Name }}-db}
type: Opaque
stringData: {password: {{ .Values.password | quote }}}
"""


def crd(plural: str, kind: str, *, extra: bool) -> str:
    """A CRD of group example.com; ``extra`` adds a property to its schema (the chart's next version)."""
    properties: dict[str, object] = {"size": {"type": "integer"}}
    if extra:
        properties["colour"] = {"type": "string"}
    doc = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": plural, "singular": plural[:-1], "kind": kind},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object",
                     "properties": {"spec": {"type": "object", "properties": properties}}}}}]},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def write_chart(path: Path, name: str, version: str, *, crds: dict[str, str] | None = None,
                subchart_crd: str | None = None) -> None:
    (path / "templates").mkdir(parents=True, exist_ok=True)
    (path / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (path / "values.yaml").write_text("greeting: hi\npassword: ''\n")
    (path / "templates" / "deploy.yaml").write_text(DEPLOYMENT)
    (path / "templates" / "cm.yaml").write_text(CONFIGMAP)
    (path / "templates" / "secret.yaml").write_text(SECRET)
    for file, text in (crds or {}).items():
        (path / "crds").mkdir(exist_ok=True)
        (path / "crds" / file).write_text(text)
    if subchart_crd is not None:
        sub = path / "charts" / "parts"
        (sub / "crds").mkdir(parents=True, exist_ok=True)
        (sub / "Chart.yaml").write_text(f"apiVersion: v2\nname: parts\nversion: {version}\n")
        (sub / "crds" / "parts.yaml").write_text(subchart_crd)


def write_repo(root: Path) -> Path:
    (root / "releases").mkdir(parents=True)
    (root / "environments").mkdir()
    shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "helmkit.yaml").write_text(yaml.safe_dump({
        "helm": {"version": ">=3.19.0 <5.0.0"}, "kubeVersion": "1.34.0",
        "defaults": {"namespace": NS, "wait": True, "timeout": "2m", "atomic": True},
    }))
    (root / "environments" / "prod.yaml").write_text(yaml.safe_dump({"clusters": [{"name": "c1", "region": "r1"}]}))
    write_chart(root / "charts" / "shop", "shop", "1.0.0")
    (root / "releases" / "web.yaml").write_text(yaml.safe_dump({
        "chart": {"path": "charts/shop"}, "values": {"greeting": "hello", "password": "ref+env://PAYMENTS_DB_PASSWORD"}}))
    return root


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> Fleet:
    root = write_repo(tmp_path / "fleet")
    clusters = named_clusters("c1")
    clusters.pin_contexts(root / "environments" / "prod.yaml")
    monkeypatch.setenv("KUBECONFIG", str(clusters.kubeconfig))
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "home" / key.lower()))
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY)
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    return Fleet(root, clusters, clusters.kubeconfig, helm_bin)


def kubectl(fleet: Fleet, *args: str, check: bool = True) -> Result:
    major = "4" if "v4." in str(fleet.helm_bin) else "3"
    return Runner().run([str(binary_path(REPO, TOOLS[major])), "--context", fleet.clusters.context("c1"), *args],
                        check=check, timeout=60)


def image(fleet: Fleet) -> str:
    doc = json.loads(kubectl(fleet, "get", "deployment/web", "-n", NS, "-o", "json").stdout)
    return str(doc["spec"]["template"]["spec"]["containers"][0]["image"])


def hand_edit(fleet: Fleet) -> None:
    kubectl(fleet, "set", "image", "deployment/web", "-n", NS, "app=nginx:by-hand")
    kubectl(fleet, "delete", "configmap", "web-cfg", "-n", NS)


def test_sync_repairs_a_hand_edit_and_a_deleted_object_and_no_repair_leaves_them(shop: Fleet) -> None:
    first = shop.run(sync, SyncOptions(env="prod", yes=True))
    assert first.code == 0, first.out + first.err
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0
    clean = shop.run(drift, DriftOptions(envs=("prod",)))
    assert clean.code == 0, clean.out

    hand_edit(shop)
    shown = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 2, shown.out + shown.err
    assert "~ c1 web (namespace shop): live-drift restores 1 changed, 1 missing" in shown.out, shown.out
    assert "spec.template.spec.containers[name=app].image: nginx:by-hand -> nginx:1.27" in shown.out, shown.out
    assert "+ v1/ConfigMap shop/web-cfg: missing from the cluster; re-created" in shown.out, shown.out
    as_json = json.loads(shop.run(diff, DiffOptions(env="prod", fmt="json")).out)
    assert as_json["releases"][0]["status"] == "live-drift" and as_json["releases"][0]["liveDrift"]
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True, repair=False)).code == 0

    planned = shop.run(sync, SyncOptions(env="prod", dry_run=True))
    assert planned.code == 0, planned.out + planned.err
    assert "plan: 1 repair" in planned.out and "repair    web (namespace shop): live drift:" in planned.out
    assert "upgrade --install web" in planned.out
    if "v4." in str(shop.helm_bin):
        assert "--force-conflicts" in planned.out  # takes back the image field kubectl-set owns

    skipped = shop.run(sync, SyncOptions(env="prod", yes=True, repair=False))
    assert skipped.code == 0 and "1 skip" in skipped.out, skipped.out
    assert image(shop) == "nginx:by-hand"

    repaired = shop.run(sync, SyncOptions(env="prod", yes=True))
    assert repaired.code == 0, repaired.out + repaired.err  # helm 4 too: no "Apply failed with 1 conflict"
    table = [line.lower().split() for line in repaired.out.splitlines()
             if line.lower().startswith(("cluster ", "c1 "))]
    assert table[-2][-1] == "repaired" and table[-1] == ["c1", "0", "0", "0", "0", "0", "1"], repaired.out
    assert image(shop) == "nginx:1.27"
    assert kubectl(shop, "get", "configmap", "web-cfg", "-n", NS, check=False).ok
    assert shop.run(drift, DriftOptions(envs=("prod",))).code == 0
    after = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert after.code == 0, after.out
    everything = "".join(o.out + o.err for o in (first, shown, planned, skipped, repaired, after))
    assert CANARY not in everything


def test_a_changed_secret_value_is_repaired_and_shown_masked(shop: Fleet) -> None:
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    kubectl(shop, "patch", "secret/web-db", "-n", NS, "--type=merge", "-p",
            json.dumps({"stringData": {"password": "typed-by-hand-77"}}))
    shown = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 2, shown.out
    assert "data.password: " in shown.out, shown.out  # shown as masks
    assert CANARY not in shown.out and "typed-by-hand-77" not in shown.out
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0


def add_crd_releases(fleet: Fleet, version: str, *, extra: bool) -> None:
    charts = fleet.root / "charts"
    write_chart(charts / "widgets", "widgets", version, crds={"widgets.yaml": crd("widgets", "Widget", extra=extra)},
                subchart_crd=crd("parts", "Part", extra=extra))
    write_chart(charts / "gadgets", "gadgets", version, crds={"gadgets.yaml": crd("gadgets", "Gadget", extra=extra)})
    for name, policy in (("widgets", "CreateReplace"), ("gadgets", None)):
        spec: dict[str, object] = {"chart": {"path": f"charts/{name}"}, "namespace": name,
                                   "values": {"password": "x"}}
        if policy:
            spec["crds"] = policy
        (fleet.root / "releases" / f"{name}.yaml").write_text(yaml.safe_dump(spec))


def crd_properties(fleet: Fleet, name: str) -> set[str]:
    doc = json.loads(kubectl(fleet, "get", "crd", f"{name}.example.com", "-o", "json").stdout)
    schema = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return set(schema["properties"]["spec"]["properties"])


def test_crd_policy_create_replace_applies_a_changed_crd_and_create_leaves_it(shop: Fleet) -> None:
    add_crd_releases(shop, "1.0.0", extra=False)
    first = shop.run(sync, SyncOptions(env="prod", yes=True))
    assert first.code == 0, first.out + first.err
    assert {n: crd_properties(shop, n) for n in ("widgets", "parts", "gadgets")} == {
        "widgets": {"size"}, "parts": {"size"}, "gadgets": {"size"}}
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0

    add_crd_releases(shop, "2.0.0", extra=True)
    shown = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 2, shown.out
    widgets = shown.out.split("~ c1 widgets")[1].split("\n~ ")[0]
    gadgets = shown.out.split("~ c1 gadgets")[1].split("\n~ ")[0]
    assert "chart CRDs (crds: CreateReplace): sync applies them" in widgets, shown.out
    assert "CustomResourceDefinition widgets.example.com" in widgets
    assert "CustomResourceDefinition parts.example.com" in widgets  # the subchart's crds/ too
    assert "colour" in widgets
    assert "NOT applied (crds: Create: helm installs crds/ once and never upgrades them" in gadgets, shown.out
    planned = shop.run(sync, SyncOptions(env="prod", dry_run=True))
    assert "crds      widgets (namespace widgets): server-side apply of the chart's CRDs" in planned.out, planned.out
    assert "needs: widgets (crds)" in planned.out

    synced = shop.run(sync, SyncOptions(env="prod", yes=True))
    assert synced.code == 0, synced.out + synced.err
    assert crd_properties(shop, "widgets") == {"size", "colour"}
    assert crd_properties(shop, "parts") == {"size", "colour"}
    assert crd_properties(shop, "gadgets") == {"size"}  # Create: helm never upgrades a CRD
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0

    kubectl(shop, "delete", "crd", "widgets.example.com")  # CreateReplace: a missing CRD is live drift
    shown = shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True))
    assert shown.code == 2 and "widgets.example.com: missing from the cluster" in shown.out, shown.out
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    assert crd_properties(shop, "widgets") == {"size", "colour"}


def test_crd_policy_create_an_install_creates_the_absent_crds_and_leaves_a_present_one(shop: Fleet) -> None:
    write_chart(shop.root / "charts" / "tools", "tools", "1.0.0", crds={
        "hammers.yaml": crd("hammers", "Hammer", extra=False), "saws.yaml": crd("saws", "Saw", extra=False)})
    (shop.root / "releases" / "tools.yaml").write_text(yaml.safe_dump({
        "chart": {"path": "charts/tools"}, "namespace": "tools", "values": {"password": "x"}}))
    present = shop.root / "saws.yaml"
    present.write_text(crd("saws", "Saw", extra=True))
    kubectl(shop, "create", "-f", str(present))
    planned = shop.run(sync, SyncOptions(env="prod", dry_run=True))
    assert ("creates the chart's CRDs first (crds: Create), those absent: hammers.example.com, saws.example.com"
            in planned.out), planned.out
    assert "upgrade --install tools" in planned.out and "--skip-crds" in planned.out.split("install tools")[1]

    since = max(r.seq for r in shop.clusters.requests("c1"))
    shop.clusters.faults("c1").fail("GET", r"^/apis/example.com/v1$", status=404, count=2)  # not served yet
    synced = shop.run(sync, SyncOptions(env="prod", yes=True))
    assert synced.code == 0, synced.out + synced.err
    polls = [r.status for r in shop.clusters.requests("c1", since)
             if r.path == "/apis/example.com/v1" and r.user_agent == "helmkit"]
    assert polls[:3] == [404, 404, 200], polls  # helm started once the created CRDs were served
    assert crd_properties(shop, "hammers") == {"size"}
    assert crd_properties(shop, "saws") == {"size", "colour"}  # there before the install: left as it is, as helm does
    made = json.loads(kubectl(shop, "get", "crd", "hammers.example.com", "-o", "json", "--show-managed-fields").stdout)
    assert {m["manager"] for m in made["metadata"]["managedFields"]} == {"helmkit"}
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0


def test_a_helm_error_reason_shows_helms_own_error_line(shop: Fleet) -> None:
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    shop.clusters.faults("c1").fail("PATCH", r"/namespaces/shop/configmaps", status=422, count=1)
    shop.clusters.faults("c1").fail("PUT", r"/namespaces/shop/configmaps", status=422, count=1)
    result = shop.run(sync, SyncOptions(env="prod", yes=True, set_values=("greeting=changed",)))
    assert result.code == 1, result.out + result.err
    failed = result.out.split("failed:")[1]
    assert "Error: UPGRADE FAILED" in failed, result.out
    assert "injected fault" in failed, result.out
    assert "manual intervention required" not in result.out + result.err
    assert "helm rolled it back: revision 3 runs revision 1 again" in failed, result.out


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_a_second_signal_names_the_release_left_pending_and_the_recover_command(shop: Fleet) -> None:
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    since = max(r.seq for r in shop.clusters.requests("c1"))
    shop.clusters.faults("c1").latency(30.0, path=r"/namespaces/shop/configmaps")
    argv = [sys.executable, "-m", "helmkit", "--repo", str(shop.root), "--helm", str(shop.helm_bin), "sync",
            "--env", "prod", "--yes", "--set", "greeting=changed"]
    env = dict(os.environ, HELMKIT_TOOLS_DIR=str(REPO / ".helmkit" / "tools"))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not any(r.method in ("PATCH", "PUT") and "/namespaces/shop/configmaps" in r.path
                  for r in shop.clusters.requests("c1", since)):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)  # helm's upgrade is writing: its ConfigMap write waits in the sandbox
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)  # the second signal terminates helm mid-upgrade
    out, err = proc.communicate(timeout=120)
    shop.clusters.faults("c1").clear()
    assert proc.returncode == 130, out + err
    history = json.loads(shop.helm("history", "web", "-n", NS, "-o", "json", context="c1").stdout)
    assert history[-1]["status"].startswith("pending-"), history
    assert "may be left pending" in out, out
    assert "helmkit sync --env prod --cluster c1 -l name=web --recover" in out, out
    assert f"left {history[-1]['status']} at revision {history[-1]['revision']}" in out, out
    recovered = shop.run(sync, SyncOptions(env="prod", yes=True, recover=True))
    assert recovered.code == 0, recovered.out + recovered.err


@pytest.mark.parametrize("helm_major", ["4"], ids=["helm4"])
def test_helm4_repairs_a_release_helm3_installed_client_side(shop: Fleet) -> None:
    """helm 4 keeps client-side apply for a helm 3 release and refuses --force-conflicts there."""
    helm3 = Fleet(shop.root, shop.clusters, shop.kubeconfig, binary_path(REPO, "helm-v3.19.0"))
    assert helm3.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    hand_edit(shop)
    planned = shop.run(sync, SyncOptions(env="prod", dry_run=True))
    assert "repair" in planned.out and "--force-conflicts" not in planned.out, planned.out
    repaired = shop.run(sync, SyncOptions(env="prod", yes=True))
    assert repaired.code == 0, repaired.out + repaired.err
    assert image(shop) == "nginx:1.27"
    assert shop.run(diff, DiffOptions(env="prod", detailed_exitcode=True)).code == 0


HELM_PANIC = """\
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1c6a2f1]

goroutine 1 [running]:
helm.sh/helm/v3/pkg/kube.(*ReadyChecker).deploymentReady(0xc0005a6a80, 0xc000a2e008, 0xc000a36008)
\t/home/runner/work/helm/helm/pkg/kube/ready.go:400 +0x71
helm.sh/helm/v3/pkg/kube.(*ReadyChecker).IsReady(0xc0005a6a80, {0x2c4b0f0, 0xc00012e000}, 0xc0008b3b80)
\t/home/runner/work/helm/helm/pkg/kube/ready.go:123 +0x5d1
main.main()
\t/home/runner/work/helm/helm/cmd/helm/helm.go:83 +0x1c5

goroutine 18 [select]:
k8s.io/klog/v2.(*flushDaemon).run.func1()
\t/home/runner/go/pkg/mod/k8s.io/klog/v2@v2.130.1/klog.go:1141 +0x117
"""


@pytest.mark.parametrize("helm_major", ["3"], ids=["helm3"])
def test_a_helm_panic_shows_its_message_and_failing_frame(shop: Fleet, tmp_path: Path) -> None:
    """A helm whose upgrade panics (helm 3's --wait readiness checker did, on Deployments without a
    rollingUpdate strategy): a fake at the outer door, the real helm for everything else."""
    assert shop.run(sync, SyncOptions(env="prod", yes=True)).code == 0
    (tmp_path / "panic.txt").write_text(HELM_PANIC)
    fake = tmp_path / "bin" / "helm"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nif [ "$1" = upgrade ]; then cat "{tmp_path / "panic.txt"}" >&2; exit 2; fi\n'
                    f'exec "{shop.helm_bin}" "$@"\n')
    fake.chmod(0o755)
    panicking = Fleet(shop.root, shop.clusters, shop.kubeconfig, fake)
    result = panicking.run(sync, SyncOptions(env="prod", yes=True, set_values=("greeting=changed",)))
    assert result.code == 1, result.out + result.err
    failed = result.out.split("failed:")[1]
    assert "failed (exit 2): nothing was changed: revision 1 is still the current one" in failed, result.out
    assert "panic: runtime error: invalid memory address or nil pointer dereference" in failed, result.out
    assert "at helm.sh/helm/v3/pkg/kube.(*ReadyChecker).deploymentReady (pkg/kube/ready.go:400)" in failed
    assert "klog" not in failed  # not the last line of the stack trace
