"""Tiny controllers: just enough cluster behaviour for ``helm --wait`` and ``kubectl rollout status``.

Every write puts the object (and its controlling owner) on a queue that the writing thread
drains before the request returns, so the cascade Deployment → ReplicaSet → Pods → statuses has
settled by the time the client reads again; a Pod that is not ready makes its workload not
ready, as on a real cluster:

- Deployment → an owned ReplicaSet ``{name}-{template-hash}`` whose template equals the
  Deployment's (plus the ``pod-template-hash`` label); older ReplicaSets are scaled to zero;
  Deployment status counted from the ReplicaSets' Pods, ``Available``/``Progressing`` conditions
  (``ProgressDeadlineExceeded`` after ``progressDeadlineSeconds``), and the
  ``deployment.kubernetes.io/revision`` annotation of its current ReplicaSet.
- ReplicaSet, StatefulSet, DaemonSet → their Pods (:mod:`helmkit.sandbox.podctl`); Pod → the
  status of its behaviour (:mod:`helmkit.sandbox.pods`: healthy, unready, crashloop).
- Job: complete; PVC: Bound; LoadBalancer Service: an ingress IP; CRD: NamesAccepted and
  Established; APIService: Available.

Status timestamps are kept from the previous status so that a controller's second pass is a
no-op write (which keeps the resourceVersion and stops the loop). :meth:`Controllers.tick`
(called every :data:`TICK_SECONDS` by the sandbox) moves what changes with time: restart counts,
behaviours that start after a delay, progress deadlines.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from helmkit.sandbox import podctl, pods
from helmkit.sandbox.faults import Faults
from helmkit.sandbox.podctl import replicas as _replicas
from helmkit.sandbox.podctl import set_status as _set_status
from helmkit.sandbox.status import ApiError
from helmkit.sandbox.store import Obj, Store, now_rfc3339

RS_KEY = "apps/replicasets"
DONE = "Reached expected number of succeeded pods"


def _condition(old_status: dict[str, Any], ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
    for cond in old_status.get("conditions") or ():
        if cond.get("type") == ctype and cond.get("status") == status and cond.get("reason") == reason \
                and cond.get("message") == message:
            return dict(cond)
    now = now_rfc3339()
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now, "lastUpdateTime": now}


def _revision(rs: Obj) -> int:
    value = (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
    return int(value) if str(value).isdigit() else 0


def deployment(store: Store, obj: Obj) -> None:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    namespace, name = meta.get("namespace", ""), meta["name"]
    template = copy.deepcopy(spec.get("template") or {})
    pod_hash = pods.template_hash(template)
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
    rs_now = store.select(RS_KEY, namespace, lambda o: any(
        r.get("uid") == meta.get("uid") for r in o["metadata"].get("ownerReferences") or ()))[0]
    status = deployment_status(latest, rs_name, rs_now)
    rs_revision = ((current or {}).get("metadata", {}).get("annotations") or {}).get(
        "deployment.kubernetes.io/revision", revision)
    _set_status(store, "apps/deployments", latest, status, {"deployment.kubernetes.io/revision": rs_revision})


def _max_unavailable(obj: Obj, wanted: int) -> int:
    strategy = (obj.get("spec") or {}).get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return min(wanted, wanted * int(value[:-1]) // 100)  # rounded down, as the controller does
    return min(wanted, int(value)) if isinstance(value, int) else 0


def deployment_status(obj: Obj, rs_name: str, owned: list[Obj]) -> dict[str, Any]:
    """A Deployment's status counted from its ReplicaSets (``owned``; ``rs_name`` the current one)."""
    old = obj.get("status") or {}
    wanted = _replicas(obj)

    def count(field: str, only: str | None = None) -> int:
        return sum(int((rs.get("status") or {}).get(field, 0)) for rs in owned
                   if only is None or rs["metadata"]["name"] == only)

    total, updated, ready, available = (count("replicas"), count("replicas", rs_name), count("readyReplicas"),
                                        count("availableReplicas"))
    if available >= wanted - _max_unavailable(obj, wanted):
        available_cond = _condition(old, "Available", "True", "MinimumReplicasAvailable",
                                    "Deployment has minimum availability.")
    else:
        available_cond = _condition(old, "Available", "False", "MinimumReplicasUnavailable",
                                    "Deployment does not have minimum availability.")
    if total == updated == available == wanted:
        progressing = _condition(old, "Progressing", "True", "NewReplicaSetAvailable",
                                 f'ReplicaSet "{rs_name}" has successfully progressed.')
    else:
        progressing = _condition(old, "Progressing", "True", "ReplicaSetUpdated",
                                 f'ReplicaSet "{rs_name}" is progressing.')
        deadline = (obj.get("spec") or {}).get("progressDeadlineSeconds")
        started = _parse_time(progressing.get("lastUpdateTime"))
        timed_out = f'ReplicaSet "{rs_name}" has timed out progressing.'
        if (isinstance(deadline, int) and started and (datetime.now(UTC) - started).total_seconds() > deadline) \
                or any(c.get("message") == timed_out for c in old.get("conditions") or ()):
            progressing = _condition(old, "Progressing", "False", "ProgressDeadlineExceeded", timed_out)
    status: dict[str, Any] = {"observedGeneration": obj["metadata"].get("generation", 1)}
    for field, value in (("replicas", total), ("updatedReplicas", updated), ("readyReplicas", ready),
                         ("availableReplicas", available), ("unavailableReplicas", max(0, wanted - available))):
        if value:
            status[field] = value
    status["conditions"] = [available_cond, progressing]
    return status


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


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




