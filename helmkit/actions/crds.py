"""The CRDs of a chart's ``crds/`` folders (the chart's and its subcharts') and the ``crds`` policy.

Helm installs ``crds/`` once, on the first install, and never upgrades or deletes them. Each
release chooses, as Flux's HelmRelease does:

``Create`` (default)
    helm's behaviour. A CRD that changed in the chart is shown by ``diff`` as "not applied".
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
from collections.abc import Mapping, Sequence
from typing import Any

from helmkit.adapters.kube import KubeClient
from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.context import Context
from helmkit.plan.manifests import DocumentCache, ManifestObject, parse_documents, split_documents

CRD_API_VERSION = "apiextensions.k8s.io/v1"
CRD_KIND = "CustomResourceDefinition"
FIELD_MANAGER = "helmkit"
POLICIES = ("Skip", "Create", "CreateReplace")


def chart_crds(manifest: str | None, namespace: str, *, cache: DocumentCache | None = None) -> list[ManifestObject]:
    """The CRDs of the chart's (and its subcharts') ``crds/`` folders in a rendered manifest.

    Only the documents of ``crds/`` folders are read (by their ``# Source:`` line), each once per
    ``cache`` (the same chart on many clusters)."""
    if not manifest:
        return []
    if cache is None:
        return list(_chart_crds(manifest, namespace, None))
    found = cache.crds.get((manifest, namespace))
    if found is None:  # the same chart on many clusters: its manifest is split once
        found = cache.crds[(manifest, namespace)] = _chart_crds(manifest, namespace, cache)
    return list(found)


def _chart_crds(manifest: str, namespace: str, cache: DocumentCache | None) -> tuple[ManifestObject, ...]:
    documents = [d for d in split_documents(manifest) if d.from_crds_folder]
    if not documents:
        return ()
    parsed = parse_documents(documents, namespace, origin="rendered manifest", cache=cache)
    return tuple(obj for obj in parsed.crds if from_crds_folder(obj))


def from_crds_folder(obj: ManifestObject) -> bool:
    """A document of a ``crds/`` folder (helm's ``# Source: chart/crds/x.yaml``), not of ``templates/``."""
    parts = obj.source.split("/")
    return "crds" in parts[1:-1] and "templates" not in parts


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
