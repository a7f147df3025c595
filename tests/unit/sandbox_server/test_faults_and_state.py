"""Fault injection (Python API and admin endpoint), the request log, persistence, kubeconfig."""

from __future__ import annotations

import http.client
import json
import stat
import time
from pathlib import Path

import pytest

from helmkit.sandbox import AdminClient, Sandbox
from helmkit.sandbox.certificates import Identity
from helmkit.sandbox.faults import Faults
from helmkit.sandbox.persistence import load, save
from tests.unit.sandbox_server.conftest import Api, configmap

CMS = "/api/v1/namespaces/default/configmaps"


def test_fail_counts_down_and_matches_method_and_path() -> None:
    faults = Faults()
    faults.fail("GET", r"/secrets", status=503, count=2)
    assert faults.decide("POST", "/api/v1/namespaces/a/secrets").status is None
    assert faults.decide("GET", "/api/v1/namespaces/a/configmaps").status is None
    assert [faults.decide("GET", "/api/v1/secrets").status for _ in range(3)] == [503, 503, None]
    faults.drop(count=1)
    assert faults.decide("GET", "/x").drop
    assert not faults.decide("GET", "/x").drop
    faults.latency(0.5, path="/slow")
    assert faults.decide("GET", "/slow").delay == 0.5
    faults.clear()
    assert faults.rules() == []


def test_injected_faults_and_request_log(api: Api, sandbox: Sandbox) -> None:
    sandbox.faults("one").fail("POST", r"/configmaps$", status=500, count=1)
    failed = api.post(CMS, configmap("a"))
    assert failed.status == 500
    assert failed.json()["kind"] == "Status"
    assert api.post(CMS, configmap("a")).status == 201
    sandbox.faults("one").latency(0.3, "GET", count=1)
    started = time.monotonic()
    api.get(CMS)
    assert time.monotonic() - started >= 0.3
    sandbox.faults("one").drop("GET", count=1)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        api.get(CMS)
    log = sandbox.requests("one")
    assert [(r.method, r.status) for r in log] == [("POST", 500), ("POST", 201), ("GET", 200), ("GET", -1)]
    assert [r.seq for r in log] == sorted(r.seq for r in log)
    assert log[0].user_agent == "unit-test/1.0"
    assert log[0].content_type == "application/json"
    assert sandbox.requests("two") == []


def test_unreachable_refuses_connections(api: Api, sandbox: Sandbox, identity: Identity) -> None:
    sandbox.faults("one").set_unreachable()
    fresh = Api(sandbox.url("one"), sandbox.token("one"), identity.certificate_pem)
    with pytest.raises(ConnectionRefusedError):
        fresh.get(CMS)
    sandbox.faults("one").set_unreachable(False)
    again = Api(sandbox.url("one"), sandbox.token("one"), identity.certificate_pem)
    assert again.get(CMS).status == 200
    again.close()


def test_admin_endpoint_from_another_client(sandbox: Sandbox, identity: Identity) -> None:
    assert sandbox.admin_url is not None
    admin = AdminClient(sandbox.admin_url, sandbox.admin_token)
    assert set(admin.clusters()) == {"one", "two"}
    admin.faults("two").fail("GET", "/api/v1/namespaces$", status=429, count=1)
    two = Api(sandbox.url("two"), sandbox.token("two"), identity.certificate_pem)
    assert two.get("/api/v1/namespaces").status == 429
    assert two.get("/api/v1/namespaces").status == 200
    records = admin.requests("two")
    assert [(r["path"], r["status"]) for r in records] == [("/api/v1/namespaces", 429), ("/api/v1/namespaces", 200)]
    assert admin.requests("two", since=records[0]["seq"])[0]["seq"] == records[1]["seq"]
    admin.faults("two").set_unreachable()
    with pytest.raises(ConnectionRefusedError):
        Api(sandbox.url("two"), sandbox.token("two"), identity.certificate_pem).get("/version")
    admin.faults("two").clear()
    assert Api(sandbox.url("two"), sandbox.token("two"), identity.certificate_pem).get("/version").status == 200
    bad = AdminClient(sandbox.admin_url, "wrong")
    with pytest.raises(Exception, match="401"):
        bad.clusters()
    two.close()


