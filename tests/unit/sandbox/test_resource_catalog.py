"""The built-in resource catalog and CustomResourceDefinition types."""

from __future__ import annotations

from collections import Counter

import pytest

from helmkit.sandbox.catalog import (
    BUILTIN_TYPES,
    ResourceType,
    builtin_type,
    find_resource,
    group_versions,
    types_from_crd,
)


def by_resource(group_version: str, plural: str) -> ResourceType:
    group, _, version = group_version.rpartition("/")
    found = find_resource(BUILTIN_TYPES, group, version, plural)
    assert found is not None, f"{group_version} {plural} missing"
    return found


@pytest.mark.parametrize(
    ("group_version", "plural", "kind", "namespaced", "short"),
    [
        ("v1", "pods", "Pod", True, ("po",)),
        ("v1", "services", "Service", True, ("svc",)),
        ("v1", "configmaps", "ConfigMap", True, ("cm",)),
        ("v1", "secrets", "Secret", True, ()),
        ("v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
        ("v1", "namespaces", "Namespace", False, ("ns",)),
        ("v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",)),
        ("v1", "persistentvolumes", "PersistentVolume", False, ("pv",)),
        ("v1", "nodes", "Node", False, ("no",)),
        ("v1", "endpoints", "Endpoints", True, ("ep",)),
        ("v1", "events", "Event", True, ("ev",)),
        ("v1", "componentstatuses", "ComponentStatus", False, ("cs",)),
        ("apps/v1", "deployments", "Deployment", True, ("deploy",)),
        ("apps/v1", "statefulsets", "StatefulSet", True, ("sts",)),
        ("apps/v1", "daemonsets", "DaemonSet", True, ("ds",)),
        ("apps/v1", "replicasets", "ReplicaSet", True, ("rs",)),
        ("batch/v1", "cronjobs", "CronJob", True, ("cj",)),
        ("batch/v1", "jobs", "Job", True, ()),
        ("autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ("hpa",)),
        ("autoscaling/v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ("hpa",)),
        ("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",)),
        ("networking.k8s.io/v1", "ingresses", "Ingress", True, ("ing",)),
        ("networking.k8s.io/v1", "ingressclasses", "IngressClass", False, ()),
        ("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
        ("networking.k8s.io/v1", "servicecidrs", "ServiceCIDR", False, ()),
        ("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False, ()),
        ("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True, ()),
        ("apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", False, ("crd", "crds")),
        ("apiregistration.k8s.io/v1", "apiservices", "APIService", False, ()),
        ("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False,
         ()),
        ("admissionregistration.k8s.io/v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding",
         False, ()),
        ("scheduling.k8s.io/v1", "priorityclasses", "PriorityClass", False, ("pc",)),
        ("coordination.k8s.io/v1", "leases", "Lease", True, ()),
        ("storage.k8s.io/v1", "storageclasses", "StorageClass", False, ("sc",)),
        ("storage.k8s.io/v1", "csidrivers", "CSIDriver", False, ()),
        ("storage.k8s.io/v1", "csistoragecapacities", "CSIStorageCapacity", True, ()),
        ("discovery.k8s.io/v1", "endpointslices", "EndpointSlice", True, ()),
        ("certificates.k8s.io/v1", "certificatesigningrequests", "CertificateSigningRequest", False, ("csr",)),
        ("events.k8s.io/v1", "events", "Event", True, ("ev",)),
        ("node.k8s.io/v1", "runtimeclasses", "RuntimeClass", False, ()),
        ("flowcontrol.apiserver.k8s.io/v1", "flowschemas", "FlowSchema", False, ()),
    ],
)
def test_builtin_resources(group_version: str, plural: str, kind: str, namespaced: bool,
                           short: tuple[str, ...]) -> None:
    rtype = by_resource(group_version, plural)
    assert rtype.kind == kind
    assert rtype.namespaced is namespaced
    assert rtype.short_names == short
    assert rtype.api_version == group_version == rtype.group_version
    assert rtype.singular == kind.lower()


def test_categories_and_subresources() -> None:
    in_all = {t.plural for t in BUILTIN_TYPES if "all" in t.categories}
    assert in_all == {"pods", "services", "replicationcontrollers", "deployments", "replicasets", "statefulsets",
                      "daemonsets", "jobs", "cronjobs", "horizontalpodautoscalers"}
    assert "scale" in by_resource("apps/v1", "deployments").subresources
    assert "status" in by_resource("apps/v1", "deployments").subresources
    assert {"log", "exec", "status", "eviction"} <= set(by_resource("v1", "pods").subresources)
    assert by_resource("v1", "serviceaccounts").subresources == ("token",)
    assert "api-extensions" in by_resource("apiextensions.k8s.io/v1", "customresourcedefinitions").categories


def test_verbs() -> None:
    assert by_resource("authorization.k8s.io/v1", "selfsubjectaccessreviews").verbs == ("create",)
    assert by_resource("authentication.k8s.io/v1", "tokenreviews").verbs == ("create",)
    assert by_resource("v1", "componentstatuses").verbs == ("get", "list")
    assert "deletecollection" not in by_resource("v1", "namespaces").verbs
    assert set(by_resource("apps/v1", "deployments").verbs) == {
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}


def test_no_duplicates_and_short_names_unique_per_group() -> None:
    keys = Counter((t.group, t.version, t.plural) for t in BUILTIN_TYPES)
    assert [key for key, count in keys.items() if count > 1] == []
    short = Counter((t.group, name) for t in BUILTIN_TYPES for name in t.short_names
                    if not (t.group == "autoscaling" and t.version == "v1"))
    assert [key for key, count in short.items() if count > 1] == []


def test_builtin_type_lookup_and_preferred_versions() -> None:
    assert builtin_type("apps/v1", "Deployment") == by_resource("apps/v1", "deployments")
    assert builtin_type("example.com/v1", "Widget") is None
    groups = group_versions(BUILTIN_TYPES)
    assert groups["autoscaling"] == ["v2", "v1"]
    assert groups[""] == ["v1"]
    assert "apiregistration.k8s.io" in groups


def test_types_from_crd_served_versions_only() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"],
                      "categories": ["all"]},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "subresources": {"status": {}, "scale": {}}},
                {"name": "v1beta1", "served": True, "storage": False},
                {"name": "v1alpha1", "served": False, "storage": False},
            ],
        },
    }
    types = types_from_crd(crd)
    assert [t.version for t in types] == ["v1", "v1beta1"]
    v1 = types[0]
    assert (v1.group, v1.kind, v1.plural, v1.singular, v1.namespaced) == ("example.com", "Widget", "widgets",
                                                                          "widget", True)
    assert v1.short_names == ("wd",)
    assert v1.categories == ("all",)
    assert v1.subresources == ("scale", "status")
    assert v1.api_version == "example.com/v1"
    assert types[1].subresources == ()


def test_types_from_cluster_scoped_and_incomplete_crds() -> None:
    crd = {"spec": {"group": "example.com", "scope": "Cluster", "names": {"plural": "things", "kind": "Thing"},
                    "versions": [{"name": "v1", "served": True}]}}
    (thing,) = types_from_crd(crd)
    assert thing.namespaced is False
    assert thing.singular == "thing"
    assert types_from_crd({"spec": {"group": "example.com"}}) == []
