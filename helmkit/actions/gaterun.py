"""Running rollout gates: the I/O around :mod:`helmkit.plan.gatecheck`'s pure decisions.

:func:`run_wave_gates` runs the gates of one wave on each of its clusters: clusters in parallel,
the gates of one cluster one after the other in the order written (so ``soak`` then ``http``
checks the service after the soak). The first gate that fails on a cluster ends that cluster's
gates, and cancels the gates still running on the other clusters of the wave (their outcome is
``cancelled``): the wave has failed already.

Each check is one probe (:class:`Probe`): an HTTP GET or Prometheus query
(:mod:`helmkit.adapters.probes`), a command through the runner (argv, no shell, its own time
limit, run in the repository root with ``HELMKIT_ENV``, ``HELMKIT_CLUSTER``,
``HELMKIT_KUBE_CONTEXT``, ``HELMKIT_RELEASES`` and, when given, ``KUBECONFIG`` set), or a read
of the workloads and pods of the releases the wave changed on that cluster
(:class:`~helmkit.adapters.kube.KubeClient`). Between checks a gate waits ``interval``; a stop
(SIGINT/SIGTERM) ends every gate at once with the verdict ``interrupted``: nothing is decided.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.probes import http_get, prometheus_query
from helmkit.adapters.runner import Runner
from helmkit.adapters.waiting import map_in
from helmkit.errors import HelmkitError
from helmkit.model.gates import GateSpec, for_cluster
from helmkit.model.instance import Cluster
from helmkit.plan.gatecheck import (
    Judgement,
    Observation,
    Verdict,
    command_observation,
    http_observation,
    judge,
    judge_soak,
    parse_condition,
    prometheus_observation,
)
from helmkit.plan.gatereport import CANCELLED, INTERRUPTED, GateEvent, GateOutcome
from helmkit.plan.manifests import ObjectKey
from helmkit.plan.workloads import restart_counts, workload_observation, workloads_in

KEEP_OBSERVATIONS = 20
POLL = 0.2  # seconds: how often a waiting gate looks at the stop and cancel events


@dataclass(frozen=True)
class ChangedRelease:
    """A release the wave changed on a cluster, with the manifest it now has."""

    name: str
    namespace: str
    manifest: str


@dataclass(frozen=True)
class GateTarget:
    """One cluster of a wave and what the wave changed there."""

    cluster: Cluster
    releases: Sequence[ChangedRelease]


Probe = Callable[[], Observation]
OnGateEvent = Callable[[GateEvent], None]


@dataclass
class GateRunner:
    """What running gates needs from the outside: the process runner and the kubeconfig."""

    runner: Runner
    kubeconfig: Path | None = None
    cwd: Path | None = None  # where command gates run (the repository root)
    clock: Callable[[], float] = time.monotonic
    _events_lock: threading.Lock = field(default_factory=threading.Lock)

    def run_wave_gates(self, gates: Sequence[GateSpec], targets: Sequence[GateTarget], *, stop: threading.Event,
                       on_event: OnGateEvent) -> list[GateOutcome]:
        """Every gate on every target; outcomes in target order, then gate order."""
        cancel = threading.Event()

        def emit(event: GateEvent) -> None:
            with self._events_lock:
                on_event(event)

        def one(target: GateTarget) -> list[GateOutcome]:
            outcomes: list[GateOutcome] = []
            for gate in gates:
                spec = for_cluster(gate, target.cluster)
                if outcomes and not outcomes[-1].passed:
                    continue
                outcome = self.run_gate(spec, target, stop=stop, cancel=cancel, emit=emit)
                outcomes.append(outcome)
                if outcome.verdict == "failed":
                    cancel.set()
            return outcomes

        if not targets or not gates:
            return []
        with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="helmkit-gate") as pool:
            return [outcome for found in map_in(pool, one, targets) for outcome in found]

    def run_gate(self, gate: GateSpec, target: GateTarget, *, stop: threading.Event, cancel: threading.Event,
                 emit: OnGateEvent) -> GateOutcome:
        cluster = target.cluster.name
        names = {r.name for r in target.releases}
        if gate.releases and not names & set(gate.releases):
            outcome = GateOutcome(cluster, gate, "skipped", f"none of {', '.join(gate.releases)} changed here")
            emit(GateEvent("end", cluster, gate, outcome=outcome))
            return outcome
        emit(GateEvent("start", cluster, gate))
        started = self.clock()
        observations: list[Observation] = []
        probe = None if gate.kind == "soak" else self.probe(gate, target)
        while True:
            elapsed = self.clock() - started
            if stop.is_set() or cancel.is_set():
                verdict = INTERRUPTED if stop.is_set() else CANCELLED
                why = "stopped by a signal" if stop.is_set() else "another cluster of the wave failed a gate"
                judgement = Judgement(Verdict.PENDING, why)
                break
            if probe is None:
                judgement = judge_soak(elapsed=elapsed, duration=gate.soak)
            else:
                observation = probe()
                observation = Observation(observation.ok, observation.summary, observation.evidence,
                                          self.clock() - started)
                observations.append(observation)
                emit(GateEvent("check", cluster, gate, observation=observation))
                judgement = judge(observations, success_threshold=gate.success_threshold,
                                  failure_threshold=gate.failure_threshold, elapsed=self.clock() - started,
                                  timeout=gate.timeout)
            if judgement.verdict is not Verdict.PENDING:
                verdict = judgement.verdict.value
                break
            wait = gate.soak - elapsed if probe is None else gate.interval
            if gate.kind != "soak":
                wait = min(wait, max(0.0, gate.timeout - (self.clock() - started)))
            self._sleep(wait, stop, cancel)
        if isinstance(probe, WorkloadProbe):
            probe.close()
        outcome = GateOutcome(cluster, gate, verdict, judgement.reason, tuple(observations[-KEEP_OBSERVATIONS:]),
                              self.clock() - started)
        emit(GateEvent("end", cluster, gate, outcome=outcome))
        return outcome

    def probe(self, gate: GateSpec, target: GateTarget) -> Probe:
        """The check of ``gate`` (already interpolated) on ``target``."""
        config, limit = gate.config, gate.request_timeout
        if gate.kind == "http":
            expected = config.get("status", 200)

            def http() -> Observation:
                answer = http_get(config["url"], timeout=limit)
                return http_observation(config["url"], answer.status, answer.body, expected=expected,
                                        body_pattern=config.get("body"), error=answer.error)
            return http
        if gate.kind == "prometheus":
            condition = parse_condition(config["condition"])

            def prometheus() -> Observation:
                document, error = prometheus_query(config["url"], config["query"], timeout=limit)
                return prometheus_observation(config["query"], document, condition,
                                              no_data_passes=config.get("noData") == "pass", error=error)
            return prometheus
        if gate.kind == "command":
            cluster = target.cluster
            env = {"HELMKIT_ENV": cluster.env, "HELMKIT_CLUSTER": cluster.name, "HELMKIT_KUBE_CONTEXT": cluster.context,
                   "HELMKIT_RELEASES": ",".join(r.name for r in target.releases)}
            if self.kubeconfig is not None:
                env["KUBECONFIG"] = str(self.kubeconfig)
            return self._command_probe(list(config["argv"]), limit, env)
        return WorkloadProbe(target, self.runner, self.kubeconfig, limit)

    def _command_probe(self, argv: list[str], limit: float, env: dict[str, str]) -> Probe:
        def command() -> Observation:
            try:
                result = self.runner.run(argv, env=env, cwd=self.cwd, check=False, timeout=limit,
                                         what=f"gate command {argv[0]}")
            except HelmkitError as exc:
                return command_observation(argv, None, "", error=exc.message)
            return command_observation(argv, result.returncode, result.stdout + result.stderr)
        return command

    def _sleep(self, seconds: float, stop: threading.Event, cancel: threading.Event) -> None:
        deadline = self.clock() + max(0.0, seconds)
        while not stop.is_set() and not cancel.is_set():
            left = deadline - self.clock()
            if left <= 0:
                return
            stop.wait(min(left, POLL))


@dataclass
class WorkloadProbe:
    """Reads the workloads of the changed releases and the pods of their namespaces (one cluster):
    per check, one list per workload kind and namespace, and one pod list per namespace."""

    target: GateTarget
    runner: Runner
    kubeconfig: Path | None
    timeout: float
    baseline: dict[str, int] | None = None
    _client: KubeClient | None = None  # kept from check to check (discovery is read once)

    def __call__(self) -> Observation:
        wanted: list[tuple[str, ObjectKey]] = []
        for release in self.target.releases:
            wanted += [(release.name, key) for key in workloads_in(release.manifest, release.namespace)]
        try:
            if self._client is None:
                config = load_cluster_config(self.target.cluster.context, self.runner, kubeconfig=self.kubeconfig)
                self._client = KubeClient(config, timeout=self.timeout, retries=1)
            client = self._client
            found: dict[ObjectKey, dict[str, Any]] = {}
            for group, kind, namespace in sorted({(key.group, key.kind, key.namespace) for _, key in wanted}):
                for obj in client.list(f"{group}/v1", kind, namespace=namespace):
                    found[ObjectKey(group, kind, namespace, obj["metadata"]["name"])] = obj
            live = [(release, key, found.get(key)) for release, key in wanted]
            pods = [pod for namespace in sorted({key.namespace for _, key in wanted})
                    for pod in client.list("v1", "Pod", namespace=namespace)]
        except HelmkitError as exc:
            self.close()  # the next check starts over with a new connection
            return Observation(False, f"cannot read the workloads: {exc.message}", {"error": exc.message})
        if self.baseline is None:
            self.baseline = restart_counts(pods)
        return workload_observation(live, pods, self.baseline)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
