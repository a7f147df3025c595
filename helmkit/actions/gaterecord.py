"""The last gate outcomes of each cluster, kept in the cluster (not on the machine that synced).

After the gates of a wave ran, sync writes, on each cluster of the wave where they ran, a
ConfigMap ``helmkit-gates-<env>`` in ``kube-system`` (server-side apply, so one request creates
or replaces it) holding ``gates.json``: when, which wave, the overall result, each gate's verdict
and reason, and what was rolled back. ``helmkit status`` reads it back (one GET per cluster), so
anyone can see why the last sync stopped, from any machine. A record that cannot be written is a
warning: the gates' decision stands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.context import Context
from helmkit.errors import HelmkitError
from helmkit.model.instance import Cluster

if TYPE_CHECKING:  # status reads records without importing the gate machinery
    from helmkit.plan.gatereport import WaveGateResult

RECORD_NAMESPACE = "kube-system"
RECORD_PREFIX = "helmkit-gates-"
RECORD_KEY = "gates.json"
FIELD_MANAGER = "helmkit-gates"
READ_TIMEOUT = 10.0


def record_name(env: str) -> str:
    return f"{RECORD_PREFIX}{env}"[:253]


def record_of(cluster: Cluster, wave: WaveGateResult) -> dict[str, Any]:
    """What is kept about ``cluster`` after the gates of ``wave``."""
    return {
        "env": cluster.env, "cluster": cluster.name, "wave": wave.wave, "result": wave.result,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "gates": [{"gate": o.gate.name, "kind": o.gate.kind, "verdict": o.verdict, "reason": o.reason}
                  for o in wave.outcomes if o.cluster == cluster.name],
        "rollback": [u.to_json() for u in wave.undone if u.step.cluster == cluster.name],
    }


def write_records(ctx: Context, clusters: Sequence[Cluster], wave: WaveGateResult) -> None:
    for cluster in clusters:
        document = ctx.masker.mask(json.dumps(record_of(cluster, wave), sort_keys=True))
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": record_name(cluster.env), "namespace": RECORD_NAMESPACE,
                             "labels": {"app.kubernetes.io/managed-by": "helmkit", "helmkit.dev/env": cluster.env}},
                "data": {RECORD_KEY: document}}
        try:
            config = load_cluster_config(cluster.context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
            with KubeClient(config, timeout=READ_TIMEOUT) as client:
                client.patch("v1", "ConfigMap", record_name(cluster.env), body, namespace=RECORD_NAMESPACE,
                             patch_type="apply", field_manager=FIELD_MANAGER, force=True)
        except HelmkitError as exc:
            ctx.console.info(f"warning: cluster {cluster.name}: the gate outcomes were not recorded: {exc.message}")


def read_records(ctx: Context, clusters: Sequence[Cluster]) -> dict[str, dict[str, Any]]:
    """Cluster name -> its last gate record; clusters without one (or unreadable) are left out."""
    found: dict[str, dict[str, Any]] = {}
    for cluster in clusters:
        try:
            config = load_cluster_config(cluster.context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
            with KubeClient(config, timeout=READ_TIMEOUT, retries=1) as client:
                configmap = client.get("v1", "ConfigMap", record_name(cluster.env), RECORD_NAMESPACE)
        except HelmkitError:
            continue
        text = ((configmap or {}).get("data") or {}).get(RECORD_KEY)
        try:
            document = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            document = None
        if isinstance(document, dict):
            found[cluster.name] = document
    return found


def render_records(records: dict[str, dict[str, Any]]) -> str:
    """The ``status`` section: each cluster's last gate outcomes (empty when there are none)."""
    if not records:
        return ""
    rows = []
    for cluster, record in records.items():
        when = str(record.get("finished", "")).replace("T", " ")[:19]
        for gate in record.get("gates") or []:
            rows.append([cluster, record.get("wave", ""), when, gate.get("gate", ""), gate.get("verdict", ""),
                         gate.get("reason", "")])
        for undo in record.get("rollback") or []:
            action = undo.get("action", "")
            what = f"{action} to revision {undo.get('revision')}" if action == "rollback" else action
            rows.append([cluster, record.get("wave", ""), when, f"{what} {undo.get('release', '')}",
                         "ok" if undo.get("ok") else "FAILED", undo.get("message", "")])
    return "last sync's gates:\n" + tabulate(rows, headers=["cluster", "wave", "finished", "gate", "result", "reason"])
