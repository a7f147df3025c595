"""Gates against real local servers (a scripted service, a Prometheus-speaking server), real
processes, and the sandbox API server for workloads."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helmkit.actions.gaterun import ChangedRelease, GateRunner, GateTarget
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.runner import Runner
from helmkit.errors import Location
from helmkit.model.gates import GateSpec
from helmkit.model.instance import Cluster
from helmkit.plan.gatereport import GateEvent
from helmkit.sandbox import Sandbox
from tests.support.gateservers import Prometheus, Script, health_server, prometheus_server

C1 = Cluster("c1", "prod", "c1", region="r1", wave=0)
C2 = Cluster("c2", "prod", "c2", region="r2", wave=0)
FAST = {"interval": 0.01, "timeout": 30.0, "request_timeout": 5.0}


def gate(kind: str, config: dict[str, Any], **fields: Any) -> GateSpec:
    return GateSpec(name=fields.pop("name", kind), kind=kind, config=config, location=Location("prod.yaml", 3),
                    **{**FAST, **fields})


def run(gates: list[GateSpec], targets: list[GateTarget], runner: Runner | None = None,
        kubeconfig: Path | None = None, stop: threading.Event | None = None) -> tuple[list, list[GateEvent]]:
    events: list[GateEvent] = []
    outcomes = GateRunner(runner or Runner(), kubeconfig).run_wave_gates(
        gates, targets, stop=stop or threading.Event(), on_event=events.append)
    return outcomes, events


def test_an_http_gate_passes_after_consecutive_successes_with_the_cluster_in_the_url() -> None:
    script = Script([(500, "warming up"), (200, "ok"), (200, "ok"), (200, "ok")])
    with health_server(script) as url:
        [outcome], events = run([gate("http", {"url": url + "/${cluster.name}/healthz", "body": "^ok$"},
                                      success_threshold=3)], [GateTarget(C1, [])])
    assert (outcome.verdict, outcome.reason) == ("passed", "3 consecutive check(s) passed")
    assert script.requests == ["/c1/healthz"] * 4
    assert [o.ok for o in outcome.observations] == [False, True, True, True]
    assert [e.kind for e in events] == ["start", "check", "check", "check", "check", "end"]


def test_an_http_gate_returning_500_fails_with_the_status_as_evidence() -> None:
    with health_server(Script([(500, "upstream connect error")])) as url:
        [outcome], _ = run([gate("http", {"url": url + "/healthz"}, failure_threshold=2)], [GateTarget(C1, [])])
    assert outcome.verdict == "failed"
    assert outcome.reason == f"2 consecutive check(s) failed: GET {url}/healthz: HTTP 500, expected 200"
    evidence = outcome.to_json()["observations"][-1]["evidence"]
    assert evidence == {"url": f"{url}/healthz", "status": 500, "body": "upstream connect error"}


def test_an_unreachable_url_is_a_failed_check() -> None:
    with health_server(Script()) as url:
        pass  # closed again: nothing listens there now
    [outcome], _ = run([gate("http", {"url": url}, failure_threshold=1)], [GateTarget(C1, [])])
    assert outcome.verdict == "failed" and "request failed" in outcome.reason


def test_a_prometheus_gate_reads_the_real_query_api_format() -> None:
    query = 'sum(rate(errors{cluster="${cluster.name}"}[5m]))'
    prometheus = Prometheus({'sum(rate(errors{cluster="c1"}[5m]))': [0.001, 0.0],
                             'sum(rate(errors{cluster="c2"}[5m]))': [0.2]})
    with prometheus_server(prometheus) as url:
        outcomes, _ = run([gate("prometheus", {"url": url, "query": query, "condition": "< 0.01"},
                                success_threshold=2, failure_threshold=2)],
                          [GateTarget(C1, []), GateTarget(C2, [])])
    by_cluster = {o.cluster: o for o in outcomes}
    assert by_cluster["c2"].verdict == "failed"
    assert by_cluster["c2"].reason.endswith('errors{cluster="c2"}[5m])){__name__="x"} = 0.2, not < 0.01')
    assert by_cluster["c2"].observations[-1].evidence["result"] == [{"metric": {"__name__": "x"}, "value": "0.2"}]
    # c1 was healthy but its gate was cut short once c2 failed, or it passed first: never "failed"
    assert by_cluster["c1"].verdict in ("passed", "cancelled")


def test_bad_promql_fails_with_prometheus_error() -> None:
    with prometheus_server(Prometheus()) as url:
        [outcome], _ = run([gate("prometheus", {"url": url, "query": "(((", "condition": "< 1"},
                                 failure_threshold=1)], [GateTarget(C1, [])])
    assert outcome.reason == ('1 consecutive check(s) failed: query failed: bad_data: 1:4: parse error: '
                              'unexpected "(" in paren expression')


def test_no_data_fails_unless_told_otherwise() -> None:
    with prometheus_server(Prometheus()) as url:
        [strict], _ = run([gate("prometheus", {"url": url, "query": "up", "condition": "> 0"}, failure_threshold=1)],
                          [GateTarget(C1, [])])
        [lenient], _ = run([gate("prometheus", {"url": url, "query": "up", "condition": "> 0", "noData": "pass"},
                                 success_threshold=1)], [GateTarget(C1, [])])
    assert (strict.verdict, strict.reason) == ("failed", "1 consecutive check(s) failed: up: no data")
    assert (lenient.verdict, lenient.observations[0].summary) == ("passed", "up: no data (passes)")


def test_a_command_gate_runs_argv_without_a_shell() -> None:
    code = "import sys; print('checked', sys.argv[1]); sys.exit(0 if sys.argv[1] == 'c1' else 4)"
    [shell], _ = run([gate("command", {"argv": [sys.executable, "-c", code, "${cluster.name}; exit 0"]},
                           success_threshold=1, failure_threshold=1)], [GateTarget(C1, [])])
    assert shell.verdict == "failed"  # "; exit 0" reached the program as text: no shell ran it
    assert shell.observations[0].evidence["output"] == "checked c1; exit 0\n"
    [plain], _ = run([gate("command", {"argv": [sys.executable, "-c", code, "${cluster.name}"]},
                           success_threshold=1, failure_threshold=1)], [GateTarget(C1, [])])
    assert plain.verdict == "passed"
    show = "import os; print(*(os.environ[k] for k in ('HELMKIT_ENV', 'HELMKIT_CLUSTER', 'HELMKIT_KUBE_CONTEXT', " \
           "'HELMKIT_RELEASES', 'KUBECONFIG')))"
    [environ], _ = run([gate("command", {"argv": [sys.executable, "-c", show]}, success_threshold=1)],
                       [GateTarget(C1, [ChangedRelease("web", "shop", ""), ChangedRelease("api", "shop", "")])],
                       kubeconfig=Path("/k/config"))
    assert environ.observations[0].evidence["output"] == "prod c1 c1 web,api /k/config\n"


def test_the_first_failed_gate_ends_the_gates_of_its_cluster() -> None:
    outcomes, _ = run([gate("command", {"argv": [sys.executable, "-c", "raise SystemExit(2)"]}, failure_threshold=1),
                       gate("soak", {"duration": "1h"}, soak=3600.0)], [GateTarget(C1, [])])
    assert [o.gate.kind for o in outcomes] == ["command"]
    assert outcomes[0].reason == "1 consecutive check(s) failed: " + sys.executable + " exited 2"


def test_a_stop_during_a_soak_ends_it_undecided() -> None:
    stop = threading.Event()
    events: list[GateEvent] = []

    def on_event(event: GateEvent) -> None:
        events.append(event)
        if event.kind == "start":
            stop.set()

    [outcome] = GateRunner(Runner()).run_wave_gates([gate("soak", {"duration": "1h"}, soak=3600.0)],
                                                    [GateTarget(C1, [])], stop=stop, on_event=on_event)
    assert (outcome.verdict, outcome.reason) == ("interrupted", "stopped by a signal")


def test_a_gate_for_other_releases_is_skipped() -> None:
    [outcome], _ = run([gate("soak", {"duration": "1h"}, soak=3600.0, releases=("payments",))],
                       [GateTarget(C1, [ChangedRelease("web", "shop", "")])])
    assert (outcome.verdict, outcome.reason) == ("skipped", "none of payments changed here")


# -- workload, against the sandbox -------------------------------------------------------------------

WEB = """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: 2, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}}}
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    with Sandbox(["c1"], admin=False) as box:
        yield box, box.write_kubeconfig(tmp_path / "kubeconfig")


