"""Controllers of the workloads that own Pods: ReplicaSet, StatefulSet, DaemonSet, and the Pod itself.

Each keeps as many Pods as it wants (made by :func:`helmkit.sandbox.pods.make_pod`; a StatefulSet
or DaemonSet whose template changed replaces its Pods at once) and reports the ready and
available counts of those Pods in its status, so a workload whose Pods are not ready is not
ready either. The Pod controller writes the status of the Pod's behaviour
(:mod:`helmkit.sandbox.pods`).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from helmkit.sandbox import pods
from helmkit.sandbox.status import ApiError
from helmkit.sandbox.store import Obj, Store

if TYPE_CHECKING:
    from helmkit.sandbox.controllers import Controllers

PODS = "/pods"
RS_KEY = "apps/replicasets"


def replicas(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return int(value) if isinstance(value, int) else 1


def set_status(store: Store, key: str, obj: Obj, status: dict[str, Any],
               annotations: dict[str, str] | None = None) -> None:
    meta = obj["metadata"]
    wanted = {**(meta.get("annotations") or {}), **(annotations or {})}
    if obj.get("status") == status and (not annotations or wanted == meta.get("annotations")):
        return
    new = {**obj, "metadata": {**meta, "annotations": wanted} if annotations else dict(meta), "status": status}
    with contextlib.suppress(ApiError):  # a newer write won; its own controller pass sets the status
        store.replace(key, new, expected_rv=obj["metadata"]["resourceVersion"])


def owned_pods(store: Store, owner: Obj) -> list[Obj]:
    meta = owner["metadata"]
    found, _ = store.select(PODS, meta.get("namespace", ""), lambda o: any(
        r.get("uid") == meta.get("uid") and r.get("controller") for r in o["metadata"].get("ownerReferences") or ()))
    return found


def _sync_pods(store: Store, owner: Obj, wanted: dict[str, dict[str, str]]) -> list[Obj]:
    """Create the wanted Pods (name -> extra labels) that are missing, delete the others; the Pods after."""
    namespace = owner["metadata"].get("namespace", "")
    have = {p["metadata"]["name"]: p for p in owned_pods(store, owner)}
    for name, pod in have.items():
        labels = pod["metadata"].get("labels") or {}
        if name not in wanted or any(labels.get(k) != v for k, v in wanted[name].items()):
            with contextlib.suppress(ApiError):
                store.delete(PODS, namespace, name)
    for name, extra in wanted.items():
        live = store.get(PODS, namespace, name)
        if live is None:
            with contextlib.suppress(ApiError):
                store.create(PODS, pods.make_pod(owner, name, extra), error=lambda: ApiError(409, "exists"))
    return owned_pods(store, owner)


def _counts(found: list[Obj]) -> tuple[int, int]:
    return len(found), sum(1 for p in found if pods.is_ready(p))


def _nonzero(status: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Drop zero counts, as the API server's ``omitempty`` does."""
    return {k: v for k, v in status.items() if k not in keys or v}


def replica_set(ctl: Controllers, obj: Obj) -> None:
    name, uid = obj["metadata"]["name"], str(obj["metadata"].get("uid"))
    wanted: dict[str, dict[str, str]] = {f"{name}-{pods.suffix(uid, str(i))}": {} for i in range(replicas(obj))}
    total, ready = _counts(_sync_pods(ctl.store, obj, wanted))
    status = _nonzero({"observedGeneration": obj["metadata"].get("generation", 1), "replicas": total,
                       "fullyLabeledReplicas": total, "readyReplicas": ready, "availableReplicas": ready},
                      "fullyLabeledReplicas", "readyReplicas", "availableReplicas")
    set_status(ctl.store, RS_KEY, obj, status)


def stateful_set(ctl: Controllers, obj: Obj) -> None:
    name = obj["metadata"]["name"]
    revision = f"{name}-{pods.template_hash((obj.get('spec') or {}).get('template'))}"
    wanted = {f"{name}-{i}": {"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name":
                              f"{name}-{i}", "apps.kubernetes.io/pod-index": str(i)}
              for i in range(replicas(obj))}
    total, ready = _counts(_sync_pods(ctl.store, obj, wanted))
    status = _nonzero({"observedGeneration": obj["metadata"].get("generation", 1), "replicas": total,
                       "readyReplicas": ready, "currentReplicas": total, "updatedReplicas": total,
                       "availableReplicas": ready, "currentRevision": revision, "updateRevision": revision,
                       "collisionCount": 0}, "readyReplicas", "availableReplicas")
    set_status(ctl.store, "apps/statefulsets", obj, status)


def daemon_set(ctl: Controllers, obj: Obj) -> None:
    """One node, so one Pod."""
    meta = obj["metadata"]
    revision = pods.template_hash((obj.get("spec") or {}).get("template"))
    wanted = {f"{meta['name']}-{pods.suffix(str(meta.get('uid')), revision)}": {
        "controller-revision-hash": revision, "pod-template-generation": str(meta.get("generation", 1))}}
    _, ready = _counts(_sync_pods(ctl.store, obj, wanted))
    status = _nonzero({"observedGeneration": meta.get("generation", 1), "currentNumberScheduled": 1,
                       "desiredNumberScheduled": 1, "numberAvailable": ready, "numberReady": ready,
                       "numberUnavailable": 1 - ready, "updatedNumberScheduled": 1, "numberMisscheduled": 0},
                      "numberAvailable", "numberReady", "numberUnavailable")
    set_status(ctl.store, "apps/daemonsets", obj, status)


def workload_of(store: Store, pod: Obj) -> str | None:
    """The name of the Deployment, StatefulSet or DaemonSet behind a Pod (None for a bare Pod)."""
    meta = pod["metadata"]
    ref = next((r for r in meta.get("ownerReferences") or () if r.get("controller")), None)
    if ref is None:
        return None
    if ref.get("kind") != "ReplicaSet":
        return str(ref.get("name"))
    rs = store.get(RS_KEY, meta.get("namespace", ""), str(ref.get("name")))
    owner = next((r for r in (rs or {}).get("metadata", {}).get("ownerReferences") or ()
                  if r.get("kind") == "Deployment"), None)
    return str(owner["name"]) if owner else str(ref.get("name"))


def pod(ctl: Controllers, obj: Obj) -> None:
    now = datetime.now(UTC)
    meta = obj["metadata"]
    workload = workload_of(ctl.store, obj)
    fault = ctl.faults.workload_fault(meta.get("namespace", ""), workload) if workload else None
    behaviour, since = pods.behaviour_of(obj, fault, now)
    set_status(ctl.store, PODS, obj, pods.pod_status(obj, behaviour, since, now))
