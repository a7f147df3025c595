"""Apply the server defaults of :mod:`helmkit.sandbox.defaults` to an object being stored.

:func:`apply` runs on every write of a built-in kind (create, update, every patch type and
server-side apply), after the request body is merged with the live object, as a real API server
defaults an object when it decodes it. Null fields of built-in kinds are dropped first (Go
structs have no nulls). The computed defaults live here, named as the table names them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helmkit.sandbox import defaults as table
from helmkit.sandbox import quantity
from helmkit.sandbox.defaults import UNSET, Computed, Each, Nested, Value

Obj = dict[str, Any]

# kinds whose bodies hold free-form JSON where a null is data
_KEEP_NULLS = frozenset({"CustomResourceDefinition", "ControllerRevision"})


@dataclass(frozen=True)
class Context:
    """What computed defaults may look at besides the node: the whole object and the live one."""

    obj: Obj
    old: Obj | None

    @property
    def name(self) -> str:
        return str(self.obj["metadata"].get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace", ""))

    def old_node(self, *path: str) -> Obj:
        node: Any = self.old or {}
        for name in path:
            node = node.get(name) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}


def type_of(group: str, version: str, kind: str) -> str | None:
    """The table's type for a kind (some kinds default differently per version)."""
    return table.KINDS.get((f"{group}/{version}", kind)) or table.KINDS.get((group, kind))


def apply(group: str, version: str, kind: str, obj: Obj, old: Obj | None) -> Obj:
    """``obj`` with the defaults of its kind filled in (changed in place and returned)."""
    type_name = type_of(group, version, kind)
    if kind not in _KEEP_NULLS:
        _drop_nulls(obj)
    if type_name is not None:
        _apply_type(type_name, obj, Context(obj, old))
    return obj


def schema_defaults(node: Any, schema: Obj, *, top: bool = False) -> None:
    """Fill in the ``default`` values of a structural OpenAPI schema (a CRD's), as the server does for
    custom resources: absent properties get their default, then defaulting descends into
    properties, ``additionalProperties`` and array ``items`` (never into ``metadata``)."""
    if isinstance(node, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if not isinstance(prop, dict) or (top and name in ("apiVersion", "kind", "metadata")):
                continue
            if node.get(name) is None and "default" in prop:
                node[name] = copy.deepcopy(prop["default"])
            if name in node:
                schema_defaults(node[name], prop)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, value in node.items():
                if key not in (schema.get("properties") or {}):
                    schema_defaults(value, extra)
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        for item in node:
            schema_defaults(item, schema["items"])


def _drop_nulls(node: Any) -> None:
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if v is None]:
            del node[key]
        for value in node.values():
            _drop_nulls(value)
    elif isinstance(node, list):
        for item in node:
            _drop_nulls(item)


def _unset(value: Any, *, string: bool, zero: bool) -> bool:
    return value is None or (string and value == "") or (zero and value == 0 and not isinstance(value, bool))


def _holds(when: tuple[str, tuple[Any, ...]] | None, node: Obj) -> bool:
    if when is None:
        return True
    name, values = when
    value = node.get(name)
    return value in values or (UNSET in values and value in (None, ""))


def _apply_type(type_name: str, node: Obj, ctx: Context) -> None:
    for rule in table.TYPES[type_name]:
        if isinstance(rule, Value):
            if _holds(rule.when, node) and _unset(node.get(rule.field), string=isinstance(rule.default, str),
                                                  zero=rule.zero):
                node[rule.field] = copy.deepcopy(rule.default)
        elif isinstance(rule, Nested):
            if not _holds(rule.when, node):
                continue
            child = node.get(rule.field)
            if child is None and rule.create:
                child = node[rule.field] = {}
            if isinstance(child, dict):
                _apply_type(rule.type, child, ctx)
        elif isinstance(rule, Each):
            for item in node.get(rule.field) or ():
                if isinstance(item, dict):
                    _apply_type(rule.type, item, ctx)
        elif isinstance(rule, Computed) and _holds(rule.when, node):
            COMPUTED[rule.name](node, ctx)


# ---- computed defaults -----------------------------------------------------------------------


