"""A chart with the traits of real charts (server defaults, hooks, extension APIs, webhooks, PDB, HPA)
through a whole release life cycle with ``--wait`` on both helm majors, read back with kubectl."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import CHARTS, Tools

pytestmark = pytest.mark.e2e

FIDELITY = str(CHARTS / "fidelity")
WAIT = ("--wait", "--wait-for-jobs", "--timeout", "90s")


def _helm_ok(tools: Tools, *args: str) -> str:
    result = tools.helm(*args, check=False, timeout=150)
    assert result.returncode == 0, f"helm {' '.join(args[:2])} failed:\n{result.stderr}"
    assert "panic" not in result.stderr
    return result.stdout


def _releases(tools: Tools, namespace: str) -> list[tuple[str, str, str]]:
    every = ["--all"] if str(tools.helm_bin).find("helm-v3") >= 0 else []  # helm 4 lists every status
    listed = json.loads(tools.helm("list", "-n", namespace, *every, "-o", "json").stdout)
    return [(r["name"], r["revision"], r["status"]) for r in listed]


def test_life_cycle_with_wait(tools: Tools, namespace: str, helm_major: str) -> None:
    ns = ["--namespace", namespace]
    _helm_ok(tools, "install", "fid", FIDELITY, *ns, "--create-namespace", *WAIT)
    assert _releases(tools, namespace) == [("fid", "1", "deployed")]

    deployment = tools.get("deployment", "fid-web", "-n", namespace)
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}
    web = deployment["spec"]["template"]["spec"]["containers"][0]
    assert (web["imagePullPolicy"], web["terminationMessagePolicy"]) == ("IfNotPresent", "File")
    assert web["readinessProbe"]["periodSeconds"] == 10
    sts = tools.get("statefulset", "fid-db", "-n", namespace)
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    assert sts["status"]["readyReplicas"] == 1
    daemonset = tools.get("daemonset", "fid-agent", "-n", namespace)
    assert daemonset["spec"]["updateStrategy"]["rollingUpdate"] == {"maxUnavailable": 1, "maxSurge": 0}
    service = tools.get("service", "fid-web", "-n", namespace)
    assert [(p["port"], p["targetPort"], p["protocol"]) for p in service["spec"]["ports"]] == [
        (80, 80, "TCP"), (443, "http", "TCP")]
    assert tools.get("service", "fid-db", "-n", namespace)["spec"]["clusterIP"] == "None"
    hpa = tools.get("hpa", "fid-web", "-n", namespace)
    assert hpa["spec"]["behavior"]["scaleUp"]["selectPolicy"] == "Max"
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    webhook = tools.get("validatingwebhookconfiguration", f"fid-{namespace}-validate")
    assert webhook["webhooks"][0]["clientConfig"]["service"]["port"] == 443
    assert webhook["webhooks"][0]["timeoutSeconds"] == 30
    api_service = tools.get("apiservice", "v1beta1.fid.fidelity.example.com")
    assert api_service["spec"]["service"]["port"] == 443
    assert tools.get("pdb", "fid-web", "-n", namespace)["spec"]["maxUnavailable"] == 1
    assert tools.get("cronjob", "fid-cleanup", "-n", namespace)["spec"]["concurrencyPolicy"] == "Allow"
    pdb_row = tools.kubectl("get", "pdb", "fid-web", "-n", namespace, "--no-headers").stdout.split()
    assert pdb_row[:3] == ["fid-web", "N/A", "1"]  # NAME MIN-AVAILABLE MAX-UNAVAILABLE, as kubectl prints them
    hpa_row = tools.kubectl("get", "hpa", "fid-web", "-n", namespace, "--no-headers").stdout.split()
    assert hpa_row[:2] == ["fid-web", "Deployment/fid-web"]
    jobs = {j["metadata"]["name"] for j in tools.get("jobs", "-n", namespace)["items"]}
    assert jobs == {"fid-notify"}  # the pre-install hook succeeded and was deleted (hook-succeeded)

    _helm_ok(tools, "upgrade", "fid", FIDELITY, *ns, "--set", "greeting=hi", "--set", "image.tag=1.28", *WAIT)
    upgraded = tools.get("deployment", "fid-web", "-n", namespace)
    assert upgraded["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert upgraded["spec"]["revisionHistoryLimit"] == 10
    replica_sets = tools.get("replicasets", "-n", namespace, "-l", "app.kubernetes.io/component=web")["items"]
    assert sorted(rs["spec"]["replicas"] for rs in replica_sets) == [0, 2]
    assert upgraded["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"

    _helm_ok(tools, "rollback", "fid", "1", *ns, *WAIT)
    assert _releases(tools, namespace) == [("fid", "3", "deployed")]
    rolled = tools.get("deployment", "fid-web", "-n", namespace)
    assert rolled["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert rolled["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"  # as a real controller
    assert tools.get("configmap", "fid-config", "-n", namespace)["data"]["greeting"] == "hello"

    _helm_ok(tools, "uninstall", "fid", *ns, "--wait", "--timeout", "90s")
    assert _releases(tools, namespace) == []
    left = tools.kubectl("get", "deployments,statefulsets,daemonsets,services,hpa,pdb,cronjobs", "-n", namespace,
                         "-o", "name").stdout.split()
    assert left == []
    gone = tools.kubectl("get", "apiservice", "v1beta1.fid.fidelity.example.com", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
