"""Server-side printing: the ``meta.k8s.io/v1`` Table kubectl and ``helm status`` ask for.

Clients send ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``; the server answers with
column definitions and one row of cells per object. Columns follow the API server's printers
for the common kinds (kubectl upper-cases the names); every other kind gets Name and Age.
Columns with priority 1 only show with ``kubectl get -o wide``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from helmkit.sandbox import tablecells as tc

Cell = str | int | float | bool | None
Column = tuple[str, str, int, str, Callable[[dict[str, Any]], Cell]]  # name, type, priority, description, cell


def human_age(seconds: float) -> str:
    """A duration as kubectl prints ages: ``45s``, ``3m5s``, ``12m``, ``5h``, ``2d3h``, ``400d``, ``3y``."""
    total = int(seconds)
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        rest = total % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = total // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def _parse_time(stamp: Any) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _get(obj: dict[str, Any], *path: str) -> Any:
    current: Any = obj
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def _count(value: Any) -> int:
    return len(value) if isinstance(value, dict | list) else 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _joined(values: list[str]) -> str:
    return ",".join(values) if values else "<none>"


# --------------------------------------------------------------------------------------------
# cells per kind


def _pod_ready(pod: dict[str, Any]) -> str:
    statuses = _get(pod, "status", "containerStatuses") or []
    ready = sum(1 for status in statuses if status.get("ready"))
    return f"{ready}/{_count(_get(pod, 'spec', 'containers'))}"


def _pod_status(pod: dict[str, Any]) -> str:
    if _get(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    for status in _get(pod, "status", "containerStatuses") or []:
        waiting = _get(status, "state", "waiting", "reason")
        if waiting:
            return str(waiting)
    return str(_get(pod, "status", "reason") or _get(pod, "status", "phase") or "Pending")


def _pod_restarts(pod: dict[str, Any]) -> str:
    return str(sum(_int(status.get("restartCount")) for status in _get(pod, "status", "containerStatuses") or []))


def _service_external_ip(svc: dict[str, Any]) -> str:
    kind = _get(svc, "spec", "type") or "ClusterIP"
    external = list(_get(svc, "spec", "externalIPs") or [])
    if kind == "ExternalName":
        return str(_get(svc, "spec", "externalName") or "<none>")
    if kind == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in _get(svc, "status", "loadBalancer", "ingress") or []]
        addresses = [str(a) for a in ingress if a] + external
        return ",".join(addresses) if addresses else "<pending>"
    return _joined(external)


def _service_ports(svc: dict[str, Any]) -> str:
    ports = []
    for port in _get(svc, "spec", "ports") or []:
        text = str(port.get("port", ""))
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        ports.append(f"{text}/{port.get('protocol', 'TCP')}")
    return _joined(ports)


def _selector(selector: Any) -> str:
    if not isinstance(selector, dict):
        return "<none>"
    labels = selector.get("matchLabels", selector) if "matchLabels" in selector else selector
    return _joined([f"{k}={v}" for k, v in labels.items() if isinstance(v, str)])


def _template_containers(obj: dict[str, Any], field: str) -> str:
    containers = _get(obj, "spec", "template", "spec", "containers") or []
    return ",".join(str(c.get(field, "")) for c in containers)


def _job_status(job: dict[str, Any]) -> str:
    for condition in _get(job, "status", "conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed", "Suspended"):
            return str(condition["type"])
    return "Running"


def _job_completions(job: dict[str, Any]) -> str:
    return f"{_int(_get(job, 'status', 'succeeded'))}/{_get(job, 'spec', 'completions') or 1}"


def _ingress_hosts(ing: dict[str, Any]) -> str:
    hosts = [str(rule.get("host")) for rule in _get(ing, "spec", "rules") or [] if rule.get("host")]
    return ",".join(hosts) if hosts else "*"


def _ingress_address(ing: dict[str, Any]) -> str:
    found = [i.get("ip") or i.get("hostname") for i in _get(ing, "status", "loadBalancer", "ingress") or []]
    return ",".join(str(a) for a in found if a)


def _ingress_ports(ing: dict[str, Any]) -> str:
    return "80, 443" if _get(ing, "spec", "tls") else "80"


def _column(name: str, cell: Callable[[dict[str, Any]], Cell], *, kind: str = "string", priority: int = 0,
            description: str = "") -> Column:
    return (name, kind, priority, description or name, cell)


_NAME = _column("Name", lambda o: str(_get(o, "metadata", "name") or ""),
                description="Name must be unique within a namespace.")
_READY_REPLICAS = _column(
    "Ready", lambda o: f"{_int(_get(o, 'status', 'readyReplicas'))}/{_int(_get(o, 'spec', 'replicas'))}"
)
_CONTAINERS = _column("Containers", lambda o: _template_containers(o, "name"), priority=1)
_IMAGES = _column("Images", lambda o: _template_containers(o, "image"), priority=1)
_AGE = _column("Age", lambda o: "")  # placed here instead of before the first wide column
_WORKLOAD_SELECTOR = _column("Selector", lambda o: _selector(_get(o, "spec", "selector")), priority=1)

_KIND_COLUMNS: dict[str, list[Column]] = {
    "Pod": [
        _NAME,
        _column("Ready", _pod_ready, description="The aggregate readiness state of this pod for accepting traffic."),
        _column("Status", _pod_status, description="The aggregate status of the containers in this pod."),
        _column("Restarts", _pod_restarts, description="The number of times the containers restarted."),
        _column("IP", lambda o: str(_get(o, "status", "podIP") or "<none>"), priority=1),
        _column("Node", lambda o: str(_get(o, "spec", "nodeName") or "<none>"), priority=1),
    ],
    "Service": [
        _NAME,
        _column("Type", lambda o: str(_get(o, "spec", "type") or "ClusterIP")),
        _column("Cluster-IP", lambda o: str(_get(o, "spec", "clusterIP") or "<none>")),
        _column("External-IP", _service_external_ip),
        _column("Port(s)", _service_ports),
        _column("Selector", lambda o: _selector(_get(o, "spec", "selector")), priority=1),
    ],
    "Deployment": [
        _NAME, _READY_REPLICAS,
        _column("Up-to-date", lambda o: _int(_get(o, "status", "updatedReplicas")), kind="integer"),
        _column("Available", lambda o: _int(_get(o, "status", "availableReplicas")), kind="integer"),
        _CONTAINERS, _IMAGES, _WORKLOAD_SELECTOR,
    ],
    "ReplicaSet": [
        _NAME,
        _column("Desired", lambda o: _int(_get(o, "spec", "replicas")), kind="integer"),
        _column("Current", lambda o: _int(_get(o, "status", "replicas")), kind="integer"),
        _column("Ready", lambda o: _int(_get(o, "status", "readyReplicas")), kind="integer"),
        _CONTAINERS, _IMAGES, _WORKLOAD_SELECTOR,
    ],
    "StatefulSet": [_NAME, _READY_REPLICAS, _CONTAINERS, _IMAGES],
    "DaemonSet": [
        _NAME,
        _column("Desired", lambda o: _int(_get(o, "status", "desiredNumberScheduled")), kind="integer"),
        _column("Current", lambda o: _int(_get(o, "status", "currentNumberScheduled")), kind="integer"),
        _column("Ready", lambda o: _int(_get(o, "status", "numberReady")), kind="integer"),
        _column("Up-to-date", lambda o: _int(_get(o, "status", "updatedNumberScheduled")), kind="integer"),
        _column("Available", lambda o: _int(_get(o, "status", "numberAvailable")), kind="integer"),
        _column("Node Selector", lambda o: _selector(_get(o, "spec", "template", "spec", "nodeSelector"))),
    ],
    "Job": [
        _NAME,
        _column("Status", _job_status),
        _column("Completions", _job_completions),
    ],
    "CronJob": [
        _NAME,
        _column("Schedule", lambda o: str(_get(o, "spec", "schedule") or "")),
        _column("Timezone", lambda o: str(_get(o, "spec", "timeZone") or "<none>")),
        _column("Suspend", lambda o: bool(_get(o, "spec", "suspend")), kind="boolean"),
        _column("Active", lambda o: _count(_get(o, "status", "active")), kind="integer"),
    ],
    "ConfigMap": [
        _NAME,
        _column("Data", lambda o: _count(o.get("data")) + _count(o.get("binaryData")), kind="integer"),
    ],
    "Secret": [
        _NAME,
        _column("Type", lambda o: str(o.get("type") or "Opaque")),
        _column("Data", lambda o: _count(o.get("data")), kind="integer"),
    ],
    "Namespace": [_NAME, _column("Status", lambda o: str(_get(o, "status", "phase") or "Active"))],
    "ServiceAccount": [_NAME, _column("Secrets", lambda o: _count(o.get("secrets")), kind="integer")],
    "PersistentVolumeClaim": [
        _NAME,
        _column("Status", lambda o: str(_get(o, "status", "phase") or "Pending")),
        _column("Volume", lambda o: str(_get(o, "spec", "volumeName") or "")),
        _column("Capacity", lambda o: str(_get(o, "status", "capacity", "storage") or "")),
        _column("Access Modes", lambda o: ",".join(_get(o, "status", "accessModes") or [])),
        _column("StorageClass", lambda o: str(_get(o, "spec", "storageClassName") or "<unset>")),
    ],
    "APIService": [_NAME, _column("Service", tc.api_service_target),
                   _column("Available", tc.api_service_available)],
    "ValidatingWebhookConfiguration": [_NAME, _column("Webhooks", lambda o: _count(o.get("webhooks")), kind="integer")],
    "MutatingWebhookConfiguration": [_NAME, _column("Webhooks", lambda o: _count(o.get("webhooks")), kind="integer")],
    "PriorityClass": [
        _NAME, _column("Value", lambda o: _int(o.get("value")), kind="integer"),
        _column("Global-Default", lambda o: bool(o.get("globalDefault")), kind="boolean"), _AGE,
        _column("PreemptionPolicy", lambda o: str(o.get("preemptionPolicy") or "")),
    ],
    "RuntimeClass": [_NAME, _column("Handler", lambda o: str(o.get("handler") or ""))],
    "IngressClass": [
        _NAME, _column("Controller", lambda o: str(_get(o, "spec", "controller") or "")),
        _column("Parameters", tc.ingress_class_parameters),
    ],
    "StorageClass": [
        _column("Name", tc.storage_class_name), _column("Provisioner", lambda o: str(o.get("provisioner") or "")),
        _column("ReclaimPolicy", lambda o: str(o.get("reclaimPolicy") or "")),
        _column("VolumeBindingMode", lambda o: str(o.get("volumeBindingMode") or "")),
        _column("AllowVolumeExpansion", lambda o: bool(o.get("allowVolumeExpansion")), kind="boolean"),
    ],
    "PodDisruptionBudget": [
        _NAME, _column("Min Available", lambda o: tc.int_or_na(_get(o, "spec", "minAvailable"))),
        _column("Max Unavailable", lambda o: tc.int_or_na(_get(o, "spec", "maxUnavailable"))),
        _column("Allowed Disruptions", lambda o: _int(_get(o, "status", "disruptionsAllowed")), kind="integer"),
    ],
    "HorizontalPodAutoscaler": [
        _NAME,
        _column("Reference", lambda o: f"{_get(o, 'spec', 'scaleTargetRef', 'kind')}/"
                                       f"{_get(o, 'spec', 'scaleTargetRef', 'name')}"),
        _column("Targets", tc.hpa_targets),
        _column("MinPods", lambda o: _int(_get(o, "spec", "minReplicas") or 1), kind="integer"),
        _column("MaxPods", lambda o: _int(_get(o, "spec", "maxReplicas")), kind="integer"),
        _column("Replicas", lambda o: _int(_get(o, "status", "currentReplicas")), kind="integer"),
    ],
    "Ingress": [
        _NAME,
        _column("Class", lambda o: str(_get(o, "spec", "ingressClassName") or "<none>")),
        _column("Hosts", _ingress_hosts),
        _column("Address", _ingress_address),
        _column("Ports", _ingress_ports),
    ],
}


def _printer_column(spec: dict[str, Any]) -> Column:
    """A CRD ``additionalPrinterColumns`` entry (simple ``.a.b`` JSON paths)."""
    path = [part for part in str(spec.get("jsonPath", "")).split(".") if part]
    kind = str(spec.get("type", "string"))

    def cell(obj: dict[str, Any]) -> Cell:
        value = _get(obj, *path)
        return value if isinstance(value, str | int | float | bool) else None

    return _column(str(spec.get("name", "")), cell, kind=kind, priority=int(spec.get("priority", 0)),
                   description=str(spec.get("description", "")))


def columns_for(kind: str, printer_columns: list[dict[str, Any]] | None = None) -> list[Column]:
    """Name, the kind's own columns (or a CRD's printer columns) and Age."""
    if printer_columns:
        wanted = [spec for spec in printer_columns if spec.get("jsonPath") != ".metadata.creationTimestamp"]
        return [_NAME, *(_printer_column(spec) for spec in wanted)]
    return _KIND_COLUMNS.get(kind, [_NAME])


def _partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def to_table(
    rtype_kind: str,
    objects: list[dict[str, Any]],
    *,
    include_object: str = "Metadata",
    now: datetime | str,
    resource_version: str = "",
    printer_columns: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objects`` (``include_object``: Object, Metadata or None).

    ``now`` (a datetime or an RFC 3339 text) is the moment ages are measured from.
    """
    moment = now if isinstance(now, datetime) else _parse_time(now)
    if moment is None:
        raise ValueError(f"not an RFC 3339 time: {now!r}")
    columns = columns_for(rtype_kind, printer_columns)
    names = [column[0] for column in columns]
    placed_age = names.index("Age") if "Age" in names and not printer_columns else None
    if placed_age is not None:
        columns = [column for column in columns if column[0] != "Age"]
    definitions = [
        {"name": name, "type": kind, "format": "name" if index == 0 else "", "description": description,
         "priority": priority}
        for index, (name, kind, priority, description, _cell) in enumerate(columns)
    ]
    age_at = placed_age if placed_age is not None else \
        next((i for i, d in enumerate(definitions) if d["priority"]), len(definitions))
    definitions.insert(age_at, {"name": "Age", "type": "string", "format": "", "priority": 0,
                                "description": "CreationTimestamp is the time this object was created."})
    rows = []
    for obj in objects:
        cells: list[Cell] = [cell(obj) for _name, _kind, _priority, _description, cell in columns]
        created = _parse_time(_get(obj, "metadata", "creationTimestamp"))
        cells.insert(age_at, human_age((moment - created).total_seconds()) if created else "<unknown>")
        row: dict[str, Any] = {"cells": cells}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _partial_metadata(obj)
        rows.append(row)
    metadata = {"resourceVersion": resource_version} if resource_version else {}
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": definitions, "rows": rows}