def image_tag(image: str) -> str:
    """The tag of an image reference as the kubelet reads it ("latest" when neither tag nor digest)."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    return tag or ("" if digest else "latest")


def _image_pull_policy(node: Obj, ctx: Context) -> None:
    if not node.get("imagePullPolicy"):
        tag = image_tag(str(node.get("image") or ""))
        node["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"


_VOLUME_NON_SOURCE = frozenset({"name"})


def _empty_dir_volume(node: Obj, ctx: Context) -> None:
    if not set(node) - _VOLUME_NON_SOURCE:
        node["emptyDir"] = {}


def _canonical_quantities(node: Obj, ctx: Context) -> None:
    for name in ("limits", "requests", "hard"):
        if isinstance(node.get(name), dict):
            node[name] = quantity.canonical_list(node[name])
    if "sizeLimit" in node:
        node["sizeLimit"] = quantity.canonical(node["sizeLimit"])


def _pod_requests_from_limits(node: Obj, ctx: Context) -> None:
    for container in [*(node.get("containers") or ()), *(node.get("initContainers") or ())]:
        resources = container.get("resources") if isinstance(container, dict) else None
        limits = resources.get("limits") if isinstance(resources, dict) else None
        if isinstance(limits, dict) and limits:
            requests = resources.setdefault("requests", {})  # type: ignore[union-attr]
            for key, value in limits.items():
                requests.setdefault(key, value)


def _selector_from_template(node: Obj, ctx: Context) -> None:
    labels = ((node.get("template") or {}).get("metadata") or {}).get("labels")
    if labels and not node.get("selector"):
        node["selector"] = dict(labels)


def _session_affinity_config(node: Obj, ctx: Context) -> None:
    if node.get("sessionAffinity") == "None":
        node.pop("sessionAffinityConfig", None)
    elif node.get("sessionAffinity") == "ClientIP":
        config = node.setdefault("sessionAffinityConfig", {}).setdefault("clientIP", {})
        config.setdefault("timeoutSeconds", 10800)


def _target_port(node: Obj, ctx: Context) -> None:
    if node.get("targetPort") in (None, 0, ""):
        node["targetPort"] = node.get("port")


def cluster_ip(namespace: str, name: str) -> str:
    """The cluster IP the sandbox allocates to a Service (stable per namespace/name)."""
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return f"{table.SERVICE_IP_PREFIX}{digest[0]}.{max(digest[1], 1)}"


def _node_port(namespace: str, name: str, port: Any, protocol: Any) -> int:
    digest = hashlib.sha256(f"{namespace}/{name}/{port}/{protocol}".encode()).digest()
    return table.NODE_PORT_BASE + int.from_bytes(digest[:4], "big") % table.NODE_PORT_COUNT


def _service_allocations(spec: Obj, ctx: Context) -> None:
    """What the Service registry allocates: cluster IPs and IP families, node ports."""
    old = ctx.old_node("spec")
    kind = spec.get("type")
    if kind == "ExternalName":
        return
    ip = spec.get("clusterIP") or old.get("clusterIP") or cluster_ip(ctx.namespace, ctx.name)
    spec["clusterIP"] = ip
    if not spec.get("clusterIPs") or spec["clusterIPs"][0] != ip:
        spec["clusterIPs"] = [ip]
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = list(old.get("ipFamilies") or ["IPv4"])
    if not spec.get("ipFamilyPolicy"):
        spec["ipFamilyPolicy"] = old.get("ipFamilyPolicy") or "SingleStack"
    ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
    wants_node_ports = kind == "NodePort" or (kind == "LoadBalancer"
                                               and spec.get("allocateLoadBalancerNodePorts") is not False)
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                 for p in old.get("ports") or () if isinstance(p, dict)}
    for port in ports:
        if not wants_node_ports:
            if kind in ("ClusterIP", None):
                port.pop("nodePort", None)
            continue
        if not port.get("nodePort"):
            key = (port.get("port"), port.get("protocol", "TCP"))
            port["nodePort"] = old_ports.get(key) or _node_port(ctx.namespace, ctx.name, *key)
    if kind == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local" and not spec.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = old.get("healthCheckNodePort") or _node_port(ctx.namespace, ctx.name,
                                                                                  "health", "TCP")


def _secret_string_data(node: Obj, ctx: Context) -> None:
    string_data = node.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = dict(node.get("data") or {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        node["data"] = data


def _namespace_name_label(node: Obj, ctx: Context) -> None:
    labels = node["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = node["metadata"]["name"]
    node.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])


def _namespace_status(node: Obj, ctx: Context) -> None:
    node.setdefault("status", {})["phase"] = "Active"


def _job_labels_from_template(node: Obj, ctx: Context) -> None:
    labels = (((node.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
    if labels and not node["metadata"].get("labels"):
        node["metadata"]["labels"] = dict(labels)


def _job_completions(node: Obj, ctx: Context) -> None:
    if node.get("completions") is None and node.get("parallelism") is None:
        node["completions"] = 1
        node["parallelism"] = 1


def _job_backoff_limit(node: Obj, ctx: Context) -> None:
    if node.get("backoffLimit") is None:
        node["backoffLimit"] = 2**31 - 1 if node.get("backoffLimitPerIndex") is not None else 6


def _job_pod_replacement_policy(node: Obj, ctx: Context) -> None:
    if node.get("podReplacementPolicy") is None:
        node["podReplacementPolicy"] = "Failed" if node.get("podFailurePolicy") else "TerminatingOrFailed"


def _job_selector(node: Obj, ctx: Context) -> None:
    """The Job registry's generated selector and pod labels (unless ``manualSelector``)."""
    if node.get("manualSelector") is True:
        return
    uid = str(ctx.obj["metadata"].get("uid") or (ctx.old or {}).get("metadata", {}).get("uid") or "")
    if not uid:
        return
    node["selector"] = ctx.old_node("spec", "selector") or {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template = node.setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": ctx.name,
                   "controller-uid": uid, "job-name": ctx.name})


