"""Decoding Helm release records (Secret and ConfigMap drivers) and picking the current revision."""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from helmkit.adapters import helmstorage
from helmkit.adapters.helmstorage import (
    HelmRelease,
    RecordError,
    decode_release,
    decode_storage_object,
    encode_release,
    latest_releases,
)
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import binary_path

REPO = Path(__file__).resolve().parents[3]


def helm3_record(name: str = "web", revision: int = 1, status: str = "deployed", namespace: str = "prod",
                 **extra: Any) -> dict[str, Any]:
    """A release as helm 3 writes it (pkg/release Release JSON; no apply_method)."""
    doc: dict[str, Any] = {
        "name": name,
        "info": {"first_deployed": "2026-01-02T03:04:05.1Z", "last_deployed": f"2026-01-0{revision}T00:00:00Z",
                 "deleted": "", "description": "Install complete", "status": status, "notes": "hi"},
        "chart": {"metadata": {"name": "webapp", "version": "1.2.3", "appVersion": "4.5", "apiVersion": "v2"},
                  "lock": None, "templates": [{"name": "templates/cm.yaml", "data": "YQ=="}],
                  "values": {"replicas": 1}, "schema": None, "files": []},
        "config": {"replicas": 3, "image": {"tag": "v2"}},
        "manifest": "---\n# Source: webapp/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
                    "metadata:\n  name: web\n",
        "hooks": [{"name": "web-migrate", "kind": "Job", "path": "webapp/templates/job.yaml",
                   "manifest": "apiVersion: batch/v1\nkind: Job\n", "events": ["pre-upgrade", "pre-install"],
                   "last_run": {"started_at": "", "completed_at": "", "phase": "Succeeded"}, "weight": 5,
                   "delete_policies": ["before-hook-creation"]}],
        "version": revision,
        "namespace": namespace,
    }
    doc.update(extra)
    return doc


def secret(doc: dict[str, Any], labels: dict[str, str] | None = None, *, gzip_it: bool = True) -> dict[str, Any]:
    """The Secret as the API returns it: data.release is base64 (API) of base64 of gzip of JSON."""
    raw = json.dumps(doc).encode()
    inner = base64.b64encode(gzip.compress(raw) if gzip_it else raw)
    base = {"name": doc["name"], "owner": "helm", "status": doc["info"]["status"], "version": str(doc["version"])}
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": f"sh.helm.release.v1.{doc['name']}.v{doc['version']}", "namespace": doc["namespace"],
                     "labels": {**base, **(labels or {})}},
        "data": {"release": base64.b64encode(inner).decode()},
    }


def configmap(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"sh.helm.release.v1.{doc['name']}.v{doc['version']}", "namespace": doc["namespace"],
                     "labels": {"owner": "helm", "name": doc["name"]}},
        "data": {"release": encode_release(doc)},
    }


def test_helm3_secret_record_decodes_every_field() -> None:
    obj = secret(helm3_record(), labels={"team": "payments", "modifiedAt": "1700000000"})
    release = decode_storage_object(obj)
    assert release == HelmRelease(
        name="web", namespace="prod", revision=1, status="deployed", chart_name="webapp", chart_version="1.2.3",
        app_version="4.5", values={"replicas": 3, "image": {"tag": "v2"}}, manifest=helm3_record()["manifest"],
        hooks=release.hooks, first_deployed="2026-01-02T03:04:05.1Z", last_deployed="2026-01-01T00:00:00Z",
        description="Install complete", labels={"team": "payments"}, apply_method="",
        storage_name="sh.helm.release.v1.web.v1",
    )
    (hook,) = release.hooks
    assert (hook.name, hook.kind, hook.events, hook.weight) == ("web-migrate", "Job", ("pre-upgrade", "pre-install"), 5)


def test_configmap_driver_and_legacy_uncompressed_records() -> None:
    assert decode_storage_object(configmap(helm3_record(revision=2))).revision == 2
    assert decode_storage_object(secret(helm3_record(), gzip_it=False)).chart_name == "webapp"


