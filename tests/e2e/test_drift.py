"""``helmkit drift`` end to end: a small fleet installed by real helm (3 and 4) on sandbox clusters (or
real ones: docs/testing.md), every drift kind planted by hand with helm and kubectl, then every report
format checked."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from helmkit.adapters.runner import Result, Runner
from helmkit.adapters.tools import binary_path
from tests.e2e.conftest import E2EClusters, StartClusters
from tests.support.pngpixels import colour_count

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
TOOLS = {"3": ("helm-v3.19.0", "kubectl-v1.34.5"), "4": ("helm-v4.1.4", "kubectl-v1.35.2")}
CANARY = "canary-Pw-7f2c91e0d3"
HAND_SET_PASSWORD = "hand-set-Pw-51b7"
NS = "shop"
MARKER = "helmkit.dev/managed=true,helmkit.dev/env=prod,helmkit.dev/cluster={cluster}"
RELEASES: dict[str, dict[str, Any]] = {
    "api": {"replicas": 1},
    "batch": {"greeting": "batch"},
    "payments": {"password": "ref+env://PAYMENTS_DB_PASSWORD"},
    "web": {"greeting": "hello", "note": "n1"},
    "worker": {},
}
FORMATS = ("table", "json", "markdown", "junit", "html")


def write_repo(root: Path) -> Path:
    (root / "releases").mkdir(parents=True)
    (root / "environments").mkdir()
    (root / "helmkit.yaml").write_text(yaml.safe_dump({
        "helm": {"version": ">=3.19.0 <5.0.0"},
        "defaults": {"namespace": NS, "wait": False, "atomic": False},
        "kubeVersion": "1.34.0",
        "ignoreDifferences": [{"kind": "ConfigMap", "name": "web-cfg", "jsonPointers": ["/data/note"]}],
    }))
    for name, values in RELEASES.items():
        (root / "releases" / f"{name}.yaml").write_text(yaml.safe_dump({"chart": {"path": "charts/shop"},
                                                                         "values": values}))
    (root / "environments" / "prod.yaml").write_text(yaml.safe_dump({"clusters": [
        {"name": "prod-1", "region": "eu-1"}, {"name": "prod-2", "region": "eu-2", "wave": 1}]}))
    chart = root / "charts" / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("replicas: 1\ngreeting: hi\nnote: ''\npassword: ''\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n  note: {{ .Values.note | quote }}\n")
    (chart / "templates" / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  selector: {app: {{ .Release.Name }}}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n")
    (chart / "templates" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n"
        "  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n    spec:\n      containers:\n"
        "      - name: app\n        image: nginx:1.27\n        env:\n"
        "        - {name: GREETING, value: {{ .Values.greeting | quote }}}\n"
        "        {{- if .Values.password }}\n        - {name: DB_PASSWORD, value: {{ .Values.password | quote }}}\n"
        "        {{- end }}\n")
    (chart / "templates" / "secret.yaml").write_text(
        "{{- if .Values.password }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-db\n"
        "type: Opaque\nstringData:\n  password: {{ .Values.password | quote }}\n{{- end }}\n")
    return root


@dataclass
class Fleet:
    repo: Path
    clusters: E2EClusters
    kubeconfig: Path
    env: dict[str, str]
    helm_bin: Path
    kubectl_bin: Path
    runner: Runner
    reports: Path

    def helm(self, *args: str | Path, cluster: str = "prod-1", check: bool = True) -> Result:
        return self.runner.run([str(self.helm_bin), *map(str, args), "--kube-context", self.clusters.context(cluster)],
                               env=self.env, check=check, timeout=120)

    def kubectl(self, *args: str, cluster: str = "prod-1") -> Result:
        return self.runner.run([str(self.kubectl_bin), "--context", self.clusters.context(cluster), *args],
                               env=self.env, timeout=60)

    def install(self, name: str, values: dict[str, Any], *extra: str, cluster: str = "prod-1") -> None:
        resolved = {k: (CANARY if str(v).startswith("ref+env://") else v) for k, v in values.items()}
        path = self.reports.parent / f"values-{name}.yaml"
        path.write_text(yaml.safe_dump(resolved))
        path.chmod(0o600)
        self.helm("upgrade", "--install", name, self.repo / "charts" / "shop", "-n", NS, "--create-namespace",
                  "-f", path, "--labels", MARKER.format(cluster=cluster), *extra, cluster=cluster)

    def drift(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "helmkit", "--repo", str(self.repo), "--helm", str(self.helm_bin), "drift",
                "--kubeconfig", str(self.kubeconfig), *args]
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture
def fleet(tmp_path: Path, named_clusters: StartClusters, helm_major: str) -> Fleet:
    repo = write_repo(tmp_path / "repo")
    clusters = named_clusters("prod-1", "prod-2")
    clusters.pin_contexts(repo / "environments" / "prod.yaml")
    reports = tmp_path / "reports"
    reports.mkdir()
    helm_bin, kubectl_bin = (binary_path(REPO, tool) for tool in TOOLS[helm_major])
    return Fleet(repo, clusters, clusters.kubeconfig, tool_env(tmp_path, clusters.kubeconfig), helm_bin,
                 kubectl_bin, Runner(), reports)


def tool_env(tmp_path: Path, kubeconfig: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(tmp_path / "kube-cache"),
               HELM_CACHE_HOME=str(tmp_path / "helm-cache"), HELM_CONFIG_HOME=str(tmp_path / "helm-config"),
               HELM_DATA_HOME=str(tmp_path / "helm-data"), PAYMENTS_DB_PASSWORD=CANARY, NO_COLOR="1")
    return env


def plant_drift(fleet: Fleet) -> None:
    """Install the fleet on prod-1, then drift each release in its own way."""
    faults = fleet.clusters.faults("prod-1")  # a failed upgrade and an unreachable cluster need the sandbox
    for name, values in RELEASES.items():
        fleet.install(name, values)
    fleet.install("legacy", {})  # installed by helmkit, then its release file was removed: an orphan
    fleet.kubectl("scale", "deployment/api", "-n", NS, "--replicas=3")
    fleet.kubectl("patch", "configmap/web-cfg", "-n", NS, "--type=merge",
                  "-p", '{"data": {"greeting": "hand-edited", "note": "ignored-by-rule"}}')
    fleet.kubectl("delete", "service/web", "-n", NS)
    fleet.helm("upgrade", "payments", fleet.repo / "charts" / "shop", "-n", NS, "--reuse-values",
               "--set", "greeting=by-hand")
    fleet.kubectl("patch", "secret/payments-db", "-n", NS, "--type=merge",
                  "-p", json.dumps({"stringData": {"password": HAND_SET_PASSWORD}}))
    fleet.helm("uninstall", "worker", "-n", NS)
    faults.fail("PATCH", r"/configmaps/batch-cfg", status=403, count=None)
    failed = fleet.helm("upgrade", "batch", fleet.repo / "charts" / "shop", "-n", NS, "--reuse-values",
                        "--set", "greeting=changed", check=False)
    faults.clear()
    assert not failed.ok
    fleet.clusters.faults("prod-2").set_unreachable()


def test_drift_reports_every_kind_in_every_format(fleet: Fleet) -> None:
    plant_drift(fleet)
    args = [f"--report={fmt}={fleet.reports / f'drift.{fmt}'}" for fmt in FORMATS]
    run = fleet.drift("--env", "prod", *args, "--format", "table")
    assert run.returncode == 1, run.stderr  # an unreachable cluster is an error; the reports are written
    texts = {fmt: (fleet.reports / f"drift.{fmt}").read_text() for fmt in FORMATS}
    for text in [*texts.values(), run.stdout, run.stderr]:
        assert CANARY not in text
        assert HAND_SET_PASSWORD not in text
        assert "PAYMENTS_DB_PASSWORD" not in text or "ref+env://PAYMENTS_DB_PASSWORD" in text

    report = json.loads(texts["json"])
    schema = json.loads((REPO / "schemas" / "drift-report.schema.json").read_text())
    jsonschema.validate(report, schema)
    kinds = {(f["cluster"], f["release"], f["kind"], f["subject"]) for f in report["findings"]}
    assert kinds == {
        ("prod-1", "api", "live-drift", "apps/v1/Deployment shop/api"),
        ("prod-1", "web", "live-drift", "v1/ConfigMap shop/web-cfg"),
        ("prod-1", "web", "live-drift", "v1/Service shop/web"),
        ("prod-1", "payments", "spec-drift", None),
        ("prod-1", "payments", "live-drift", "v1/Secret shop/payments-db"),
        ("prod-1", "worker", "missing", None),
        ("prod-1", "batch", "unhealthy", None),
        ("prod-1", "legacy", "orphan", None),
        ("prod-2", None, "unreachable", None),
    }
    by_subject = {f["subject"]: f for f in report["findings"] if f["subject"]}
    assert [c["path"] for c in by_subject["apps/v1/Deployment shop/api"]["changes"]] == ["spec.replicas"]
    assert [c["path"] for c in by_subject["v1/ConfigMap shop/web-cfg"]["changes"]] == ["data.greeting"]
    # who changed each live field: its field manager (kubectl's scale and patch), never helm
    managers = {c["path"]: c["managers"] for f in by_subject.values() for c in f["changes"] if "managers" in c}
    assert managers["spec.replicas"] and all(m.startswith("kubectl") for m in managers["spec.replicas"]), managers
    assert managers["data.greeting"] and all(m.startswith("kubectl") for m in managers["data.greeting"]), managers
    assert "(changed by kubectl" in by_subject["apps/v1/Deployment shop/api"]["diff"]
    assert "(changed by kubectl" in html.unescape(texts["html"])
    (secret,) = by_subject["v1/Secret shop/payments-db"]["changes"]
    assert secret["path"] == "data.password"
    assert secret["expected"].startswith("<secret hmac:") and secret["live"].startswith("<secret hmac:")
    assert secret["expected"] != secret["live"]
    payments = next(f for f in report["findings"] if f["release"] == "payments" and f["kind"] == "spec-drift")
    assert "values changed at greeting" in payments["summary"]
    assert "<secret hmac:" in payments["diff"]  # the password shows as a mask
    prod1 = next(c for c in report["clusters"] if c["cluster"] == "prod-1")
    # capabilities and release records (/version, /api, /apis + one list of their metadata) + one GET per
    # current revision decoded (api, web, payments, batch, legacy) + per kind one list (+ one discovery
    # per group-version)
    assert prod1["reachable"] and prod1["apiCalls"] <= 4 + 5 + 2 + 4
    assert {c["cluster"]: c["state"] for c in report["clusters"]} == {"prod-1": "unhealthy", "prod-2": "unreachable"}

    for fmt in ("table", "markdown", "html"):
        for kind in ("live-drift", "spec-drift", "missing", "unhealthy", "orphan", "unreachable"):
            assert kind in texts[fmt], (fmt, kind)
    assert texts["table"].rstrip("\n") == run.stdout.rstrip("\n")
    table_only = fleet.drift("--env", "prod")  # no report needs a diff: spec diffs are not rendered
    assert table_only.returncode == 1 and table_only.stdout == run.stdout
    junit = ET.fromstring(texts["junit"])  # noqa: S314 -- our own output
    failures = {(case.get("classname"), case.get("name"), f.get("type"))
                for case in junit.iter("testcase") for f in [*case.findall("failure"), *case.findall("error")]}
    assert ("prod.prod-1", "api", "live-drift") in failures
    assert ("prod.prod-1", "worker", "missing") in failures
    assert ("prod.prod-2", "(cluster)", "unreachable") in failures
    assert junit.get("errors") == "1"
    reason = next(f for f in report["findings"] if f["kind"] == "unreachable")["details"][0]
    why = reason.removeprefix("cluster prod-2: ").splitlines()[0]
    assert why.strip() and "could not be read" not in why
    for fmt in ("table", "markdown", "html", "junit", "json"):  # every report says why, not only that
        assert f"cluster prod-2 could not be read: {why}" in html.unescape(texts[fmt]), (fmt, texts[fmt])
    dom = check_html_in_chromium(fleet.reports / "drift.html", fleet.reports.parent)
    assert 'data-state="unreachable"' in dom and 'data-state="unhealthy"' in dom

    selected = fleet.drift("--env", "prod", "-l", "name=api", "-o", "json")
    assert {(f["release"], f["kind"]) for f in json.loads(selected.stdout)["findings"]} == {
        ("api", "live-drift"), (None, "unreachable")}


def test_baseline_marks_new_present_and_resolved(fleet: Fleet) -> None:
    for cluster in ("prod-1", "prod-2"):
        for name, values in RELEASES.items():
            fleet.install(name, values, cluster=cluster)
    first = fleet.reports / "first.json"
    clean = fleet.drift("--all", "--report", f"json={first}", "--format", "table")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no drift (2 clusters, 0 unreachable)" in clean.stdout

    fleet.kubectl("scale", "deployment/api", "-n", NS, "--replicas=3")
    fleet.kubectl("delete", "service/web", "-n", NS)
    second = fleet.reports / "second.json"
    run = fleet.drift("--env", "prod", "--baseline", str(first), "--fail-on", "new", "-o", "json",
                      "--output-file", str(second))
    assert run.returncode == 2, run.stderr
    report = json.loads(second.read_text())
    assert {f["baseline"] for f in report["findings"]} == {"new"}
    assert report["baseline"]["new"] == 2

    fleet.kubectl("scale", "deployment/api", "-n", NS, "--replicas=1")  # fixed by hand
    third = fleet.reports / "third.json"
    run = fleet.drift("--env", "prod", "--baseline", str(second), "--fail-on", "new", "--report", f"json={third}")
    assert run.returncode == 0, run.stdout + run.stderr  # only known drift left
    assert "1 still present, 1 resolved" in run.stdout
    report = json.loads(third.read_text())
    assert [(f["subject"], f["baseline"]) for f in report["findings"]] == [("v1/Service shop/web", "present")]
    assert [r["release"] for r in report["resolved"]] == ["api"]
    narrowed = fleet.drift("--env", "prod", "-l", "name=web", "--baseline", str(second), "--fail-on", "new",
                           "-o", "json")  # api was not looked at: unchecked, not resolved
    assert narrowed.returncode == 0, narrowed.stderr
    report = json.loads(narrowed.stdout)
    assert report["resolved"] == [] and report["baseline"]["unchecked"] == 1
    assert [(f["release"], f["baseline"]) for f in report["findings"]] == [("web", "present")]
    run = fleet.drift("--env", "prod", "--baseline", str(second), "--fail-on", "any", "-o", "markdown")
    assert run.returncode == 2
    assert "## Resolved since the baseline" in run.stdout


DIFF_COLOURS = {"add": (0xCC, 0xFF, 0xD8), "del": (0xFF, 0xD7, 0xD5), "chg": (0xFF, 0xF8, 0xC5)}


def check_html_in_chromium(html: Path, tmp: Path) -> str:
    """Screenshot and DOM of the report in headless Chromium; returns the DOM."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium): HTML report not checked in a browser")
    png = tmp / "drift.png"
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
            "--window-size=1280,4000"]
    shot = subprocess.run([*argv, f"--screenshot={png}", html.as_uri()], capture_output=True, text=True,
                          timeout=120, check=False)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    text = html.read_text()
    for css, rgb in DIFF_COLOURS.items():  # the diff lines are painted: sample the screenshot's pixels
        if f'class="{css}"' in text:
            assert colour_count(png, rgb) > 500, f"no {css} line coloured {rgb} in the screenshot"
    problems = [line for line in shot.stderr.splitlines()
                if "CONSOLE" in line or "Refused to" in line or "Uncaught" in line]
    assert problems == []
    dom = subprocess.run([*argv, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120,
                         check=False)
    assert CANARY not in dom.stdout
    return dom.stdout


def test_example_fleet_synced_by_helmkit_has_no_drift_until_edited(tmp_path: Path, named_clusters: StartClusters,
                                                                   helm_major: str) -> None:
    """The realistic fleet (CRDs, hooks, webhooks, block-scalar ConfigMaps) installed by ``helmkit sync``
    must show no drift at all: a false positive here would make every nightly job red."""
    repo = tmp_path / "fleet"
    repo.mkdir()
    for folder in ("releases", "environments", "charts", "values", "schemas"):
        shutil.copytree(REPO / folder, repo / folder)
    shutil.copy(REPO / "helmkit.yaml", repo / "helmkit.yaml")
    helm_bin, kubectl_bin = (binary_path(REPO, tool) for tool in TOOLS[helm_major])
    clusters = named_clusters("dev-us-east-1")
    clusters.pin_contexts(repo / "environments" / "dev.yaml")
    kubeconfig = clusters.kubeconfig
    env = tool_env(tmp_path, kubeconfig)
    base = [sys.executable, "-m", "helmkit", "--repo", str(repo), "--helm", str(helm_bin)]

    def helmkit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args, "--kubeconfig", str(kubeconfig)], env=env, capture_output=True,
                              text=True, timeout=300, check=False)

    sync = helmkit("sync", "--env", "dev")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    clean = helmkit("drift", "--env", "dev", "-o", "json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["findings"] == []

    runner = Runner()

    def kubectl(*args: str) -> None:
        runner.run([str(kubectl_bin), "--context", clusters.context("dev-us-east-1"), *args], env=env, timeout=60)

    kubectl("scale", "deployment/payments", "-n", "payments", "--replicas=4")  # ignored by helmkit.yaml
    kubectl("patch", "secret/payments-database", "-n", "payments", "--type=merge",
            "-p", json.dumps({"stringData": {"password": HAND_SET_PASSWORD}}))
    drifted = helmkit("drift", "--env", "dev", "-o", "json")
    assert drifted.returncode == 2, drifted.stderr
    for text in (drifted.stdout, drifted.stderr, sync.stdout, sync.stderr):
        assert CANARY not in text and HAND_SET_PASSWORD not in text
    ((finding),) = json.loads(drifted.stdout)["findings"]
    assert (finding["kind"], finding["release"], finding["subject"]) == (
        "live-drift", "payments", "v1/Secret payments/payments-database")
    assert [c["path"] for c in finding["changes"]] == ["data.password"]
