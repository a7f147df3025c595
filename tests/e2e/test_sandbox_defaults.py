"""Server defaults as a Kubernetes 1.34 API server fills them in, read back by real kubectl and helm.

Each manifest of ``sandbox_defaults/`` is written as a chart would write it; the test creates it
with ``kubectl apply`` and compares what ``kubectl get -o yaml`` reads back with
``golden/defaults/<kind>.yaml`` (server bookkeeping such as uid, resourceVersion, timestamps,
managedFields and allocated IPs/ports is replaced by placeholders). Refresh the golden files with
``HELMKIT_UPDATE_GOLDEN=1 pytest tests/e2e/test_sandbox_defaults.py`` and review them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Tools

pytestmark = pytest.mark.e2e

MANIFESTS = Path(__file__).resolve().parent / "sandbox_defaults"
GOLDEN = Path(__file__).resolve().parent / "golden" / "defaults"
KINDS = sorted(p.stem for p in MANIFESTS.glob("*.yaml"))
_VOLATILE_META = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")
_IP = re.compile(r"^10\.\d+\.\d+\.\d+$")


def _normalized(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    meta = obj["metadata"]
    for key in _VOLATILE_META:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if not annotations:
        meta.pop("annotations", None)
    if obj["kind"] != "Service":
        obj.pop("status", None)
    text = json.dumps(obj).replace(f'"{namespace}"', '"<namespace>"')
    uid_free = re.sub(r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"', '"<uid>"', text)
    result: dict[str, Any] = json.loads(uid_free)
    spec = result.get("spec") or {}
    if _IP.match(str(spec.get("clusterIP", ""))):
        spec["clusterIP"] = "<allocated>"
        spec["clusterIPs"] = ["<allocated>"]
    for port in spec.get("ports") or ():
        if isinstance(port, dict) and "nodePort" in port:
            port["nodePort"] = "<allocated>"
    return result


def _check_golden(name: str, obj: dict[str, Any]) -> None:
    text = yaml.safe_dump(obj, sort_keys=True, default_flow_style=False)
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("HELMKIT_UPDATE_GOLDEN", "") not in ("", "0"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; run with HELMKIT_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name}: defaulted object differs from {path}"


def _read_back(tools: Tools, manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    kind = manifest["kind"].lower()
    name = manifest["metadata"]["name"]
    obj: dict[str, Any] = tools.get(f"{kind}.{manifest['apiVersion'].split('/')[0]}"
                                    if "/" in manifest["apiVersion"] else kind, name, "-n", namespace)
    return obj


@pytest.fixture
def defaults_namespace(tools: Tools, namespace: str) -> str:
    tools.kubectl("create", "namespace", namespace)
    return namespace


@pytest.mark.parametrize("helm_major", ["3"])  # kubectl 1.34
@pytest.mark.parametrize("kind", KINDS)
def test_kubectl_apply_reads_back_defaulted_object(tools: Tools, defaults_namespace: str, kind: str) -> None:
    text = (MANIFESTS / f"{kind}.yaml").read_text()
    manifest = yaml.safe_load(text)
    try:
        tools.kubectl("apply", "-n", defaults_namespace, "-f", "-", stdin=text)
        obj = _read_back(tools, manifest, defaults_namespace)
    finally:
        if "namespace" not in manifest["metadata"] and kind in _CLUSTER_SCOPED:
            tools.kubectl("delete", "-f", "-", "--ignore-not-found", stdin=text, check=False)
    _check_golden(kind, _normalized(obj, defaults_namespace))


_CLUSTER_SCOPED = {"ingressclass", "priorityclass", "validatingwebhookconfiguration", "mutatingwebhookconfiguration",
                   "apiservice", "storageclass"}


@pytest.mark.parametrize("helm_major", ["4"])  # kubectl 1.35
def test_defaults_are_kept_on_replace_patch_and_server_side_apply(tools: Tools, defaults_namespace: str) -> None:
    """Every write path defaults: a PUT or apply body without the defaults gets them back."""
    ns = ["-n", defaults_namespace]
    text = (MANIFESTS / "deployment.yaml").read_text()
    tools.kubectl("apply", "--server-side", *ns, "-f", "-", stdin=text)
    applied = tools.get("deployment", "web", *ns, "--show-managed-fields")
    assert applied["spec"]["strategy"] == {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    managed = {entry["manager"]: entry["fieldsV1"] for entry in applied["metadata"]["managedFields"]}
    assert "f:progressDeadlineSeconds" not in managed["kubectl"]["f:spec"]  # applied fields only

    body = yaml.safe_load(text)
    body["metadata"].update(namespace=defaults_namespace, resourceVersion=applied["metadata"]["resourceVersion"])
    body["spec"]["strategy"] = {"type": "Recreate"}
    tools.kubectl("replace", "-f", "-", stdin=json.dumps(body))
    replaced = tools.get("deployment", "web", *ns)
    assert replaced["spec"]["strategy"] == {"type": "Recreate"}
    assert replaced["spec"]["revisionHistoryLimit"] == 10
    assert replaced["spec"]["template"]["spec"]["containers"][0]["terminationMessagePolicy"] == "File"

    tools.kubectl("patch", "deployment", "web", *ns, "--type=json",
                  "-p", '[{"op": "remove", "path": "/spec/progressDeadlineSeconds"},'
                        ' {"op": "replace", "path": "/spec/strategy", "value": {"type": "RollingUpdate"}}]')
    patched = tools.get("deployment", "web", *ns)
    assert patched["spec"]["progressDeadlineSeconds"] == 600
    assert patched["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}


WAITS_CHART = """apiVersion: v2
name: strategy
version: 0.1.0
"""
WAITS_TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}}
spec:
  replicas: 2
  strategy: {type: RollingUpdate}
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      containers: [{name: main, image: "nginx:1.27"}]
"""


def test_helm3_wait_on_rolling_update_without_parameters(tools: Tools, namespace: str, helm_major: str,
                                                         tmp_path: Path) -> None:
    """helm 3's readiness check reads strategy.rollingUpdate.maxUnavailable: the server must default it."""
    chart = tmp_path / "strategy"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(WAITS_CHART)
    (chart / "templates" / "deployment.yaml").write_text(WAITS_TEMPLATE)
    ns = ["--namespace", namespace]
    install = tools.helm("install", "roll", str(chart), *ns, "--create-namespace", "--wait", "--timeout", "60s",
                         check=False)
    assert install.returncode == 0, install.stderr
    assert "panic" not in install.stderr
    upgrade = tools.helm("upgrade", "roll", str(chart), *ns, "--wait", "--timeout", "60s", check=False)
    assert upgrade.returncode == 0, upgrade.stderr
    releases = json.loads(tools.helm("list", *ns, "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("roll", "deployed")]
    live = tools.get("deployment", "roll", *ns)
    assert live["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}
