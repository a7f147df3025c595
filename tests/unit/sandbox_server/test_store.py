from __future__ import annotations

import pytest

from helmkit.sandbox.status import ApiError
from helmkit.sandbox.store import Store

CM = "/configmaps"


def exists() -> ApiError:
    return ApiError(409, "exists", reason="AlreadyExists")


def cm(name: str, ns: str = "default", data: str = "v", owner: str | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "namespace": ns}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": owner}]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": data}}


def test_create_sets_identity_and_rejects_duplicates() -> None:
    store = Store()
    created = store.create(CM, cm("a"), error=exists)
    meta = created["metadata"]
    assert meta["resourceVersion"] == "2"
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert "generation" not in meta  # ConfigMaps have no generation
    with pytest.raises(ApiError) as caught:
        store.create(CM, cm("a"), error=exists)
    assert caught.value.code == 409


def test_replace_keeps_rv_for_noop_and_checks_precondition() -> None:
    store = Store()
    created = store.create(CM, cm("a"), error=exists)
    same = store.replace(CM, cm("a"), expected_rv=None)
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    changed = store.replace(CM, cm("a", data="w"), expected_rv=created["metadata"]["resourceVersion"])
    assert int(changed["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert changed["metadata"]["uid"] == created["metadata"]["uid"]
    with pytest.raises(ApiError) as caught:
        store.replace(CM, cm("a", data="x"), expected_rv=created["metadata"]["resourceVersion"])
    assert caught.value.code == 409
    assert "has been modified" in caught.value.status["message"]


def test_generation_bumps_on_spec_changes_only() -> None:
    store = Store()
    key = "apps/deployments"
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"},
           "spec": {"replicas": 1}}
    assert store.create(key, dep, error=exists)["metadata"]["generation"] == 1
    with_status = {**dep, "metadata": {"name": "d", "namespace": "n"}, "status": {"replicas": 1}}
    assert store.replace(key, with_status, expected_rv=None)["metadata"]["generation"] == 1
    scaled = {**dep, "metadata": {"name": "d", "namespace": "n"}, "spec": {"replicas": 2}}
    assert store.replace(key, scaled, expected_rv=None)["metadata"]["generation"] == 2


def test_namespace_delete_cascades_and_owner_gc() -> None:
    store = Store()
    store.create("/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}}, error=exists)
    store.create(CM, cm("a", "gone"), error=exists)
    store.create(CM, cm("b", "kept"), error=exists)
    store.delete("/namespaces", "", "gone")
    assert [o["metadata"]["name"] for o in store.select(CM)[0]] == ["b"]

    owner = store.create(CM, cm("owner"), error=exists)
    uid = owner["metadata"]["uid"]
    store.create(CM, cm("child", owner=uid), error=exists)
    store.delete(CM, "default", "owner")
    assert store.get(CM, "default", "child") is None

    owner = store.create(CM, cm("owner2"), error=exists)
    store.create(CM, cm("orphan", owner=owner["metadata"]["uid"]), error=exists)
    store.delete(CM, "default", "owner2", orphan=True)
    orphan = store.get(CM, "default", "orphan")
    assert orphan is not None
    assert "ownerReferences" not in orphan["metadata"]


def test_dry_run_writes_nothing() -> None:
    store = Store()
    store.create(CM, cm("a"), dry_run=True, error=exists)
    assert store.get(CM, "default", "a") is None
    store.create(CM, cm("a"), error=exists)
    store.delete(CM, "default", "a", dry_run=True)
    assert store.get(CM, "default", "a") is not None


def test_watch_from_resource_version_and_initial_events() -> None:
    store = Store()
    first = store.create(CM, cm("a"), error=exists)
    store.create(CM, cm("b", "other"), error=exists)
    watcher = store.watch(CM, "default", None, first["metadata"]["resourceVersion"], initial=False)
    store.replace(CM, cm("a", data="2"), expected_rv=None)
    store.delete(CM, "default", "a")
    events = [watcher.events.get_nowait() for _ in range(2)]
    assert [(kind, obj["metadata"]["name"]) for kind, obj in events if obj] == [("MODIFIED", "a"), ("DELETED", "a")]
    initial = store.watch(CM, None, None, None, initial=True)
    assert initial.events.get_nowait()[1]["metadata"]["name"] == "b"
    assert initial.events.empty()
    store.unwatch(initial)


def test_watch_from_a_forgotten_version_is_410() -> None:
    store = Store()
    store.create(CM, cm("a"), error=exists)
    restored = Store()
    restored.restore(store.snapshot())
    with pytest.raises(ApiError) as caught:
        restored.watch(CM, None, None, "1", initial=False)
    assert caught.value.code == 410
    current = str(restored.resource_version)
    restored.watch(CM, None, None, current, initial=False)  # from now on is fine
