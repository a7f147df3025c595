"""The resource types one sandbox cluster serves: the built-in catalog plus its CRDs' kinds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from helmkit.sandbox.catalog import BUILTIN_TYPES, ResourceType, group_versions, types_from_crd


class TypeRegistry:
    """Lookup of served types by path (group, version, plural) and by apiVersion + kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._crds: dict[str, list[ResourceType]] = {}
        self._rebuild()

    def _rebuild(self) -> None:
        types = list(BUILTIN_TYPES)
        for crd_types in self._crds.values():
            types.extend(crd_types)
        self._types = types
        self._by_path = {(t.group, t.version, t.plural): t for t in types}
        self._by_kind = {(t.api_version, t.kind): t for t in types}
        self.cache: dict[Any, Any] = {}  # documents derived from the types (discovery, OpenAPI)

    def cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per set of served types."""
        cache = self.cache
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def all(self) -> list[ResourceType]:
        return self._types

    def find(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def group_versions(self) -> dict[str, list[str]]:
        return group_versions(self._types)

    def set_crd(self, crd: dict[str, Any]) -> None:
        name = crd["metadata"]["name"]
        with self._lock:
            self._crds[name] = types_from_crd(crd)
            self._rebuild()

    def remove_crd(self, name: str) -> None:
        with self._lock:
            if self._crds.pop(name, None) is not None:
                self._rebuild()
