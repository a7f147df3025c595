"""Workload health from objects in the API server's own format (as ``kubectl get -o json`` shows them)."""

from typing import Any

from helmkit.plan.manifests import ObjectKey
from helmkit.plan.workloads import restart_counts, rollout_problem, workload_observation, workloads_in

MANIFEST = """---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 2, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}}}
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
---
# Source: web/templates/db.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec: {replicas: 1}
---
# Source: web/templates/hook.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: migrate, annotations: {helm.sh/hook: pre-upgrade}}
"""


def deployment(wanted: int = 2, **status: Any) -> dict[str, Any]:
    replicas = wanted
    base = {"observedGeneration": 2, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas,
            "availableReplicas": replicas}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "generation": 2},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}}, "status": {**base, **status}}


def pod(name: str, *, restarts: int = 0, waiting: dict[str, str] | None = None, app: str = "web") -> dict[str, Any]:
    state: dict[str, Any] = {"waiting": waiting} if waiting else {"running": {"startedAt": "2026-12-01T15:00:00Z"}}
    container = {"name": "app", "ready": waiting is None, "restartCount": restarts, "state": state,
                 "image": "web:2", "imageID": "", "started": waiting is None}
    if restarts:
        container["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": app, "pod-template-hash": "abc"}},
            "status": {"phase": "Running", "containerStatuses": [container]}}


KEY = ObjectKey("apps", "Deployment", "shop", "web")


def test_the_workloads_of_a_manifest_leave_out_hooks_and_other_kinds() -> None:
    assert workloads_in(MANIFEST, "shop") == [ObjectKey("apps", "Deployment", "shop", "web"),
                                              ObjectKey("apps", "StatefulSet", "data", "db")]


def test_rollout_rules() -> None:
    assert rollout_problem(deployment()) is None
    assert rollout_problem(None) == "not found"
    assert rollout_problem(deployment(observedGeneration=1)) == "generation 2 not yet observed by its controller"
    assert rollout_problem(deployment(updatedReplicas=1)) == "1 of 2 replicas updated"
    assert rollout_problem(deployment(replicas=3)) == "1 old replica(s) pending termination"
    assert rollout_problem(deployment(availableReplicas=0)) == "0 of 2 replicas available"
    stuck = deployment(availableReplicas=0, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": 'ReplicaSet "web-abc" has timed out progressing.'}])
    assert rollout_problem(stuck) == 'progress deadline exceeded: ReplicaSet "web-abc" has timed out progressing.'
    statefulset = {"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 3},
                   "status": {"observedGeneration": 1, "updatedReplicas": 3, "readyReplicas": 2,
                              "currentRevision": "db-1", "updateRevision": "db-2"}}
    assert rollout_problem(statefulset) == "revision db-2 not yet rolled out to every replica"
    daemonset = {"kind": "DaemonSet", "metadata": {"generation": 1},
                 "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
                            "numberAvailable": 1}}
    assert rollout_problem(daemonset) == "1 of 3 pods available"


def test_crash_looping_and_restarting_containers_fail_the_check_naming_pod_and_reason() -> None:
    pods = [pod("web-abc-1"), pod("other-1", app="other",
                                  waiting={"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}),
            pod("web-abc-2", restarts=4, waiting={"reason": "CrashLoopBackOff",
                                                  "message": "back-off 40s restarting failed container=app"})]
    seen = workload_observation([("web", KEY, deployment())], pods, restart_counts(pods))
    assert not seen.ok
    assert seen.summary == ("Deployment shop/web (web): pod shop/web-abc-2 container app: CrashLoopBackOff: "
                            "back-off 40s restarting failed container=app (4 restarts)")
    assert seen.evidence["findings"] == [{
        "release": "web", "workload": "Deployment shop/web", "pod": "shop/web-abc-2", "container": "app",
        "reason": "CrashLoopBackOff: back-off 40s restarting failed container=app (4 restarts)"}]


def test_a_restart_during_the_gate_fails_the_check() -> None:
    before = [pod("web-abc-1", restarts=1)]
    baseline = restart_counts(before)
    assert workload_observation([("web", KEY, deployment())], before, baseline).ok  # restarted before the gate
    after = [pod("web-abc-1", restarts=3)]
    seen = workload_observation([("web", KEY, deployment())], after, baseline)
    assert seen.summary == ("Deployment shop/web (web): pod shop/web-abc-1 container app: restarted 2 time(s) "
                            "during the gate, last exit 1 Error")


def test_healthy_and_missing() -> None:
    pods = [pod("web-abc-1"), pod("web-abc-2")]
    assert workload_observation([("web", KEY, deployment())], pods, {}).summary == \
        "1 workload(s) rolled out and available"
    gone = workload_observation([("web", KEY, None), ("web", KEY, deployment(availableReplicas=1))], pods, {})
    assert gone.summary == "Deployment shop/web (web): not found (and 1 more)"