OWNER_KEYS = {"ReplicaSet": RS_KEY, "StatefulSet": "apps/statefulsets", "DaemonSet": "apps/daemonsets",
              "Deployment": "apps/deployments"}
TICK_SECONDS = 0.5
Item = tuple[str, str, str]  # resource key, namespace, name


class Controllers:
    """The controllers of one store, with a work queue per writing thread."""

    def __init__(self, store: Store, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self._local = threading.local()
        store.listeners.append(self._on_change)

    def _on_change(self, key: str, kind: str, obj: Obj, old: Obj | None) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        items: list[Item] = []
        if kind != "DELETED" and key in CONTROLLERS:
            items.append((key, namespace, meta["name"]))
        for ref in meta.get("ownerReferences") or ():
            if ref.get("controller") and ref.get("kind") in OWNER_KEYS and key in ("/pods", RS_KEY):
                items.append((OWNER_KEYS[ref["kind"]], namespace, str(ref.get("name"))))
        self.run(items)

    def run(self, items: list[Item]) -> None:
        """Queue ``items``; the outermost call of a thread works the queue off."""
        queue: dict[Item, None] | None = getattr(self._local, "queue", None)
        if queue is not None:
            queue.update(dict.fromkeys(items))
            return
        queue = self._local.queue = dict.fromkeys(items)
        try:
            while queue:
                key, namespace, name = next(iter(queue))
                del queue[(key, namespace, name)]
                live = self.store.get(key, namespace, name)
                if live is not None:
                    CONTROLLERS[key](self, live)
        finally:
            self._local.queue = None

    def resync(self, namespace: str | None = None) -> None:
        """Run the Pod controller on the Pods of ``namespace`` (all when None): a fault changed."""
        found, _ = self.store.select("/pods", namespace)
        self.run([("/pods", p["metadata"].get("namespace", ""), p["metadata"]["name"]) for p in found])

    def tick(self) -> None:
        """What time changes: Pods behaving badly (or about to) and Deployments still progressing."""
        found, _ = self.store.select("/pods", None, lambda p: pods.BEHAVIOUR in (
            p["metadata"].get("annotations") or {}) or not pods.is_ready(p))
        items = [("/pods", p["metadata"].get("namespace", ""), p["metadata"]["name"]) for p in found]
        if self.faults.workloads():
            items += [("/pods", p["metadata"].get("namespace", ""), p["metadata"]["name"])
                      for p in self.store.select("/pods")[0]]
        progressing, _ = self.store.select("apps/deployments", None, lambda d: any(
            c.get("reason") == "ReplicaSetUpdated" for c in (d.get("status") or {}).get("conditions") or ()))
        items += [("apps/deployments", d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in progressing]
        self.run(items)


Controller = Callable[["Controllers", Obj], None]
CONTROLLERS: dict[str, Controller] = {
    "apps/deployments": lambda c, o: deployment(c.store, o),
    "apps/replicasets": podctl.replica_set,
    "apps/statefulsets": podctl.stateful_set,
    "apps/daemonsets": podctl.daemon_set,
    "batch/jobs": lambda c, o: job(c.store, o),
    "/pods": podctl.pod,
    "/persistentvolumeclaims": lambda c, o: pvc(c.store, o),
    "/services": lambda c, o: service(c.store, o),
    "apiextensions.k8s.io/customresourcedefinitions": lambda c, o: crd(c.store, o),
    "apiregistration.k8s.io/apiservices": lambda c, o: api_service(c.store, o),
}
