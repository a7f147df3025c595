"""The CRDs of a chart's ``crds/`` folders (the chart's and its subcharts') and the ``crds`` policy.

Helm installs ``crds/`` once, on the first install, and never upgrades or deletes them. Each
release chooses, as Flux's HelmRelease does:

``Create`` (default)
    helm's behaviour: the chart's CRDs are created on the release's first install, those that
    exist are left as they are. helmkit creates them itself (:func:`create_crds`, then helm's
    ``--skip-crds``), as helm would: each absent CRD is created, then awaited until the API
    server serves it (discovery lists its resource, what helm's rendering and mapping need of an
    established CRD), before helm starts. A helm process that installs a large
    ``crds/`` folder itself parses it again on every cluster, and spends a quarter of a
    kube-prometheus-stack install on it. A CRD that changed in the chart is shown by ``diff`` as
    "not applied".
``CreateReplace``
    sync applies the chart's CRDs with server-side apply (field manager ``helmkit``, forced)
    before each install, upgrade or repair of the release; a CRD is never deleted. ``diff``
    shows the CRD changes that sync will apply (the chart's CRD vs the live one, on the fields
    the chart sets) and counts them as a change.
``Skip``
    helm's ``--skip-crds``: the chart's CRDs are neither installed nor compared.

:func:`apply_crds` talks to the cluster through helmkit's own Kubernetes client: one apply
request per CRD.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.kubeparts import KubeApiError
from helmkit.context import Context
from helmkit.errors import ClusterError
from helmkit.plan.manifests import DocumentCache, ManifestObject, parse_documents, split_documents
from helmkit.plan.rendering import crds_prefix

CRD_API_VERSION = "apiextensions.k8s.io/v1"
CRD_KIND = "CustomResourceDefinition"
FIELD_MANAGER = "helmkit"
POLICIES = ("Skip", "Create", "CreateReplace")
ESTABLISH_TIMEOUT = 60.0  # seconds a created CRD may take to be served (helm waits as long)
ESTABLISH_POLL = 0.2


def chart_crds(manifest: str | None, namespace: str, *, cache: DocumentCache | None = None) -> list[ManifestObject]:
    """The CRDs of the chart's (and its subcharts') ``crds/`` folders in a rendered manifest.

    Only the documents of ``crds/`` folders are read (by their ``# Source:`` line), each once per
    ``cache`` (the same chart on many clusters)."""
    if not manifest:
        return []
    part = _crds_part(manifest)
    if cache is None:
        return list(_chart_crds(part, namespace, None))
    found = cache.crds.get((part, namespace))
    if found is None:  # the same chart on many clusters (values apart): its crds/ part is split once
        found = cache.crds[(part, namespace)] = _chart_crds(part, namespace, cache)
    return list(found)


def _crds_part(manifest: str) -> str:
    """The ``crds/`` documents of a rendering and little else: helm prints them before the templates'
    (a cluster's values change the templates, not the ``crds/`` files)."""
    prefix = crds_prefix(manifest)
    return manifest if prefix is None else prefix


def _chart_crds(manifest: str, namespace: str, cache: DocumentCache | None) -> tuple[ManifestObject, ...]:
    documents = [d for d in split_documents(manifest) if d.from_crds_folder]
    if not documents:
        return ()
    parsed = parse_documents(documents, namespace, origin="rendered manifest", cache=cache)
    return tuple(parsed.crds)  # the documents are the crds/ folders' already


def only_crds(manifest: str | None, namespace: str, *, cache: DocumentCache | None = None) -> bool:
    """Whether every object of the ``crds/`` folders is an ``apiextensions.k8s.io/v1`` CRD (helm creates
    whatever they hold; helmkit creates only these)."""
    if not manifest:
        return True
    part = _crds_part(manifest)
    if cache is not None and (part, namespace) in cache.only_crds:  # the same chart on many clusters
        return cache.only_crds[(part, namespace)]
    documents = [d for d in split_documents(part) if d.from_crds_folder]
    parsed = parse_documents(documents, namespace, origin="rendered manifest", cache=cache)
    found = not parsed.hooks and all(obj.is_crd and obj.body.get("apiVersion") == CRD_API_VERSION
                                     for obj in parsed.objects.values())
    if cache is not None:
        cache.only_crds[(part, namespace)] = found
    return found


def apply_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The CRD as sent with server-side apply: without status and server-owned metadata."""
    doc = {k: copy.deepcopy(v) for k, v in body.items() if k != "status"}
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        for key in ("creationTimestamp", "resourceVersion", "uid", "managedFields", "generation"):
            meta.pop(key, None)
    return doc


def apply_crds(ctx: Context, context: str, crds: Sequence[Mapping[str, Any]]) -> int:
    """Server-side apply each CRD (field manager helmkit, force); return how many were applied."""
    if not crds:
        return 0
    config = load_cluster_config(context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
    with KubeClient(config, timeout=30.0, retries=2) as client:
        for body in crds:
            name = str((body.get("metadata") or {}).get("name", ""))
            client.patch(str(body.get("apiVersion", CRD_API_VERSION)), CRD_KIND, name, apply_body(body),
                         patch_type="apply", field_manager=FIELD_MANAGER, force=True)
    return len(crds)


def create_crds(ctx: Context, context: str, crds: Sequence[Mapping[str, Any]], *,
                encoded: dict[int, bytes] | None = None, timeout: float = ESTABLISH_TIMEOUT) -> int:
    """Create each CRD that does not exist (one left as it is when it does), then wait until the
    API server serves every created one; return how many were created. ``encoded``: a run's memo of
    each body's JSON (the same CRDs go to many clusters)."""
    if not crds:
        return 0
    memo = {} if encoded is None else encoded
    config = load_cluster_config(context, ctx.runner, kubeconfig=ctx.kubeconfig, files=ctx.kubeconfigs)
    created: list[Mapping[str, Any]] = []
    with KubeClient(config, timeout=30.0, retries=2) as client:
        for body in crds:
            payload = memo.get(id(body))
            if payload is None:
                payload = memo[id(body)] = json.dumps(apply_body(body)).encode()
            try:
                client.create(body, field_manager=FIELD_MANAGER, encoded=payload, answer=False)
            except KubeApiError as exc:
                if exc.status != 409:  # AlreadyExists: helm leaves an existing CRD alone, and so do we
                    raise
                continue
            created.append(body)
        deadline = time.monotonic() + timeout
        while waiting := _not_served(client, created):
            if time.monotonic() > deadline:
                raise ClusterError(f"CRD {waiting[0]} was created but is not served after {timeout:.0f} s",
                                   hint="check the CRD's status conditions (`kubectl describe crd`)")
            time.sleep(ESTABLISH_POLL)
    return len(created)


def _not_served(client: KubeClient, crds: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of ``crds`` whose resources discovery does not list yet, for every served version (what
    helm needs of an established CRD: one small discovery read per group-version, not the CRD itself)."""
    served: dict[str, set[str]] = {}
    waiting: list[str] = []
    for body in crds:
        spec = body.get("spec") or {}
        plural = str((spec.get("names") or {}).get("plural", ""))
        for version in [str(v.get("name")) for v in spec.get("versions") or () if isinstance(v, Mapping)
                        and v.get("served")]:
            path = f"/apis/{spec.get('group', '')}/{version}"
            if path not in served:
                served[path] = _plurals(client, path)
            if plural not in served[path]:
                waiting.append(str((body.get("metadata") or {}).get("name", "")))
                break
    return waiting


def _plurals(client: KubeClient, path: str) -> set[str]:
    try:
        doc = client.discovery(path)
    except KubeApiError as exc:
        if exc.status == 404:  # the group-version is not served yet
            return set()
        raise
    return {str(r.get("name", "")) for r in doc.get("resources") or () if isinstance(r, Mapping)}
