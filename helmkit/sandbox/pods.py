"""Pods behind workloads, and how they behave: a tiny kubelet.

ReplicaSets, StatefulSets and DaemonSets get Pods made from their template (labels and
annotations of the template, a controller ``ownerReference``, names as the real controllers
give them: ``{replicaset}-{5 chars}``, ``{statefulset}-{ordinal}``, ``{daemonset}-{5 chars}``).

A Pod's behaviour comes from the workload's fault (:meth:`helmkit.sandbox.faults.Faults.workload`),
else from its template annotation ``sandbox.helmkit.dev/behaviour``:

- ``healthy`` (the default): Running and Ready.
- ``unready``: Running, containers running but not ready (a readiness probe that never passes).
- ``crashloop``: Running, not ready, every container waiting in ``CrashLoopBackOff`` with the last
  termination (exit 1, ``Error``) and a ``restartCount`` that grows by one every
  :data:`RESTART_SECONDS` seconds.

``sandbox.helmkit.dev/behaviour-after: 30s`` (or ``after`` of the fault) keeps a Pod healthy for
that long after it started, as an application that fails after its warm-up.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from helmkit.sandbox.store import Obj

BEHAVIOUR = "sandbox.helmkit.dev/behaviour"
BEHAVIOUR_AFTER = "sandbox.helmkit.dev/behaviour-after"
BEHAVIOURS = ("healthy", "unready", "crashloop")
RESTART_SECONDS = 2.0
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the letters of k8s.io/apimachinery's rand.String
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def template_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:10]


def suffix(*parts: str) -> str:
    """Five stable characters, as the random suffix of a controller-made name."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:5])


def seconds(value: Any) -> float:
    """``30s``, ``2m``, ``500ms`` or a number of seconds; 0 when unreadable."""
    match = _DURATION.match(str(value))
    if match is None:
        return 0.0
    return float(match.group(1)) * _UNITS[match.group(2)]


def make_pod(owner: Obj, name: str, extra_labels: dict[str, str]) -> Obj:
    """A Pod of ``owner`` (a ReplicaSet, StatefulSet or DaemonSet) from its template."""
    meta = owner["metadata"]
    template = (owner.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    pod_meta: dict[str, Any] = {
        "name": name, "namespace": meta.get("namespace", ""),
        "labels": {**(tmeta.get("labels") or {}), **extra_labels},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner.get("kind", ""), "name": meta["name"],
                             "uid": meta.get("uid"), "controller": True, "blockOwnerDeletion": True}],
    }
    if tmeta.get("annotations"):
        pod_meta["annotations"] = dict(tmeta["annotations"])
    if owner.get("kind") == "ReplicaSet":
        pod_meta["generateName"] = f"{meta['name']}-"
    spec = {**(template.get("spec") or {}), "nodeName": "sandbox-node"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}


def is_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def _started(pod: Obj, now: datetime) -> datetime:
    stamp = (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp")
    try:
        return datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return now


def behaviour_of(pod: Obj, fault: tuple[str, float, float] | None, now: datetime) -> tuple[str, float]:
    """The behaviour a Pod shows at ``now``, and since how many seconds (0 when healthy). ``fault``:
    the workload's (behaviour, after, when it was set; its clock starts then for older Pods)."""
    annotations = pod["metadata"].get("annotations") or {}
    start = _started(pod, now).timestamp()
    if fault is not None:
        behaviour, after, start = fault[0], fault[1], max(start, fault[2])
    else:
        behaviour = str(annotations.get(BEHAVIOUR, "healthy")).strip().lower()
        after = seconds(annotations.get(BEHAVIOUR_AFTER, 0))
    if behaviour not in BEHAVIOURS or behaviour == "healthy":
        return "healthy", 0.0
    since = now.timestamp() - start - after
    return (behaviour, since) if since >= 0 else ("healthy", 0.0)


def _condition(old: dict[str, Any], ctype: str, status: str, reason: str = "", message: str = "") -> dict[str, Any]:
    for cond in old.get("conditions") or ():
        if cond.get("type") == ctype and cond.get("status") == status and cond.get("reason", "") == reason:
            return dict(cond)
    cond = {"type": ctype, "status": status, "lastProbeTime": None,
            "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if reason:
        cond.update(reason=reason, message=message)
    return cond


def pod_status(pod: Obj, behaviour: str, since: float, now: datetime) -> dict[str, Any]:
    """The status a kubelet would report for ``pod`` behaving so (helm hook Pods: Succeeded)."""
    old = pod.get("status") or {}
    meta = pod["metadata"]
    hook = "helm.sh/hook" in (meta.get("annotations") or {})
    containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or ()]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if hook:
        ready, reason = "False", "PodCompleted"
    else:
        ready, reason = ("True", "") if behaviour == "healthy" else ("False", "ContainersNotReady")
    message = f"containers with unready status: [{' '.join(containers)}]" if reason == "ContainersNotReady" else ""
    statuses = []
    for name in containers:
        status: dict[str, Any] = {"name": name, "ready": ready == "True", "restartCount": 0,
                                  "started": not hook and behaviour != "crashloop", "image": "", "imageID": ""}
        if hook:
            status["state"] = {"terminated": {"exitCode": 0, "reason": "Completed"}}
        elif behaviour == "crashloop":
            restarts = 1 + int(since / RESTART_SECONDS)
            backoff = min(300, 10 * 2 ** min(restarts - 1, 5))
            status.update(restartCount=restarts, state={"waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {backoff}s restarting failed container={name} "
                           f"pod={meta['name']}_{meta.get('namespace', '')}({meta.get('uid', '')})"}},
                          lastState={"terminated": {"exitCode": 1, "reason": "Error"}})
        else:
            status["state"] = {"running": {"startedAt": old.get("startTime", stamp)}}
        statuses.append(status)
    return {
        "phase": "Succeeded" if hook else "Running",
        "conditions": [_condition(old, "Ready", ready, reason, message),
                       _condition(old, "ContainersReady", ready, reason, message),
                       _condition(old, "PodScheduled", "True")],
        "podIP": "10.244.0.10", "hostIP": "10.0.0.1", "startTime": old.get("startTime", stamp),
        "containerStatuses": statuses,
    }
