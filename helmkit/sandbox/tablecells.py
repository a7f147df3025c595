"""Table cells of the extension and policy kinds (APIService, webhook configurations, PriorityClass,
IngressClass, StorageClass, PodDisruptionBudget, HorizontalPodAutoscaler), as kubectl prints them."""

from __future__ import annotations

from typing import Any


def _get(obj: dict[str, Any], *path: str) -> Any:
    node: Any = obj
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return node


def api_service_available(obj: dict[str, Any]) -> str:
    for cond in _get(obj, "status", "conditions") or ():
        if isinstance(cond, dict) and cond.get("type") == "Available":
            status = str(cond.get("status", "Unknown"))
            return status if status == "True" else f"{status} ({cond.get('reason', '')})"
    return "Unknown"


def api_service_target(obj: dict[str, Any]) -> str:
    service = _get(obj, "spec", "service")
    return f"{service.get('namespace', '')}/{service.get('name', '')}" if isinstance(service, dict) else "Local"


def ingress_class_parameters(obj: dict[str, Any]) -> str:
    params = _get(obj, "spec", "parameters")
    if not isinstance(params, dict):
        return "<none>"
    group = f".{params['apiGroup']}" if params.get("apiGroup") else ""
    return f"{params.get('kind', '')}{group}/{params.get('name', '')}"


def int_or_na(value: Any) -> str:
    return "N/A" if value is None else str(value)


def hpa_targets(obj: dict[str, Any]) -> str:
    targets = []
    for metric in _get(obj, "spec", "metrics") or ():
        resource = metric.get("resource") if isinstance(metric, dict) else None
        if isinstance(resource, dict):
            target = resource.get("target") or {}
            wanted = f"{target['averageUtilization']}%" if "averageUtilization" in target else \
                str(target.get("averageValue") or target.get("value") or "")
            targets.append(f"{resource.get('name', '')}: <unknown>/{wanted}")
        elif isinstance(metric, dict):
            targets.append(f"<unknown>/{metric.get('type', '')}")
    return ", ".join(targets) or "<none>"


def storage_class_name(obj: dict[str, Any]) -> str:
    annotations = _get(obj, "metadata", "annotations") or {}
    default = annotations.get("storageclass.kubernetes.io/is-default-class") == "true"
    return str(_get(obj, "metadata", "name") or "") + (" (default)" if default else "")