def test_state_survives_restart(tmp_path: Path, identity: Identity) -> None:
    state = tmp_path / "state.json"
    with Sandbox(["keep"], state_file=state, identity=identity) as first:
        api = Api(first.url("keep"), first.token("keep"), identity.certificate_pem)
        api.post(CMS, configmap("kept"))
        port, token = first.port("keep"), first.token("keep")
        api.close()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".state.json.*"))  # no temporary file left behind
    with Sandbox([], state_file=state) as second:
        assert second.clusters == ["keep"]
        assert (second.port("keep"), second.token("keep")) == (port, token)
        assert second.identity == identity
        api = Api(second.url("keep"), second.token("keep"), identity.certificate_pem)
        kept = api.get(CMS + "/kept").json()
        assert kept["data"] == {"k": "v"}
        created = api.post(CMS, configmap("new")).json()
        assert int(created["metadata"]["resourceVersion"]) > int(kept["metadata"]["resourceVersion"])
        api.close()


def test_save_is_atomic_and_load_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save(path, {"clusters": {}})
    assert load(path) == {"version": 1, "clusters": {}}
    path.write_text("{truncated")
    assert load(path) is None
    assert load(tmp_path / "missing.json") is None


def test_kubeconfig_has_one_context_per_cluster(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_kubeconfig(tmp_path / "kc", {"one": "ctx-one", "two": "ctx-two"}, current="ctx-two")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert f'server: "{sandbox.url("one")}"' in text
    assert f'token: "{sandbox.token("two")}"' in text
    assert 'current-context: "ctx-two"' in text
    assert text.count("certificate-authority-data") == 2
    only = sandbox.write_kubeconfig(tmp_path / "only", ["two"]).read_text()
    assert sandbox.url("one") not in only
    assert json.dumps(sandbox.token("one")) not in only


def test_clusters_not_served_stay_in_the_state_file(tmp_path: Path, identity: Identity) -> None:
    state = tmp_path / "state.json"
    with Sandbox(["a", "b"], state_file=state, identity=identity) as first:
        Api(first.url("b"), first.token("b"), identity.certificate_pem).post(CMS, configmap("in-b"))
    with Sandbox(["a"], state_file=state, identity=identity) as only_a:
        Api(only_a.url("a"), only_a.token("a"), identity.certificate_pem).post(CMS, configmap("in-a"))
    with Sandbox(["b"], state_file=state, identity=identity) as only_b:
        assert Api(only_b.url("b"), only_b.token("b"), identity.certificate_pem).get(CMS + "/in-b").status == 200


def test_sequence_numbers_order_requests_across_clusters(sandbox: Sandbox, identity: Identity) -> None:
    one = Api(sandbox.url("one"), sandbox.token("one"), identity.certificate_pem)
    two = Api(sandbox.url("two"), sandbox.token("two"), identity.certificate_pem)
    one.get("/version")
    two.get("/version")
    one.get("/api")
    merged = sorted(sandbox.requests("one") + sandbox.requests("two"), key=lambda r: r.seq)
    assert [(r.cluster, r.path) for r in merged] == [("one", "/version"), ("two", "/version"), ("one", "/api")]
    assert merged[0].monotonic <= merged[1].monotonic <= merged[2].monotonic
    one.close()
    two.close()


def test_a_long_save_spaces_the_next_ones(tmp_path: Path) -> None:
    """Saving hundreds of megabytes twice a second would starve the API: the saver waits 20 times
    as long as its last save took (and still saves on stop)."""
    import time

    from helmkit.sandbox.persistence import COST_RATIO, Saver

    versions = iter(range(1000))

    def heavy() -> dict[str, object]:
        time.sleep(0.05)
        return {"clusters": {}}

    saver = Saver(tmp_path / "s.json", heavy, lambda: next(versions), interval=0.01)
    assert saver.next_wait() == 0.01
    saver.save_if_changed()
    assert saver.next_wait() >= COST_RATIO * 0.05
    saver.stop()
    assert load(tmp_path / "s.json") == {"version": 1, "clusters": {}}