def _hpa_default_metrics(node: Obj, ctx: Context) -> None:
    if not node.get("metrics"):
        node["metrics"] = copy.deepcopy(table.HPA_DEFAULT_METRICS)


def _hpa_behavior(node: Obj, ctx: Context) -> None:
    behavior = node.get("behavior")
    if not isinstance(behavior, dict):
        return
    for name, rules in (("scaleUp", table.HPA_SCALE_UP), ("scaleDown", table.HPA_SCALE_DOWN)):
        given = behavior.get(name)
        behavior[name] = {**copy.deepcopy(rules), **(given if isinstance(given, dict) else {})}


def _network_policy_types(node: Obj, ctx: Context) -> None:
    if not node.get("policyTypes"):
        node["policyTypes"] = ["Ingress", "Egress"] if node.get("egress") else ["Ingress"]


def _subject_api_group(node: Obj, ctx: Context) -> None:
    if not node.get("apiGroup") and node.get("kind") in ("User", "Group"):
        node["apiGroup"] = "rbac.authorization.k8s.io"


def _csi_lifecycle_modes(node: Obj, ctx: Context) -> None:
    if not node.get("volumeLifecycleModes"):
        node["volumeLifecycleModes"] = ["Persistent"]


def _admission_review_versions(node: Obj, ctx: Context) -> None:
    if not node.get("admissionReviewVersions"):
        node["admissionReviewVersions"] = ["v1"]


COMPUTED: dict[str, Callable[[Obj, Context], None]] = {
    "image_pull_policy": _image_pull_policy,
    "empty_dir_volume": _empty_dir_volume,
    "pod_requests_from_limits": _pod_requests_from_limits,
    "canonical_quantities": _canonical_quantities,
    "selector_from_template": _selector_from_template,
    "session_affinity_config": _session_affinity_config,
    "target_port": _target_port,
    "service_allocations": _service_allocations,
    "secret_string_data": _secret_string_data,
    "namespace_name_label": _namespace_name_label,
    "namespace_status": _namespace_status,
    "job_labels_from_template": _job_labels_from_template,
    "job_completions": _job_completions,
    "job_backoff_limit": _job_backoff_limit,
    "job_pod_replacement_policy": _job_pod_replacement_policy,
    "job_selector": _job_selector,
    "hpa_default_metrics": _hpa_default_metrics,
    "hpa_behavior": _hpa_behavior,
    "network_policy_types": _network_policy_types,
    "subject_api_group": _subject_api_group,
    "csi_lifecycle_modes": _csi_lifecycle_modes,
    "admission_review_versions": _admission_review_versions,
}
