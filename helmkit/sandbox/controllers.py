"""Tiny controllers: just enough cluster behaviour for ``helm --wait`` and ``kubectl rollout status``.

They run synchronously after each write (a store listener), so an object is "ready" by the time
the client reads it again:

- Deployment → an owned ReplicaSet ``{name}-{template-hash}`` whose template equals the
  Deployment's (plus the ``pod-template-hash`` label); older ReplicaSets are scaled to zero;
  Deployment status with ``observedGeneration``, replica counts, Available/Progressing conditions,
  and the ``deployment.kubernetes.io/revision`` annotation of its current ReplicaSet.
- ReplicaSet, StatefulSet, DaemonSet: every replica ready at once.
- Job: complete; Pod: Running and Ready (helm hook pods: Succeeded); PVC: Bound;
  LoadBalancer Service: an ingress IP; CRD: NamesAccepted and Established; APIService: Available.

Status timestamps are kept from the previous status so that a controller's second pass is a
no-op write (which keeps the resourceVersion and stops the loop).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

from helmkit.sandbox.status import ApiError
from helmkit.sandbox.store import Obj, Store, now_rfc3339

RS_KEY = "apps/replicasets"
DONE = "Reached expected number of succeeded pods"


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:10]


def _condition(old_status: dict[str, Any], ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
    for cond in old_status.get("conditions") or ():
        if cond.get("type") == ctype and cond.get("status") == status and cond.get("reason") == reason:
            return dict(cond)
    now = now_rfc3339()
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now, "lastUpdateTime": now}


def _set_status(store: Store, key: str, obj: Obj, status: dict[str, Any],
                annotations: dict[str, str] | None = None) -> None:
    meta = obj["metadata"]
    wanted = {**(meta.get("annotations") or {}), **(annotations or {})}
    if obj.get("status") == status and (not annotations or wanted == meta.get("annotations")):
        return
    new = {**obj, "metadata": {**meta, "annotations": wanted} if annotations else dict(meta), "status": status}
    with contextlib.suppress(ApiError):  # a newer write won; its own controller pass sets the status
        store.replace(key, new, expected_rv=obj["metadata"]["resourceVersion"])


def _revision(rs: Obj) -> int:
    value = (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
    return int(value) if str(value).isdigit() else 0


def _replicas(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return int(value) if isinstance(value, int) else 1


def deployment(store: Store, obj: Obj) -> None:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    namespace, name = meta.get("namespace", ""), meta["name"]
    template = copy.deepcopy(spec.get("template") or {})
    pod_hash = _hash(template)
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
    replicas = _replicas(obj)
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
    rs_name = f"{name}-{pod_hash}"
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": meta.get("uid"),
             "controller": True, "blockOwnerDeletion": True}
    owned, _ = store.select(RS_KEY, namespace, lambda o: any(
        r.get("uid") == meta.get("uid") for r in o["metadata"].get("ownerReferences") or ()))
    revision = str(1 + max((_revision(o) for o in owned), default=0))
    current = next((o for o in owned if o["metadata"]["name"] == rs_name), None)
    if current is None:
        rs = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "namespace": namespace, "labels": dict(template["metadata"]["labels"]),
                         "annotations": {"deployment.kubernetes.io/revision": revision},
                         "ownerReferences": [owner]},
            "spec": {"replicas": replicas, "selector": selector, "template": template},
        }
        try:
            store.create(RS_KEY, rs, error=lambda: ApiError(409, "exists"))
        except ApiError:
            return
    elif _replicas(current) != replicas or _revision(current) + 1 < int(revision):
        updated = copy.deepcopy(current)
        updated["spec"]["replicas"] = replicas
        if _revision(current) + 1 < int(revision):  # an older template again (a rollback): the newest revision
            updated["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = revision
            current = updated
        try:
            store.replace(RS_KEY, updated, expected_rv=current["metadata"]["resourceVersion"])
        except ApiError:
            return
    for old in owned:
        if old["metadata"]["name"] != rs_name and _replicas(old) != 0:
            scaled = copy.deepcopy(old)
            scaled["spec"]["replicas"] = 0
            with contextlib.suppress(ApiError):
                store.replace(RS_KEY, scaled, expected_rv=old["metadata"]["resourceVersion"])
    latest = store.get("apps/deployments", namespace, name)
    if latest is None or latest["metadata"].get("uid") != meta.get("uid"):
        return
    old_status = latest.get("status") or {}
    status = {
        "observedGeneration": latest["metadata"].get("generation", 1),
        "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": [
            _condition(old_status, "Available", "True", "MinimumReplicasAvailable",
                       "Deployment has minimum availability."),
            _condition(old_status, "Progressing", "True", "NewReplicaSetAvailable",
                       f'ReplicaSet "{rs_name}" has successfully progressed.'),
        ],
    }
    if replicas == 0:
        for key in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            status.pop(key)
    rs_revision = ((current or {}).get("metadata", {}).get("annotations") or {}).get(
        "deployment.kubernetes.io/revision", revision)
    _set_status(store, "apps/deployments", latest, status, {"deployment.kubernetes.io/revision": rs_revision})


def replica_set(store: Store, obj: Obj) -> None:
    n = _replicas(obj)
    status: dict[str, Any] = {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": n}
    if n:
        status.update(fullyLabeledReplicas=n, readyReplicas=n, availableReplicas=n)
    _set_status(store, RS_KEY, obj, status)


def stateful_set(store: Store, obj: Obj) -> None:
    n = _replicas(obj)
    revision = f"{obj['metadata']['name']}-{_hash((obj.get('spec') or {}).get('template'))}"
    status = {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": n, "readyReplicas": n,
              "currentReplicas": n, "updatedReplicas": n, "availableReplicas": n, "currentRevision": revision,
              "updateRevision": revision, "collisionCount": 0}
    _set_status(store, "apps/statefulsets", obj, status)


def daemon_set(store: Store, obj: Obj) -> None:
    status = {"observedGeneration": obj["metadata"].get("generation", 1), "currentNumberScheduled": 1,
              "desiredNumberScheduled": 1, "numberAvailable": 1, "numberReady": 1, "updatedNumberScheduled": 1,
              "numberMisscheduled": 0}
    _set_status(store, "apps/daemonsets", obj, status)


def job(store: Store, obj: Obj) -> None:
    spec = obj.get("spec") or {}
    old = obj.get("status") or {}
    if spec.get("suspend"):
        return
    now = now_rfc3339()
    status = {
        "succeeded": int(spec.get("completions") or 1), "active": 0, "ready": 0, "terminating": 0,
        "startTime": old.get("startTime", now), "completionTime": old.get("completionTime", now),
        "uncountedTerminatedPods": {},
        "conditions": [
            _condition(old, "SuccessCriteriaMet", "True", "CompletionsReached", DONE),
            _condition(old, "Complete", "True", "CompletionsReached", DONE),
        ],
    }
    _set_status(store, "batch/jobs", obj, status)


def pod(store: Store, obj: Obj) -> None:
    old = obj.get("status") or {}
    hook = "helm.sh/hook" in (obj["metadata"].get("annotations") or {})
    containers = [c.get("name", "") for c in (obj.get("spec") or {}).get("containers") or ()]
    status: dict[str, Any] = {
        "phase": "Succeeded" if hook else "Running",
        "conditions": [_condition(old, "Ready", "False" if hook else "True", "PodCompleted" if hook else "", ""),
                       _condition(old, "PodScheduled", "True", "", "")],
        "podIP": "10.244.0.10", "hostIP": "10.0.0.1", "startTime": old.get("startTime", now_rfc3339()),
        "containerStatuses": [
            {"name": c, "ready": not hook, "restartCount": 0, "started": not hook, "image": "", "imageID": "",
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}} if hook else {"running": {}}}
            for c in containers
        ],
    }
    _set_status(store, "/pods", obj, status)


def pvc(store: Store, obj: Obj) -> None:
    spec = obj.get("spec") or {}
    status = {"phase": "Bound", "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
              "capacity": ((spec.get("resources") or {}).get("requests") or {"storage": "1Gi"})}
    _set_status(store, "/persistentvolumeclaims", obj, status)


def service(store: Store, obj: Obj) -> None:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return
    status = {"loadBalancer": {"ingress": [{"ip": "192.0.2.10", "ipMode": "VIP"}]}}
    _set_status(store, "/services", obj, status)


def crd(store: Store, obj: Obj) -> None:
    spec = obj.get("spec") or {}
    old = obj.get("status") or {}
    storage = [v.get("name") for v in spec.get("versions") or () if v.get("storage")]
    status = {
        "acceptedNames": spec.get("names") or {},
        "storedVersions": sorted(set(old.get("storedVersions") or []) | set(storage)),
        "conditions": [
            _condition(old, "NamesAccepted", "True", "NoConflicts", "no conflicts found"),
            _condition(old, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
    }
    _set_status(store, "apiextensions.k8s.io/customresourcedefinitions", obj, status)


def api_service(store: Store, obj: Obj) -> None:
    old = obj.get("status") or {}
    status = {"conditions": [_condition(old, "Available", "True", "Local", "Local APIServices are always available")]}
    _set_status(store, "apiregistration.k8s.io/apiservices", obj, status)


CONTROLLERS: dict[str, Callable[[Store, Obj], None]] = {
    "apps/deployments": deployment,
    "apps/replicasets": replica_set,
    "apps/statefulsets": stateful_set,
    "apps/daemonsets": daemon_set,
    "batch/jobs": job,
    "/pods": pod,
    "/persistentvolumeclaims": pvc,
    "/services": service,
    "apiextensions.k8s.io/customresourcedefinitions": crd,
    "apiregistration.k8s.io/apiservices": api_service,
}


def install(store: Store) -> None:
    """Run the controllers after every ADDED/MODIFIED event of the store."""

    def on_change(key: str, kind: str, obj: Obj, old: Obj | None) -> None:
        controller = CONTROLLERS.get(key)
        if controller is None or kind == "DELETED":
            return
        live = store.get(key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if live is not None and live["metadata"].get("resourceVersion") == obj["metadata"].get("resourceVersion"):
            controller(store, live)

    store.listeners.append(on_change)
