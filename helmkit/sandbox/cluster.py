"""One sandbox cluster: its objects, served types, controllers, credentials, faults and request log."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

from helmkit.sandbox import controllers
from helmkit.sandbox.faults import Faults, RequestLog
from helmkit.sandbox.registry import TypeRegistry
from helmkit.sandbox.status import ApiError
from helmkit.sandbox.store import Obj, Store, resource_key

CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"
DEFAULT_KUBE_VERSION = "v1.34.0"
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class ClusterState:
    """Everything one cluster of a sandbox holds (the HTTP side lives in :mod:`helmkit.sandbox.server`)."""

    def __init__(self, name: str, token: str, *, sequence: Iterator[int] | None = None,
                 kube_version: str = DEFAULT_KUBE_VERSION) -> None:
        self.name = name
        self.token = token
        self.kube_version = kube_version
        self.store = Store()
        self.registry = TypeRegistry()
        self.faults = Faults()
        self.log = RequestLog(name, sequence or itertools.count(1))
        self.store.listeners.append(self._on_change)
        self.controllers = controllers.Controllers(self.store, self.faults)
        self.faults.bind_workloads(self.controllers.resync)
        for namespace in INITIAL_NAMESPACES:
            self._create_namespace(namespace)

    def _create_namespace(self, name: str) -> None:
        obj = {"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        self.store.create("/namespaces", obj, error=lambda: ApiError(409, "exists"))

    def _on_change(self, key: str, kind: str, obj: Obj, old: Obj | None) -> None:
        if key != CRD_KEY:
            return
        if kind == "DELETED":
            self.registry.remove_crd(obj["metadata"]["name"])
            spec = obj.get("spec") or {}
            cr_key = resource_key(str(spec.get("group", "")), str((spec.get("names") or {}).get("plural", "")))
            for item in self.store.select(cr_key)[0]:
                meta = item["metadata"]
                with contextlib.suppress(ApiError):
                    self.store.delete(cr_key, meta.get("namespace", ""), meta["name"])
        else:
            self.registry.set_crd(obj)

    def tick(self) -> None:
        """Let time pass for the controllers (restart counts, delayed behaviours, deadlines)."""
        self.controllers.tick()

    def snapshot(self) -> dict[str, Any]:
        return {"token": self.token, "kubeVersion": self.kube_version, "store": self.store.snapshot()}

    def restore(self, data: dict[str, Any]) -> None:
        self.store.restore(data.get("store") or {})
        for crd in self.store.select(CRD_KEY)[0]:
            self.registry.set_crd(crd)
