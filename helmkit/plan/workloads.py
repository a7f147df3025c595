"""Workload health, pure: is every Deployment, StatefulSet and DaemonSet of a release rolled out
and available, and does none of their containers restart or wait in CrashLoopBackOff?

The rules follow ``kubectl rollout status``: the controller observed the newest generation,
every replica runs the new template, and as many are available as wanted; a Deployment whose
Progressing condition says ``ProgressDeadlineExceeded`` has failed. Pods are those in the
workload's namespace matching its ``selector.matchLabels``; a container fails the check when it
waits for a reason that does not resolve by itself (CrashLoopBackOff, ImagePullBackOff, …) or
restarted since the gate's first check (``baseline``: restart counts by ``ns/pod/container``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from helmkit.plan.gatecheck import Observation
from helmkit.plan.manifests import ObjectKey, parse_manifest

WORKLOAD_KINDS = frozenset({("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet")})
BAD_WAITING = frozenset({"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                         "CreateContainerError", "InvalidImageName", "RunContainerError"})
MAX_FINDINGS = 10


def workloads_in(manifest: str, namespace: str) -> list[ObjectKey]:
    """The Deployments, StatefulSets and DaemonSets of a release manifest (hooks left out)."""
    parsed = parse_manifest(manifest, namespace, origin="release manifest")
    return sorted(key for key in parsed.objects if (key.group, key.kind) in WORKLOAD_KINDS)


@dataclass(frozen=True)
class Finding:
    """Why one workload or pod is not healthy."""

    release: str
    workload: str  # "Deployment ns/name"
    reason: str
    pod: str = ""
    container: str = ""
    fatal: bool = False  # a pod problem (crash, restart), not merely "not yet ready"

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"release": self.release, "workload": self.workload, "reason": self.reason}
        if self.pod:
            found.update(pod=self.pod, container=self.container)
        return found

    def line(self) -> str:
        where = f"pod {self.pod} container {self.container}: " if self.pod else ""
        return f"{self.workload} ({self.release}): {where}{self.reason}"


def rollout_problem(obj: Mapping[str, Any] | None) -> str | None:
    """Why a workload object is not rolled out and available, or None when it is."""
    if obj is None:
        return "not found"
    kind = obj.get("kind")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation", 0)
    if int(status.get("observedGeneration", 0)) < int(generation):
        return f"generation {generation} not yet observed by its controller"
    if kind == "DaemonSet":
        desired = int(status.get("desiredNumberScheduled", 0))
        updated, available = int(status.get("updatedNumberScheduled", 0)), int(status.get("numberAvailable", 0))
        if updated < desired:
            return f"{updated} of {desired} pods updated"
        if available < desired:
            return f"{available} of {desired} pods available"
        return None
    wanted = int(spec.get("replicas", 1))
    if kind == "Deployment":
        for condition in status.get("conditions") or ():
            if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
                return f"progress deadline exceeded: {condition.get('message', '')}".rstrip(": ")
    updated = int(status.get("updatedReplicas", 0))
    if updated < wanted:
        return f"{updated} of {wanted} replicas updated"
    if kind == "Deployment" and int(status.get("replicas", 0)) > updated:
        return f"{int(status.get('replicas', 0)) - updated} old replica(s) pending termination"
    if kind == "StatefulSet" and status.get("updateRevision") and \
            status.get("currentRevision") != status.get("updateRevision"):
        return f"revision {status.get('updateRevision')} not yet rolled out to every replica"
    ready_field = "availableReplicas" if kind == "Deployment" else "readyReplicas"
    ready = int(status.get(ready_field, 0))
    if ready < wanted:
        return f"{ready} of {wanted} replicas {'available' if kind == 'Deployment' else 'ready'}"
    return None


def selects(workload: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """Whether ``pod`` belongs to ``workload`` (same namespace, matching ``selector.matchLabels``)."""
    meta, pod_meta = workload.get("metadata") or {}, pod.get("metadata") or {}
    if meta.get("namespace") != pod_meta.get("namespace"):
        return False
    wanted = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    labels = pod_meta.get("labels") or {}
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def pod_findings(release: str, workload: str, pods: Sequence[Mapping[str, Any]],
                 baseline: Mapping[str, int]) -> list[Finding]:
    """Containers of ``pods`` that crash-loop, cannot start, or restarted since ``baseline``."""
    found: list[Finding] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        name = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        for container in statuses:
            cname = str(container.get("name", ""))
            waiting = (container.get("state") or {}).get("waiting") or {}
            restarts = int(container.get("restartCount", 0))
            before = baseline.get(f"{name}/{cname}")
            if waiting.get("reason") in BAD_WAITING:
                message = f": {waiting['message']}" if waiting.get("message") else ""
                found.append(Finding(release, workload, f"{waiting['reason']}{message} ({restarts} restarts)",
                                     name, cname, fatal=True))
            elif before is not None and restarts > before:
                last = ((container.get("lastState") or {}).get("terminated") or {})
                why = f", last exit {last.get('exitCode')} {last.get('reason', '')}".rstrip() if last else ""
                found.append(Finding(release, workload, f"restarted {restarts - before} time(s) during the gate{why}",
                                     name, cname, fatal=True))
    return found


def restart_counts(pods: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """``ns/pod/container`` -> restart count: the baseline of later checks."""
    counts: dict[str, int] = {}
    for pod in pods:
        meta = pod.get("metadata") or {}
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            key = f"{meta.get('namespace', '')}/{meta.get('name', '')}/{container.get('name', '')}"
            counts[key] = int(container.get("restartCount", 0))
    return counts


def workload_observation(workloads: Sequence[tuple[str, ObjectKey, Mapping[str, Any] | None]],
                         pods: Sequence[Mapping[str, Any]], baseline: Mapping[str, int]) -> Observation:
    """One check of ``workloads`` (release, key, live object or None) and the pods of their namespaces."""
    findings: list[Finding] = []
    for release, key, obj in workloads:
        shown = f"{key.kind} {key.namespace}/{key.name}"
        problem = rollout_problem(obj)
        if problem is not None:
            findings.append(Finding(release, shown, problem))
        if obj is not None:
            findings += pod_findings(release, shown, [p for p in pods if selects(obj, p)], baseline)
    findings.sort(key=lambda f: not f.fatal)
    evidence: dict[str, Any] = {"workloads": len(workloads), "findings": [f.to_json() for f in findings[:MAX_FINDINGS]]}
    if not findings:
        return Observation(True, f"{len(workloads)} workload(s) rolled out and available", evidence)
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    return Observation(False, findings[0].line() + more, evidence)
