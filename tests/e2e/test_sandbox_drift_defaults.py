"""``helmkit drift`` after ``helmkit sync`` of a chart whose objects the API server defaults heavily
(Deployment strategy, pod templates, Services, StatefulSet claim templates, DaemonSet, HPA behavior,
webhooks, APIService, PDB, CronJob): the fields the server filled in are not drift, on both helm
majors, and a real hand edit still is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import binary_path
from tests.e2e.conftest import CHARTS, StartClusters

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
TOOLS = {"3": ("helm-v3.19.0", "kubectl-v1.34.5"), "4": ("helm-v4.1.4", "kubectl-v1.35.2")}


def _write_repo(root: Path) -> Path:
    (root / "releases").mkdir(parents=True)
    (root / "environments").mkdir()
    shutil.copytree(CHARTS / "fidelity", root / "charts" / "fidelity")
    (root / "helmkit.yaml").write_text(yaml.safe_dump({
        "helm": {"version": ">=3.19.0 <5.0.0"},
        "defaults": {"namespace": "fid", "wait": True, "timeout": "2m", "createNamespace": True},
        "kubeVersion": "1.34.0",
    }))
    (root / "releases" / "fid.yaml").write_text(yaml.safe_dump({
        "chart": {"path": "charts/fidelity"},
        # an empty pull policy and cluster IP: the server fills both in
        "values": {"image": {"pullPolicy": ""}, "service": {"clusterIP": ""}}}))
    (root / "environments" / "lab.yaml").write_text(yaml.safe_dump({"clusters": [{"name": "lab-1"}]}))
    return root


def test_server_defaults_are_not_drift(tmp_path: Path, named_clusters: StartClusters, helm_major: str) -> None:
    repo = _write_repo(tmp_path / "repo")
    clusters = named_clusters("lab-1")
    clusters.pin_contexts(repo / "environments" / "lab.yaml")
    helm_bin, kubectl_bin = (binary_path(REPO, tool) for tool in TOOLS[helm_major])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBE"))}
    env.update(KUBECONFIG=str(clusters.kubeconfig), KUBECACHEDIR=str(tmp_path / "kube-cache"),
               HELM_CACHE_HOME=str(tmp_path / "hc"), HELM_CONFIG_HOME=str(tmp_path / "hf"),
               HELM_DATA_HOME=str(tmp_path / "hd"), NO_COLOR="1")

    def helmkit(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "helmkit", "--repo", str(repo), "--helm", str(helm_bin), *args,
                "--kubeconfig", str(clusters.kubeconfig)]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)

    sync = helmkit("sync", "--env", "lab", "--yes")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    clean = helmkit("drift", "--env", "lab", "-o", "json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["findings"] == []

    Runner().run([str(kubectl_bin), "--context", clusters.context("lab-1"), "patch", "deployment/fid-web", "-n",
                  "fid", "--type=json", "-p", json.dumps([{"op": "replace", "value": "Always",
                  "path": "/spec/template/spec/containers/0/imagePullPolicy"}])], env=env, timeout=60)
    drifted = helmkit("drift", "--env", "lab", "-o", "json")
    assert drifted.returncode == 2, drifted.stdout + drifted.stderr
    ((finding),) = json.loads(drifted.stdout)["findings"]
    assert finding["subject"] == "apps/v1/Deployment fid/fid-web"
    assert [c["path"] for c in finding["changes"]] == ["spec.template.spec.containers[name=web].imagePullPolicy"]