def create_web(kubeconfig: Path) -> None:
    with KubeClient(load_cluster_config("c1", Runner(), kubeconfig=kubeconfig)) as client:
        client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        client.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"containers": [{"name": "app", "image": "web:2"}]}}}})
        for index in range(2):
            client.create({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": f"web-{index}", "namespace": "shop", "labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "app", "image": "web:2"}]}})


def test_a_workload_gate_passes_when_the_deployment_is_available(sandbox: tuple[Sandbox, Path]) -> None:
    box, kubeconfig = sandbox
    create_web(kubeconfig)
    since = box.requests("c1")[-1].seq
    [outcome], _ = run([gate("workload", {}, success_threshold=3)],
                       [GateTarget(C1, [ChangedRelease("web", "shop", WEB)])], kubeconfig=kubeconfig)
    assert (outcome.verdict, outcome.observations[-1].summary) == ("passed", "1 workload(s) rolled out and available")
    reads = [r.path for r in box.requests("c1", since)]
    # three checks: discovery once, then one list of the namespace's Deployments and one of its pods each
    assert sorted(set(reads)) == ["/api/v1", "/api/v1/namespaces/shop/pods", "/apis/apps/v1",
                                  "/apis/apps/v1/namespaces/shop/deployments"]
    assert [reads.count(p) for p in ("/api/v1", "/apis/apps/v1", "/api/v1/namespaces/shop/pods",
                                     "/apis/apps/v1/namespaces/shop/deployments")] == [1, 1, 3, 3]


