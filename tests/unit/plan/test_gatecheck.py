import math

import pytest

from helmkit.plan.gatecheck import (
    Condition,
    Observation,
    Verdict,
    command_observation,
    http_observation,
    judge,
    judge_soak,
    parse_condition,
    prometheus_observation,
)

OK, BAD = Observation(True, "ok"), Observation(False, "HTTP 500")


def verdict(observations: list[Observation], elapsed: float = 1.0, timeout: float = 60.0) -> Verdict:
    return judge(observations, success_threshold=3, failure_threshold=2, elapsed=elapsed, timeout=timeout).verdict


def test_thresholds_count_consecutive_checks() -> None:
    assert verdict([]) is Verdict.PENDING
    assert verdict([OK, OK]) is Verdict.PENDING
    assert verdict([OK, OK, OK]) is Verdict.PASSED
    assert verdict([OK, OK, BAD, OK, OK]) is Verdict.PENDING  # a failure resets the success streak
    assert verdict([BAD, OK, BAD]) is Verdict.PENDING
    assert verdict([OK, BAD, BAD]) is Verdict.FAILED
    failed = judge([BAD, BAD], success_threshold=1, failure_threshold=2, elapsed=0, timeout=9)
    assert failed.reason == "2 consecutive check(s) failed: HTTP 500"


def test_the_timeout_fails_a_gate_that_has_not_passed() -> None:
    timed_out = judge([BAD, OK], success_threshold=3, failure_threshold=3, elapsed=60.0, timeout=60.0)
    assert timed_out.verdict is Verdict.FAILED
    assert timed_out.reason == "not passed within 60s; last check: ok"
    assert judge([], success_threshold=1, failure_threshold=1, elapsed=5, timeout=5).reason == \
        "not passed within 5s; no check finished"
    assert verdict([OK, OK, OK], elapsed=99) is Verdict.PASSED  # enough successes win over the clock


def test_soak() -> None:
    assert judge_soak(elapsed=1, duration=2).verdict is Verdict.PENDING
    assert judge_soak(elapsed=2, duration=2).reason == "soaked 2s"


def test_http_checks_status_and_body() -> None:
    assert http_observation("http://x/h", 200, "ok").ok
    bad = http_observation("http://x/h", 500, "boom", expected=[200, 204])
    assert (bad.ok, bad.summary) == (False, "GET http://x/h: HTTP 500, expected 200 or 204")
    assert bad.evidence == {"url": "http://x/h", "status": 500, "body": "boom"}
    body = http_observation("http://x/h", 200, '{"status":"degraded"}', body_pattern='"status":"ok"')
    assert body.summary == "GET http://x/h: HTTP 200 but the body does not match /\"status\":\"ok\"/"
    down = http_observation("http://x/h", None, "", error="request failed: [Errno 111] Connection refused")
    assert not down.ok and down.evidence["error"].endswith("Connection refused")


def test_command_exit_code() -> None:
    assert command_observation(["./smoke"], 0, "all good\n").ok
    failed = command_observation(["./smoke", "prod"], 3, "checking\n5 requests failed\n\n")
    assert failed.summary == "./smoke exited 3: 5 requests failed"
    assert failed.evidence["exitCode"] == 3 and failed.evidence["argv"] == ["./smoke", "prod"]
    timed_out = command_observation(["./smoke"], None, "", error="timed out after 10s")
    assert timed_out.summary == "./smoke: timed out after 10s"


def vector(*samples: tuple[dict[str, str], str]) -> dict:
    result = [{"metric": labels, "value": [1764600000.5, value]} for labels, value in samples]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_conditions() -> None:
    assert parse_condition(" < 0.01") == Condition("<", 0.01)
    assert parse_condition(">=0.99").holds(0.99)
    assert not parse_condition("< 1").holds(math.nan)
    with pytest.raises(ValueError, match="not a comparison"):
        parse_condition("below 1")


def test_every_sample_of_a_vector_must_hold() -> None:
    condition = parse_condition("< 0.01")
    good = prometheus_observation("errors", vector(({"pod": "a"}, "0.001"), ({"pod": "b"}, "0")), condition)
    assert good.ok and good.summary == "errors = 0.001, 0 (< 0.01)"
    bad = prometheus_observation("errors", vector(({"pod": "a"}, "0.001"), ({"pod": "b"}, "0.2")), condition)
    assert (bad.ok, bad.summary) == (False, 'errors{pod="b"} = 0.2, not < 0.01')
    assert bad.evidence["result"] == [{"metric": {"pod": "a"}, "value": "0.001"},
                                      {"metric": {"pod": "b"}, "value": "0.2"}]
    nan = prometheus_observation("errors", vector(({}, "NaN")), condition)
    assert nan.summary == "errors = NaN, not < 0.01"


def test_scalar_matrix_empty_and_errors() -> None:
    condition = parse_condition("> 0.5")
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1764600000, "0.9"]}}
    assert prometheus_observation("s", scalar, condition).ok
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {}, "values": [[1, "0.9"], [2, "0.1"]]}]}}
    assert not prometheus_observation("m", matrix, condition).ok
    empty = vector()
    assert prometheus_observation("e", empty, condition).summary == "e: no data"
    assert not prometheus_observation("e", empty, condition).ok
    assert prometheus_observation("e", empty, condition, no_data_passes=True).ok
    error = {"status": "error", "errorType": "bad_data", "error": "parse error"}
    assert prometheus_observation("(", error, condition).summary == "query failed: bad_data: parse error"
    assert prometheus_observation("x", None, condition, error="HTTP 503").summary == "query failed: HTTP 503"
    assert prometheus_observation("x", {"data": 1}, condition).summary.startswith("query failed: not a Prometheus")
