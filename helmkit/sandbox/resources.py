"""The REST verbs on resources: get, list, watch, create, update, patch, delete, deletecollection.

Each function takes the cluster and one parsed :class:`ResourceRequest` and returns a
:class:`Reply` (or raises :class:`~helmkit.sandbox.status.ApiError`). Watches return a reply
holding a :class:`~helmkit.sandbox.store.Watcher` that the server streams.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from helmkit.sandbox import admission
from helmkit.sandbox.apply import ApplyConflict, record_update, server_side_apply
from helmkit.sandbox.catalog import ResourceType
from helmkit.sandbox.jsoncodec import json_copy
from helmkit.sandbox.negotiate import must_fit, negotiate, partial_list, partial_object
from helmkit.sandbox.patching import PatchError, json_patch, merge_patch, strategic_merge_patch, supports_strategic
from helmkit.sandbox.selectors import matcher
from helmkit.sandbox.status import ApiError, already_exists, bad_request, not_found, success_status
from helmkit.sandbox.store import Obj, Watcher, now_rfc3339, resource_key
from helmkit.sandbox.tables import to_table

if TYPE_CHECKING:
    from helmkit.sandbox.cluster import ClusterState

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
)
UPDATE_RETRIES = 5


@dataclass
class ResourceRequest:
    method: str
    rtype: ResourceType
    namespace: str | None  # None: all namespaces (or cluster-scoped)
    name: str | None
    subresource: str | None
    query: dict[str, str]
    content_type: str
    accept: str
    user_agent: str
    body: bytes

    @property
    def key(self) -> str:
        return resource_key(self.rtype.group, self.rtype.plural)

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    @property
    def manager(self) -> str:
        manager = self.query.get("fieldManager")
        if manager:
            return manager
        agent = self.user_agent.split("/")[0].strip()
        return agent or "unknown"

    @property
    def ident(self) -> tuple[str, str]:
        return (self.rtype.plural, self.rtype.group)


@dataclass
class Reply:
    code: int
    body: Any = None
    watcher: Watcher | None = None
    watch_options: dict[str, Any] = field(default_factory=dict)
    content_type: str = "application/json"


def _table(cluster: ClusterState, req: ResourceRequest, objects: list[Obj], rv: str) -> Obj:
    columns = None
    if req.rtype.group and "." in req.rtype.group:
        crd = cluster.store.get("apiextensions.k8s.io/customresourcedefinitions", "",
                                f"{req.rtype.plural}.{req.rtype.group}")
        for version in ((crd or {}).get("spec") or {}).get("versions") or ():
            if version.get("name") == req.rtype.version and version.get("additionalPrinterColumns"):
                columns = version["additionalPrinterColumns"]
    return to_table(req.rtype.kind, objects, include_object=req.query.get("includeObject", "Metadata"),
                    now=datetime.now(UTC), resource_version=rv, printer_columns=columns)


def _crd_of(cluster: ClusterState, req: ResourceRequest) -> Obj | None:
    """The CustomResourceDefinition serving a custom resource (None for built-in kinds)."""
    if not req.rtype.group or "." not in req.rtype.group:
        return None
    return cluster.store.get("apiextensions.k8s.io/customresourcedefinitions", "",
                             f"{req.rtype.plural}.{req.rtype.group}")


def _namespace_must_exist(cluster: ClusterState, req: ResourceRequest, namespace: str) -> None:
    if cluster.store.get("/namespaces", "", namespace) is None:
        raise ApiError(404, f'namespaces "{namespace}" not found',
                       details={"name": namespace, "kind": "namespaces"})


def _live(cluster: ClusterState, req: ResourceRequest) -> Obj:
    assert req.name is not None
    obj = cluster.store.get(req.key, req.namespace or "", req.name)
    if obj is None:
        raise not_found(req.rtype.plural, req.name, req.rtype.group)
    return obj


# ---- reads -----------------------------------------------------------------------------------


def get(cluster: ClusterState, req: ResourceRequest) -> Reply:
    obj = _live(cluster, req)
    if req.subresource == "scale":
        return Reply(200, _scale_of(req, obj))
    target = negotiate(req.accept)
    must_fit(target, listing=False, what=f"{req.rtype.version}.{req.rtype.kind}")
    if target.kind == "Table":
        return Reply(200, _table(cluster, req, [obj], obj["metadata"]["resourceVersion"]))
    return Reply(200, partial_object(obj, target) if target.kind else obj)


def list_objects(cluster: ClusterState, req: ResourceRequest) -> Reply:
    match = matcher(req.query.get("labelSelector"), req.query.get("fieldSelector"))
    if req.query.get("watch") in ("1", "true", "True"):
        return _watch(cluster, req, match)
    target = negotiate(req.accept)
    must_fit(target, listing=True, what=f"{req.rtype.version}.{req.rtype.kind}")
    items, rv = cluster.store.select(req.key, req.namespace, match)
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    token = req.query.get("continue")
    if token:
        try:
            start = tuple(json.loads(base64.urlsafe_b64decode(token.encode())))
        except ValueError:
            raise ApiError(410, "the provided continue parameter is too old or malformed", reason="Expired") from None
        items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
    limit = int(req.query.get("limit") or 0)
    if limit and len(items) > limit:
        items = items[:limit]
        last = items[-1]["metadata"]
        meta["continue"] = base64.urlsafe_b64encode(
            json.dumps([last.get("namespace", ""), last["name"]]).encode()).decode()
        meta["remainingItemCount"] = 0
    if target.kind == "Table":
        table = _table(cluster, req, items, str(rv))
        table["metadata"].update(meta)
        return Reply(200, table)
    if target.kind:
        return Reply(200, partial_list(items, meta, target))
    return Reply(200, {"kind": f"{req.rtype.kind}List", "apiVersion": req.rtype.api_version, "metadata": meta,
                       "items": items})


def _watch(cluster: ClusterState, req: ResourceRequest, match: Any) -> Reply:
    initial_events = req.query.get("sendInitialEvents") in ("true", "1")
    since = req.query.get("resourceVersion") or ""
    initial = initial_events or since in ("", "0")
    watcher = cluster.store.watch(req.key, req.namespace, match, since, initial)
    timeout = float(req.query.get("timeoutSeconds") or 1800)
    return Reply(200, watcher=watcher, watch_options={
        "timeout": timeout,
        "initial_events_end": initial_events,
        "bookmarks": req.query.get("allowWatchBookmarks") in ("true", "1"),
        "kind": req.rtype.kind,
        "api_version": req.rtype.api_version,
    })


# ---- writes ----------------------------------------------------------------------------------


def create(cluster: ClusterState, req: ResourceRequest) -> Reply:
    if req.subresource:
        raise ApiError(405, f"create is not supported on {req.rtype.plural}/{req.subresource}")
    obj = admission.check_object(req.rtype, admission.decode_body(req.body, req.content_type), req.namespace, None)
    meta = obj["metadata"]
    meta.pop("resourceVersion", None)
    if req.rtype.namespaced:
        _namespace_must_exist(cluster, req, meta["namespace"])
    admission.new_uid(obj)
    obj = admission.apply_defaults(req.rtype, obj, None, _crd_of(cluster, req))
    obj = record_update(None, obj, manager=req.manager, now=now_rfc3339())
    created = cluster.store.create(
        req.key, obj, dry_run=req.dry_run,
        error=lambda: already_exists(req.rtype.plural, meta["name"], req.rtype.group))
    return Reply(201, created)


def update(cluster: ClusterState, req: ResourceRequest) -> Reply:
    raw = admission.decode_body(req.body, req.content_type)
    live = _live(cluster, req)
    if req.subresource == "scale":
        if not isinstance(raw, dict):
            raise bad_request("the body of the request must be a Scale object")
        new = _scale_merge(live, raw)
        expected = (raw.get("metadata") or {}).get("resourceVersion") or None
    else:
        body = admission.check_object(req.rtype, raw, req.namespace, req.name)
        expected = body["metadata"].get("resourceVersion") or None
        new = _merge_subresource(req, live, body)
    return _store_update(cluster, req, live, new, expected, record=record_update)


def patch(cluster: ClusterState, req: ResourceRequest) -> Reply:
    media = req.content_type.split(";")[0].strip().lower()
    if media not in PATCH_TYPES or media == "application/apply-patch+cbor":
        raise ApiError(415, f"the body of the request was in an unknown format - accepted media types include: "
                            f"{', '.join(PATCH_TYPES[:4])}")
    patch_body = admission.decode_body(req.body, req.content_type)
    if patch_body is None:
        raise bad_request("the body of the request must not be empty")
    for _ in range(UPDATE_RETRIES):
        live = cluster.store.get(req.key, req.namespace or "", req.name or "")
        if media == "application/apply-patch+yaml":
            if not req.query.get("fieldManager"):
                raise ApiError(422, "PATCH, fieldManager: Required value: is required for apply patch",
                               reason="Invalid")
            applied = admission.check_object(req.rtype, patch_body, req.namespace, req.name)
            if live is None and req.subresource:
                raise not_found(req.rtype.plural, req.name or "", req.rtype.group)
            if live is None and req.rtype.namespaced:
                _namespace_must_exist(cluster, req, applied["metadata"]["namespace"])
            try:
                result = server_side_apply(json_copy(live) if live else None, applied, manager=req.manager,
                                           force=req.query.get("force") in ("true", "1"), now=now_rfc3339())
            except ApplyConflict as exc:
                raise ApiError(409, exc.message, reason="Conflict",
                               details={"name": req.name, "group": req.rtype.group, "kind": req.rtype.plural,
                                        "causes": [{"reason": "FieldManagerConflict", "field": path,
                                                    "message": f'conflict with "{manager}"'}
                                                   for manager, path in exc.conflicts]}) from None
            if live is None:
                result = admission.check_object(req.rtype, result, req.namespace, req.name)
                admission.new_uid(result)
                result = admission.apply_defaults(req.rtype, result, None, _crd_of(cluster, req))
                created = cluster.store.create(
                    req.key, result, dry_run=req.dry_run,
                    error=lambda: already_exists(req.rtype.plural, req.name or "", req.rtype.group))
                return Reply(201, created)
            new = _merge_subresource(req, live, result)
            try:
                return _store_update(cluster, req, live, new, live["metadata"]["resourceVersion"], record=None)
            except ApiError as exc:
                if exc.code == 409 and exc.status.get("reason") == "Conflict":
                    continue
                raise
        if live is None:
            raise not_found(req.rtype.plural, req.name or "", req.rtype.group)
        base = _scale_of(req, live) if req.subresource == "scale" else json_copy(live)
        try:
            if media == "application/json-patch+json":
                if not isinstance(patch_body, list):
                    raise bad_request("json patch must be a list of operations")
                patched = json_patch(base, patch_body)
            elif media == "application/merge-patch+json":
                patched = merge_patch(base, patch_body)
            else:
                api_version, kind = base.get("apiVersion", ""), base.get("kind", "")
                if not supports_strategic(api_version, kind):
                    raise ApiError(415, "the body of the request was in an unknown format - accepted media types "
                                        "include: application/json-patch+json, application/merge-patch+json, "
                                        "application/apply-patch+yaml")
                patched = strategic_merge_patch(base, patch_body, api_version=api_version, kind=kind)
        except PatchError as exc:
            raise ApiError(exc.status, exc.message) from None
        expected = None
        if isinstance(patch_body, dict):
            expected = (patch_body.get("metadata") or {}).get("resourceVersion")
        if req.subresource == "scale":
            new = _scale_merge(live, patched)
        else:
            patched = admission.check_object(req.rtype, patched, req.namespace, req.name)
            new = _merge_subresource(req, live, patched)
        try:
            return _store_update(cluster, req, live, new, expected or live["metadata"]["resourceVersion"],
                                 record=record_update)
        except ApiError as exc:
            if exc.code == 409 and not expected:
                continue
            raise
    raise ApiError(409, "too many concurrent updates", reason="Conflict")


def _store_update(cluster: ClusterState, req: ResourceRequest, live: Obj, new: Obj, expected: str | None,
                  *, record: Any) -> Reply:
    new = admission.apply_defaults(req.rtype, new, live, _crd_of(cluster, req))
    if record is not None:
        new = record(live, new, manager=req.manager, now=now_rfc3339())
    stored = cluster.store.replace(req.key, new, expected_rv=expected, dry_run=req.dry_run, what=req.ident)
    if req.subresource == "scale":
        return Reply(200, _scale_of(req, stored))
    return Reply(200, stored)


def _merge_subresource(req: ResourceRequest, live: Obj, body: Obj) -> Obj:
    """The object to store: a status write changes only status; other writes keep the live status."""
    if req.subresource == "status":
        new = json_copy(live)
        if "status" in body:
            new["status"] = body["status"]
        else:
            new.pop("status", None)
        meta = body.get("metadata") or {}
        if "resourceVersion" in meta:
            new["metadata"]["resourceVersion"] = meta["resourceVersion"]
        return new
    if "status" in req.rtype.subresources:
        if "status" in live:
            body["status"] = live["status"]
        else:
            body.pop("status", None)
    return body


def _scale_of(req: ResourceRequest, obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    selector = ",".join(f"{k}={v}" for k, v in ((spec.get("selector") or {}).get("matchLabels") or {}).items())
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": selector},
    }


def _scale_merge(live: Obj, body: Obj) -> Obj:
    new = json_copy(live)
    new.setdefault("spec", {})["replicas"] = (body.get("spec") or {}).get("replicas", 0)
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv:
        new["metadata"]["resourceVersion"] = rv
    return new


# ---- deletes ---------------------------------------------------------------------------------


def _delete_options(req: ResourceRequest) -> dict[str, Any]:
    options = admission.decode_body(req.body, req.content_type) if req.body else None
    options = options if isinstance(options, dict) else {}
    if "propagationPolicy" in req.query:
        options["propagationPolicy"] = req.query["propagationPolicy"]
    if req.query.get("dryRun") == "All":
        options["dryRun"] = ["All"]
    return options


def delete(cluster: ClusterState, req: ResourceRequest) -> Reply:
    options = _delete_options(req)
    preconditions = options.get("preconditions") or {}
    assert req.name is not None
    removed = cluster.store.delete(
        req.key, req.namespace or "", req.name,
        expected_rv=preconditions.get("resourceVersion"), expected_uid=preconditions.get("uid"),
        dry_run="All" in (options.get("dryRun") or ()), orphan=options.get("propagationPolicy") == "Orphan",
        what=req.ident)
    if req.rtype.kind in ("Namespace",):
        gone = json_copy(removed)
        gone.setdefault("status", {})["phase"] = "Terminating"
        return Reply(200, gone)
    return Reply(200, success_status({"name": req.name, "group": req.rtype.group, "kind": req.rtype.plural,
                                      "uid": removed["metadata"].get("uid")}))


def delete_collection(cluster: ClusterState, req: ResourceRequest) -> Reply:
    options = _delete_options(req)
    match = matcher(req.query.get("labelSelector"), req.query.get("fieldSelector"))
    items, _ = cluster.store.select(req.key, req.namespace, match)
    removed = []
    for obj in items:
        meta = obj["metadata"]
        try:
            removed.append(cluster.store.delete(
                req.key, meta.get("namespace", ""), meta["name"], dry_run="All" in (options.get("dryRun") or ()),
                orphan=options.get("propagationPolicy") == "Orphan", what=req.ident))
        except ApiError as exc:
            if exc.code != 404:
                raise
    return Reply(200, {"kind": f"{req.rtype.kind}List", "apiVersion": req.rtype.api_version,
                       "metadata": {"resourceVersion": str(cluster.store.resource_version)}, "items": removed})
