"""Reading only the revision that counts: each release's current record decoded, the rest of its
history summarised from the storage labels, against a real (in-process) sandbox API server."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_helmstorage import helm3_record, secret

from helmkit.adapters.helmstorage import latest_releases, read_current_releases, read_releases
from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.recordfetch import fetch_workers
from helmkit.adapters.runner import Runner
from helmkit.sandbox import Sandbox


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeClient]:
    with Sandbox(["one"], admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        with KubeClient(load_cluster_config("one", Runner(), kubeconfig=kubeconfig)) as client:
            for ns in ("prod", "other"):
                client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            yield client


def store(client: KubeClient, obj: dict[str, Any]) -> None:
    body = copy.deepcopy(obj)
    body.pop("apiVersion")
    client.create({"apiVersion": "v1", **body})


def corrupt(obj: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(obj)
    bad["data"]["release"] = base64.b64encode(b"not base64 of gzip!").decode()
    return bad


def test_only_the_current_revision_is_decoded(kube: KubeClient) -> None:
    history = [("superseded", 1), ("superseded", 2), ("deployed", 3)]
    for status, revision in history:
        store(kube, secret(helm3_record(revision=revision, status=status, manifest=f"rev: {revision}\n")))
    store(kube, secret(helm3_record("api", 1, "superseded", "other")))
    store(kube, secret(helm3_record("api", 2, "failed", "other", manifest="failed: yes\n")))
    store(kube, corrupt(secret(helm3_record("api", 3, "uninstalled", "other"))) | {"metadata": {
        "name": "sh.helm.release.v1.api.v0", "namespace": "other",
        "labels": {"owner": "helm", "name": "api", "version": "zero"}}})  # labels unusable: decoded, and bad
    before = kube.calls
    current = read_current_releases(kube)
    # one list of metadata, then one GET per current revision (web, api) and per record whose labels are unusable
    assert kube.calls - before == 1 + 2 + 1
    assert [(u.namespace, u.name) for u in current.undecodable] == [("other", "sh.helm.release.v1.api.v0")]
    web = current.histories[("prod", "web")]
    assert (web.current.revision, web.current.manifest, web.current.summary) == (3, "rev: 3\n", False)
    assert web.current.values == {"replicas": 3, "image": {"tag": "v2"}} and web.current.chart_name == "webapp"
    assert [(r.revision, r.status, r.summary, r.manifest) for r in web.history] == [
        (1, "superseded", True, ""), (2, "superseded", True, ""), (3, "deployed", False, "rev: 3\n")]
    api = current.histories[("other", "api")]
    assert (api.current.revision, api.current.status, api.current.manifest) == (2, "failed", "failed: yes\n")
    # the same choice as decoding everything
    full = latest_releases(read_releases(kube).records)
    assert {k: (h.current.revision, h.current.manifest) for k, h in full.items()} == {
        k: (h.current.revision, h.current.manifest) for k, h in current.histories.items()}


def test_an_undecodable_current_record_falls_back_to_the_next_choice(kube: KubeClient) -> None:
    store(kube, secret(helm3_record(revision=1, status="superseded", manifest="one\n")))
    store(kube, secret(helm3_record(revision=2, status="deployed", manifest="two\n")))
    store(kube, corrupt(secret(helm3_record(revision=3, status="deployed"))))
    current = read_current_releases(kube)
    assert [u.name for u in current.undecodable] == ["sh.helm.release.v1.web.v3"]
    web = current.histories[("prod", "web")]
    assert (web.current.revision, web.current.manifest) == (2, "two\n")
    assert [r.revision for r in web.history] == [1, 2]
    assert read_current_releases(kube, namespace="other").histories == {}


def test_undecoded_reading_decodes_only_what_is_asked_and_ends_like_the_eager_one(kube: KubeClient) -> None:
    store(kube, secret(helm3_record(revision=1, status="superseded", manifest="one\n")))
    store(kube, secret(helm3_record(revision=2, status="deployed", manifest="two\n")))
    store(kube, corrupt(secret(helm3_record(revision=3, status="deployed"))))
    store(kube, secret(helm3_record("api", 1, "deployed", "other", manifest="api\n")))
    before = kube.calls
    lazy = read_current_releases(kube, decode=False)
    assert kube.calls - before == 1  # the metadata list only: nothing fetched yet
    web, api = lazy.histories[("prod", "web")], lazy.histories[("other", "api")]
    assert (web.current.revision, web.current.summary, web.current.manifest) == (3, True, "")
    assert web.current.storage_uid and web.current.storage_version  # the record's identity, from its metadata
    assert api.current.summary and lazy.undecodable == ()
    partly = lazy.decoded({("other", "api")})
    assert partly.histories[("other", "api")].current.manifest == "api\n"
    assert partly.histories[("prod", "web")].current.summary  # not asked: left undecoded
    whole = partly.decoded({("prod", "web")})
    eager = read_current_releases(kube)
    assert {k: (h.current.revision, h.current.manifest, h.current.storage_uid) for k, h in whole.histories.items()} \
        == {k: (h.current.revision, h.current.manifest, h.current.storage_uid) for k, h in eager.histories.items()}
    assert [u.name for u in whole.undecodable] == [u.name for u in eager.undecodable] == ["sh.helm.release.v1.web.v3"]
    assert whole.decoded({("prod", "web"), ("other", "api")}) is whole  # decoded already: nothing fetched again


def test_records_are_fetched_after_the_listing_client_is_closed(kube: KubeClient, tmp_path: Path) -> None:
    store(kube, secret(helm3_record(revision=1, status="superseded", manifest="one\n")))
    store(kube, secret(helm3_record(revision=2, status="deployed", manifest="two\n")))
    with KubeClient(kube.config) as listing:
        lazy = read_current_releases(listing, decode=False)
    assert lazy.fetcher is not None and lazy.fetcher.config is kube.config
    web = lazy.decoded({("prod", "web")}).histories[("prod", "web")]  # a client of its own, from the config
    assert (web.current.revision, web.current.manifest, web.current.summary) == (2, "two\n", False)


def test_a_record_deleted_between_list_and_get_is_undecodable_and_the_rule_picks_again(kube: KubeClient) -> None:
    store(kube, secret(helm3_record(revision=1, status="superseded", manifest="one\n")))
    store(kube, secret(helm3_record(revision=2, status="deployed", manifest="two\n")))
    store(kube, secret(helm3_record("api", 1, "deployed", "other", manifest="api\n")))
    lazy = read_current_releases(kube, decode=False)
    kube.delete("v1", "Secret", "sh.helm.release.v1.web.v2", "prod")
    kube.delete("v1", "Secret", "sh.helm.release.v1.api.v1", "other")
    done = lazy.decoded({("prod", "web"), ("other", "api")})
    assert sorted((u.name, u.reason) for u in done.undecodable) == [
        ("sh.helm.release.v1.api.v1", "deleted since it was listed"),
        ("sh.helm.release.v1.web.v2", "deleted since it was listed")]
    assert ("other", "api") not in done.histories  # nothing left of it
    assert done.decoded({("other", "api")}) is done  # and not fetched (nor reported) again
    web = done.histories[("prod", "web")]
    assert (web.current.revision, web.current.manifest) == (1, "one\n")


def test_records_are_fetched_a_few_at_once_within_a_budget_across_clusters(kube: KubeClient) -> None:
    assert [fetch_workers(n) for n in (1, 2, 3, 8, 20)] == [4, 4, 2, 1, 1]
    for name in ("a", "b", "c"):
        store(kube, secret(helm3_record(name, 1, "deployed", manifest=f"{name}: 1\n")))
    alone, in_fleet = read_current_releases(kube), read_current_releases(kube, workers=1)
    assert {k: h.current.manifest for k, h in alone.histories.items()} == \
        {k: h.current.manifest for k, h in in_fleet.histories.items()} == {
        ("prod", "a"): "a: 1\n", ("prod", "b"): "b: 1\n", ("prod", "c"): "c: 1\n"}
