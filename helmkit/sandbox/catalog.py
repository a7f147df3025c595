"""The resource types a Kubernetes 1.34/1.35 API server serves, as ``kubectl api-resources`` lists them.

:data:`BUILTIN_TYPES` is the built-in catalog (scope, verbs, short names, categories and
subresources as a real server reports them in discovery); :func:`types_from_crd` adds the
served versions of a CustomResourceDefinition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FULL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)
READ_ONLY = ("get", "list")


@dataclass(frozen=True)
class ResourceType:
    """One resource of one group version, as discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version


def _t(
    group_version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool,
    verbs: tuple[str, ...] = FULL_VERBS,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
) -> ResourceType:
    group, _, version = group_version.rpartition("/")
    return ResourceType(group, version, kind, plural, kind.lower(), namespaced, verbs, short, categories, sub)


_ALL = ("all",)
_EXT = ("api-extensions",)
_STATUS = ("status",)
_SCALE = ("scale", "status")
_APPS = "apps/v1"
_ADMISSION = "admissionregistration.k8s.io/v1"
_AUTHZ = "authorization.k8s.io/v1"
_NET = "networking.k8s.io/v1"
_RBAC = "rbac.authorization.k8s.io/v1"
_STORAGE = "storage.k8s.io/v1"
_FLOW = "flowcontrol.apiserver.k8s.io/v1"
_DRA = "resource.k8s.io/v1"

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    # core v1
    _t("v1", "Binding", "bindings", namespaced=True, verbs=CREATE_ONLY),
    _t("v1", "ComponentStatus", "componentstatuses", namespaced=False, verbs=READ_ONLY, short=("cs",)),
    _t("v1", "ConfigMap", "configmaps", namespaced=True, short=("cm",)),
    _t("v1", "Endpoints", "endpoints", namespaced=True, short=("ep",)),
    _t("v1", "Event", "events", namespaced=True, short=("ev",)),
    _t("v1", "LimitRange", "limitranges", namespaced=True, short=("limits",)),
    _t("v1", "Namespace", "namespaces", namespaced=False, verbs=NO_COLLECTION_VERBS, short=("ns",),
       sub=("finalize", "status")),
    _t("v1", "Node", "nodes", namespaced=False, short=("no",), sub=("proxy", "status")),
    _t("v1", "PersistentVolumeClaim", "persistentvolumeclaims", namespaced=True, short=("pvc",), sub=_STATUS),
    _t("v1", "PersistentVolume", "persistentvolumes", namespaced=False, short=("pv",), sub=_STATUS),
    _t("v1", "Pod", "pods", namespaced=True, short=("po",), categories=_ALL,
       sub=("attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy",
            "resize", "status")),
    _t("v1", "PodTemplate", "podtemplates", namespaced=True),
    _t("v1", "ReplicationController", "replicationcontrollers", namespaced=True, short=("rc",), categories=_ALL,
       sub=_SCALE),
    _t("v1", "ResourceQuota", "resourcequotas", namespaced=True, short=("quota",), sub=_STATUS),
    _t("v1", "Secret", "secrets", namespaced=True),
    _t("v1", "ServiceAccount", "serviceaccounts", namespaced=True, short=("sa",), sub=("token",)),
    _t("v1", "Service", "services", namespaced=True, short=("svc",), categories=_ALL, sub=("proxy", "status")),
    # admissionregistration.k8s.io/v1
    _t(_ADMISSION, "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", namespaced=False,
       categories=_EXT),
    _t(_ADMISSION, "ValidatingAdmissionPolicy", "validatingadmissionpolicies", namespaced=False,
       categories=_EXT, sub=_STATUS),
    _t(_ADMISSION, "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", namespaced=False,
       categories=_EXT),
    _t(_ADMISSION, "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", namespaced=False,
       categories=_EXT),
    # extension APIs
    _t("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced=False,
       short=("crd", "crds"), categories=_EXT, sub=_STATUS),
    _t("apiregistration.k8s.io/v1", "APIService", "apiservices", namespaced=False, categories=_EXT, sub=_STATUS),
    # apps/v1
    _t(_APPS, "ControllerRevision", "controllerrevisions", namespaced=True),
    _t(_APPS, "DaemonSet", "daemonsets", namespaced=True, short=("ds",), categories=_ALL, sub=_STATUS),
    _t(_APPS, "Deployment", "deployments", namespaced=True, short=("deploy",), categories=_ALL, sub=_SCALE),
    _t(_APPS, "ReplicaSet", "replicasets", namespaced=True, short=("rs",), categories=_ALL, sub=_SCALE),
    _t(_APPS, "StatefulSet", "statefulsets", namespaced=True, short=("sts",), categories=_ALL, sub=_SCALE),
    # authentication / authorization reviews
    _t("authentication.k8s.io/v1", "SelfSubjectReview", "selfsubjectreviews", namespaced=False, verbs=CREATE_ONLY),
    _t("authentication.k8s.io/v1", "TokenReview", "tokenreviews", namespaced=False, verbs=CREATE_ONLY),
    _t(_AUTHZ, "LocalSubjectAccessReview", "localsubjectaccessreviews", namespaced=True, verbs=CREATE_ONLY),
    _t(_AUTHZ, "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced=False, verbs=CREATE_ONLY),
    _t(_AUTHZ, "SelfSubjectRulesReview", "selfsubjectrulesreviews", namespaced=False, verbs=CREATE_ONLY),
    _t(_AUTHZ, "SubjectAccessReview", "subjectaccessreviews", namespaced=False, verbs=CREATE_ONLY),
    # autoscaling (v2 is the preferred version)
    _t("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", namespaced=True, short=("hpa",),
       categories=_ALL, sub=_STATUS),
    _t("autoscaling/v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", namespaced=True, short=("hpa",),
       categories=_ALL, sub=_STATUS),
    # batch/v1
    _t("batch/v1", "CronJob", "cronjobs", namespaced=True, short=("cj",), categories=_ALL, sub=_STATUS),
    _t("batch/v1", "Job", "jobs", namespaced=True, categories=_ALL, sub=_STATUS),
    # certificates, coordination, discovery, events
    _t("certificates.k8s.io/v1", "CertificateSigningRequest", "certificatesigningrequests", namespaced=False,
       short=("csr",), sub=("approval", "status")),
    _t("coordination.k8s.io/v1", "Lease", "leases", namespaced=True),
    _t("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", namespaced=True),
    _t("events.k8s.io/v1", "Event", "events", namespaced=True, short=("ev",)),
    # flowcontrol.apiserver.k8s.io/v1
    _t(_FLOW, "FlowSchema", "flowschemas", namespaced=False, sub=_STATUS),
    _t(_FLOW, "PriorityLevelConfiguration", "prioritylevelconfigurations", namespaced=False, sub=_STATUS),
    # networking.k8s.io/v1
    _t(_NET, "IngressClass", "ingressclasses", namespaced=False),
    _t(_NET, "Ingress", "ingresses", namespaced=True, short=("ing",), sub=_STATUS),
    _t(_NET, "IPAddress", "ipaddresses", namespaced=False, short=("ip",)),
    _t(_NET, "NetworkPolicy", "networkpolicies", namespaced=True, short=("netpol",)),
    _t(_NET, "ServiceCIDR", "servicecidrs", namespaced=False, sub=_STATUS),
    # node, policy
    _t("node.k8s.io/v1", "RuntimeClass", "runtimeclasses", namespaced=False),
    _t("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", namespaced=True, short=("pdb",), sub=_STATUS),
    # rbac.authorization.k8s.io/v1
    _t(_RBAC, "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    _t(_RBAC, "ClusterRole", "clusterroles", namespaced=False),
    _t(_RBAC, "RoleBinding", "rolebindings", namespaced=True),
    _t(_RBAC, "Role", "roles", namespaced=True),
    # resource.k8s.io/v1 (dynamic resource allocation, GA in 1.34)
    _t(_DRA, "DeviceClass", "deviceclasses", namespaced=False),
    _t(_DRA, "ResourceClaim", "resourceclaims", namespaced=True, sub=_STATUS),
    _t(_DRA, "ResourceClaimTemplate", "resourceclaimtemplates", namespaced=True),
    _t(_DRA, "ResourceSlice", "resourceslices", namespaced=False),
    # scheduling, storage
    _t("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", namespaced=False, short=("pc",)),
    _t(_STORAGE, "CSIDriver", "csidrivers", namespaced=False),
    _t(_STORAGE, "CSINode", "csinodes", namespaced=False),
    _t(_STORAGE, "CSIStorageCapacity", "csistoragecapacities", namespaced=True),
    _t(_STORAGE, "StorageClass", "storageclasses", namespaced=False, short=("sc",)),
    _t(_STORAGE, "VolumeAttachment", "volumeattachments", namespaced=False, sub=_STATUS),
    _t(_STORAGE, "VolumeAttributesClass", "volumeattributesclasses", namespaced=False, short=("vac",)),
)

_BY_VERSION_KIND = {(t.group_version, t.kind): t for t in BUILTIN_TYPES}


def builtin_type(api_version: str, kind: str) -> ResourceType | None:
    """The built-in type of ``apiVersion``/``kind``, or None for custom resources and unknown kinds."""
    return _BY_VERSION_KIND.get((api_version, kind))


def find_resource(types: list[ResourceType] | tuple[ResourceType, ...], group: str, version: str,
                  plural: str) -> ResourceType | None:
    """The type served at ``/apis/{group}/{version}/{plural}`` (group "" for ``/api/v1``)."""
    for rtype in types:
        if rtype.group == group and rtype.version == version and rtype.plural == plural:
            return rtype
    return None


def group_versions(types: list[ResourceType] | tuple[ResourceType, ...]) -> dict[str, list[str]]:
    """Group name → served versions in order of preference (first is preferred), for ``/apis``."""
    groups: dict[str, list[str]] = {}
    for rtype in types:
        versions = groups.setdefault(rtype.group, [])
        if rtype.version not in versions:
            versions.append(rtype.version)
    return groups


def types_from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves: one per version with ``served: true``."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = str(spec.get("group", ""))
    kind = str(names.get("kind", ""))
    plural = str(names.get("plural", ""))
    if not group or not kind or not plural:
        return []
    singular = str(names.get("singular") or kind.lower())
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    short = tuple(str(n) for n in names.get("shortNames") or ())
    categories = tuple(str(c) for c in names.get("categories") or ())
    result = []
    for version in spec.get("versions") or ():
        if not version.get("served", False):
            continue
        subresources = tuple(sorted((version.get("subresources") or {}).keys()))
        result.append(
            ResourceType(group, str(version.get("name", "")), kind, plural, singular, namespaced, FULL_VERBS,
                         short, categories, subresources)
        )
    return result
