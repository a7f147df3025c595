"""Gate decisions, pure: one check's answer becomes an :class:`Observation`, and a sequence of
observations becomes a :class:`Judgement` (nothing here does I/O; :mod:`helmkit.actions.gaterun`
asks the outside world and feeds the answers in).

Thresholds (helmwave's monitors): the gate passes after ``success_threshold`` consecutive passed
checks, fails after ``failure_threshold`` consecutive failed checks, and fails when ``timeout``
ran out first. A soak gate passes when its time is up.

Observations keep their evidence as plain JSON data: the HTTP status and the start of the body,
the Prometheus result (each sample's labels and value), the command's exit code and last lines,
the workload and pod with its reason. Callers mask secrets before showing it.
"""

from __future__ import annotations

import enum
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BODY_EVIDENCE = 512  # characters of an HTTP body or command output kept as evidence
MAX_SAMPLES = 10  # Prometheus samples kept as evidence
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}
_CONDITION = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")


class Verdict(enum.Enum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class Observation:
    """One check: passed or not, one line for a person, and the evidence."""

    ok: bool
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    at: float = 0.0  # seconds since the gate started


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str = ""


def judge(observations: Sequence[Observation], *, success_threshold: int, failure_threshold: int,
          elapsed: float, timeout: float) -> Judgement:
    """The verdict of a gate after ``observations`` (oldest first) at ``elapsed`` seconds."""
    streak_ok = _streak(observations, ok=True)
    streak_failed = _streak(observations, ok=False)
    if streak_ok >= success_threshold:
        return Judgement(Verdict.PASSED, f"{streak_ok} consecutive check(s) passed")
    if streak_failed >= failure_threshold:
        return Judgement(Verdict.FAILED, f"{streak_failed} consecutive check(s) failed: {observations[-1].summary}")
    if elapsed >= timeout:
        last = f"; last check: {observations[-1].summary}" if observations else "; no check finished"
        return Judgement(Verdict.FAILED, f"not passed within {_seconds(timeout)}{last}")
    return Judgement(Verdict.PENDING)


def judge_soak(*, elapsed: float, duration: float) -> Judgement:
    if elapsed >= duration:
        return Judgement(Verdict.PASSED, f"soaked {_seconds(duration)}")
    return Judgement(Verdict.PENDING)


def _streak(observations: Sequence[Observation], *, ok: bool) -> int:
    count = 0
    for observation in reversed(observations):
        if observation.ok is not ok:
            break
        count += 1
    return count


def _seconds(value: float) -> str:
    return f"{value:g}s"


# -- http ----------------------------------------------------------------------------------------


def http_observation(url: str, status: int | None, body: str, *, expected: int | Sequence[int] = 200,
                     body_pattern: str | None = None, error: str | None = None) -> Observation:
    """The check of an HTTP answer (``status`` None with ``error``: no answer)."""
    evidence: dict[str, Any] = {"url": url, "status": status}
    if error is not None or status is None:
        evidence["error"] = error or "no answer"
        return Observation(False, f"GET {url}: {error or 'no answer'}", evidence)
    evidence["body"] = body[:BODY_EVIDENCE]
    wanted = [expected] if isinstance(expected, int) else list(expected)
    if status not in wanted:
        return Observation(False, f"GET {url}: HTTP {status}, expected {' or '.join(map(str, wanted))}", evidence)
    if body_pattern and not re.search(body_pattern, body):
        return Observation(False, f"GET {url}: HTTP {status} but the body does not match /{body_pattern}/", evidence)
    return Observation(True, f"GET {url}: HTTP {status}", evidence)


# -- command -------------------------------------------------------------------------------------


def command_observation(argv: Sequence[str], returncode: int | None, output: str, *,
                        error: str | None = None) -> Observation:
    evidence: dict[str, Any] = {"argv": list(argv), "exitCode": returncode, "output": output[-BODY_EVIDENCE:]}
    program = argv[0] if argv else "command"
    if error is not None or returncode is None:
        evidence["error"] = error or "did not finish"
        return Observation(False, f"{program}: {error or 'did not finish'}", evidence)
    last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "")
    tail = f": {last}" if last else ""
    if returncode != 0:
        return Observation(False, f"{program} exited {returncode}{tail}", evidence)
    return Observation(True, f"{program} exited 0", evidence)


# -- prometheus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    op: str
    threshold: float

    def holds(self, value: float) -> bool:
        return not math.isnan(value) and _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


def parse_condition(text: str) -> Condition:
    """``"< 0.01"`` -> Condition("<", 0.01); ValueError for anything else."""
    match = _CONDITION.match(text)
    if not match:
        raise ValueError(f"condition {text!r} is not a comparison and a number, e.g. \"< 0.01\"")
    return Condition(match.group(1), float(match.group(2)))


def prometheus_observation(query: str, response: Any, condition: Condition, *, no_data_passes: bool = False,
                           error: str | None = None) -> Observation:
    """The check of a ``/api/v1/query`` answer: every sample must satisfy ``condition``.

    ``response`` is the decoded JSON body (``{"status": "success", "data": {"resultType": …,
    "result": …}}``); a vector gives one value per series, a scalar one value, a matrix every
    value of every series. An empty result fails unless ``no_data_passes``.
    """
    evidence: dict[str, Any] = {"query": query, "condition": str(condition)}
    if error is not None:
        evidence["error"] = error
        return Observation(False, f"query failed: {error}", evidence)
    if isinstance(response, Mapping) and response.get("status") == "error":
        evidence["error"] = f"{response.get('errorType', 'error')}: {response.get('error', '')}"
        return Observation(False, f"query failed: {evidence['error']}", evidence)
    try:
        samples = _samples(response)
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        evidence["error"] = f"unexpected answer: {exc}"
        return Observation(False, f"query failed: not a Prometheus answer ({exc})", evidence)
    evidence["result"] = [{"metric": metric, "value": _shown(value)} for metric, value in samples[:MAX_SAMPLES]]
    evidence["samples"] = len(samples)
    if not samples:
        return Observation(no_data_passes, f"{query}: no data" + (" (passes)" if no_data_passes else ""), evidence)
    bad = [(metric, value) for metric, value in samples if not condition.holds(value)]
    if bad:
        metric, value = bad[0]
        which = _series(metric)
        more = f" (and {len(bad) - 1} more series)" if len(bad) > 1 else ""
        return Observation(False, f"{query}{which} = {_shown(value)}, not {condition}{more}", evidence)
    values = ", ".join(_shown(value) for _, value in samples[:3])
    return Observation(True, f"{query} = {values} ({condition})", evidence)


def _samples(response: Any) -> list[tuple[dict[str, str], float]]:
    if not isinstance(response, Mapping):
        raise ValueError("the answer is not a JSON object")
    if response.get("status") != "success":
        raise ValueError(f"{response.get('errorType', 'error')}: {response.get('error', 'status is not success')}")
    data = response["data"]
    kind, result = data["resultType"], data["result"]
    if kind == "scalar":
        return [({}, float(result[1]))]
    if kind == "vector":
        return [(dict(item.get("metric") or {}), float(item["value"][1])) for item in result]
    if kind == "matrix":
        return [(dict(item.get("metric") or {}), float(pair[1])) for item in result for pair in item["values"]]
    raise ValueError(f"result type {kind!r} has no numbers")


def _series(metric: Mapping[str, str]) -> str:
    if not metric:
        return ""
    return "{" + ", ".join(f'{key}="{value}"' for key, value in sorted(metric.items())) + "}"


def _shown(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:g}"