def test_a_workload_gate_fails_when_a_deployment_is_missing(sandbox: tuple[Sandbox, Path]) -> None:
    _, kubeconfig = sandbox
    [outcome], _ = run([gate("workload", {}, failure_threshold=2)],
                       [GateTarget(C1, [ChangedRelease("web", "shop", WEB)])], kubeconfig=kubeconfig)
    assert outcome.reason == "2 consecutive check(s) failed: Deployment shop/web (web): not found"


def test_an_unreachable_cluster_fails_the_workload_check(sandbox: tuple[Sandbox, Path]) -> None:
    box, kubeconfig = sandbox
    create_web(kubeconfig)
    box.faults("c1").set_unreachable()
    [outcome], _ = run([gate("workload", {}, failure_threshold=1, request_timeout=2.0)],
                       [GateTarget(C1, [ChangedRelease("web", "shop", WEB)])], kubeconfig=kubeconfig)
    assert outcome.verdict == "failed" and "cannot read the workloads" in outcome.reason


def test_a_failed_gate_on_one_cluster_cancels_the_gates_still_running_on_the_others(tmp_path: Path) -> None:
    # c1's check passes and leaves a mark; c2's waits for that mark, then fails (no race between them)
    mark = tmp_path / "c1-checked"
    code = ("import pathlib, sys, time; mark = pathlib.Path(sys.argv[2])\n"
            "if sys.argv[1] == 'c1': mark.touch(); sys.exit(0)\n"
            "deadline = time.time() + 30\n"
            "while not mark.exists() and time.time() < deadline: time.sleep(0.01)\n"
            "sys.exit(1)")
    outcomes, _ = run([gate("command", {"argv": [sys.executable, "-c", code, "${cluster.name}", str(mark)]},
                            success_threshold=1, failure_threshold=1),
                       gate("soak", {"duration": "1h"}, soak=3600.0)], [GateTarget(C1, []), GateTarget(C2, [])])
    assert [(o.cluster, o.gate.kind, o.verdict) for o in outcomes] == [
        ("c1", "command", "passed"), ("c1", "soak", "cancelled"), ("c2", "command", "failed")]
    assert outcomes[1].reason == "another cluster of the wave failed a gate"