def test_helm4_record_from_the_real_binary(tmp_path: Path) -> None:
    """helm 4 writes the same Release JSON plus apply_method: take one from a real client-side dry run."""
    chart = tmp_path / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.3.0\nappVersion: '9.9'\n")
    (chart / "values.yaml").write_text("replicas: 1\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n"
        "  replicas: {{ .Values.replicas | quote }}\n")
    (chart / "templates" / "hook.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hook\n  annotations:\n"
        "    helm.sh/hook: pre-install\ndata: {}\n")
    (tmp_path / "values.yaml").write_text("replicas: 4\n")
    env = {k: str(tmp_path / k.lower()) for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME",
                                                  "KUBECACHEDIR")}
    env["KUBECONFIG"] = os.devnull
    helm = binary_path(REPO, "helm-v4.1.4")
    result = Runner(masker=Masker()).run(
        [helm, "install", "r1", chart, "--dry-run=client", "-o", "json", "-n", "ns1", "-f", tmp_path / "values.yaml"],
        env=env, timeout=60)
    doc = json.loads(result.stdout)
    doc["info"]["status"] = "deployed"
    release = decode_storage_object(secret(doc))
    assert (release.name, release.namespace, release.revision, release.status) == ("r1", "ns1", 1, "deployed")
    assert (release.chart_name, release.chart_version, release.app_version) == ("demo", "0.3.0", "9.9")
    assert release.values == {"replicas": 4}
    assert "name: r1" in release.manifest and 'replicas: "4"' in release.manifest
    assert [(h.name, h.events) for h in release.hooks] == [("hook", ("pre-install",))]
    assert release.apply_method in ("ssa", "csa")
    assert release.first_deployed and release.last_deployed


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda o: o["data"].pop("release"), "no data.release"),
    (lambda o: o["data"].update(release="***"), "not base64"),
    (lambda o: o["data"].update(release=base64.b64encode(b"!!!").decode()), "payload is not base64"),
    (lambda o: o["data"].update(release=base64.b64encode(base64.b64encode(b"\x1f\x8bxx")).decode()), "gzip"),
    (lambda o: o["data"].update(release=base64.b64encode(base64.b64encode(b"[1]")).decode()), "JSON object"),
])
def test_corrupt_records_raise_record_error(mutate: Any, message: str) -> None:
    obj = secret(helm3_record())
    mutate(obj)
    with pytest.raises(RecordError, match=message):
        decode_storage_object(obj)


def test_gzip_bomb_is_refused() -> None:
    payload = base64.b64encode(gzip.compress(b" " * 100_000))
    with pytest.raises(RecordError, match="decompresses to more than 1000 bytes"):
        decode_release(payload, max_bytes=1000)
    assert helmstorage.MAX_RECORD_BYTES >= 16 * 1024 * 1024


def rel(revision: int, status: str, name: str = "web", namespace: str = "prod") -> HelmRelease:
    return decode_storage_object(secret(helm3_record(name, revision, status, namespace)))


@pytest.mark.parametrize(("statuses", "current"), [
    (["superseded", "deployed"], 2),
    (["superseded", "deployed", "failed"], 3),  # a failed upgrade is what counts now
    (["deployed", "pending-upgrade"], 2),
    (["superseded", "deployed", "superseded"], 2),  # rollback target kept deployed
    (["superseded", "uninstalling"], 2),  # a killed helm uninstall
    (["superseded", "deployed", "pending-rollback"], 3),
    (["uninstalled"], 1),
    (["failed"], 1),
])
def test_latest_releases_current_revision(statuses: list[str], current: int) -> None:
    records = [rel(i + 1, s) for i, s in enumerate(statuses)][::-1]
    (history,) = latest_releases(records).values()
    assert history.current.revision == current
    assert [r.revision for r in history.history] == list(range(1, len(statuses) + 1))
    assert history.latest.revision == len(statuses)


def test_latest_releases_groups_by_namespace_and_name() -> None:
    records = [rel(1, "deployed", "web", "a"), rel(1, "deployed", "web", "b"), rel(2, "deployed", "api", "a"),
               rel(1, "superseded", "api", "a")]
    grouped = latest_releases(records)
    assert list(grouped) == [("a", "api"), ("a", "web"), ("b", "web")]
    assert grouped[("a", "api")].current.revision == 2
