"""The defaults a Kubernetes 1.34 API server fills in, as one table.

Written from the Kubernetes API reference and the defaulting functions of the API server
(``pkg/apis/*/v1/defaults.go``, the declarative ``+default`` markers of ``k8s.io/api``, and the
registry strategies that allocate or derive fields: Service IPs and node ports, Job selectors).
:mod:`helmkit.sandbox.defaulting` applies the table on create, update, patch and server-side
apply, as the real server does when it decodes a request.

:data:`KINDS` maps a built-in kind to its type in :data:`TYPES`; a type is a sequence of rules
applied in order to one object node (rules may depend on the fields earlier rules set):

- ``Value(field, default)``: set ``default`` when the field is absent or null, and also when it
  is ``""`` for string defaults (Go reads an empty string as unset); ``zero=True`` treats ``0``
  as unset too (non-pointer integers such as a probe's ``periodSeconds``).
- ``Nested(field, type)``: apply ``type`` to the map under ``field``; ``create=True`` makes an
  empty map first when the field is absent (a non-pointer struct, or a pointer the server fills).
- ``Each(field, type)``: apply ``type`` to every item of the list under ``field``.
- ``Computed(name)``: a default derived from other fields (``imagePullPolicy`` from the image
  tag, ``targetPort`` from ``port``, a Service's cluster IP...): a function of
  :mod:`helmkit.sandbox.defaulting` by that name.

``when=(field, values)`` limits a rule to nodes whose ``field`` holds one of ``values``
(``UNSET`` stands for an absent, null or empty value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNSET = ""
When = tuple[str, tuple[Any, ...]] | None


@dataclass(frozen=True)
class Value:
    field: str
    default: Any
    zero: bool = False
    when: When = None


@dataclass(frozen=True)
class Nested:
    field: str
    type: str
    create: bool = False
    when: When = None


@dataclass(frozen=True)
class Each:
    field: str
    type: str


@dataclass(frozen=True)
class Computed:
    name: str
    when: When = None


Rule = Value | Nested | Each | Computed
_ROLLING = ("type", ("RollingUpdate",))

TYPES: dict[str, tuple[Rule, ...]] = {
    "Empty": (),
    # ---- core/v1: pods and their parts ------------------------------------------------------
    "PodTemplateSpec": (Nested("spec", "PodSpec"),),
    "PodSpec": (
        Value("dnsPolicy", "ClusterFirst"),
        Value("restartPolicy", "Always"),
        Nested("securityContext", "Empty", create=True),
        Value("terminationGracePeriodSeconds", 30),
        Value("schedulerName", "default-scheduler"),
        Each("containers", "Container"),
        Each("initContainers", "Container"),
        Each("volumes", "Volume"),
    ),
    "Container": (
        Computed("image_pull_policy"),
        Value("terminationMessagePath", "/dev/termination-log"),
        Value("terminationMessagePolicy", "File"),
        Nested("resources", "ResourceRequirements", create=True),
        Each("ports", "ContainerPort"),
        Each("env", "EnvVar"),
        Nested("livenessProbe", "Probe"),
        Nested("readinessProbe", "Probe"),
        Nested("startupProbe", "Probe"),
    ),
    "ContainerPort": (Value("protocol", "TCP"),),
    # quantities are stored canonical (cpu: 0.5 -> 500m, memory: 1024Mi -> 1Gi), rounded up to milli
    "ResourceRequirements": (Computed("canonical_quantities"),),
    "EnvVar": (Nested("valueFrom", "EnvVarSource"),),
    "EnvVarSource": (Nested("fieldRef", "ObjectFieldSelector"),),
    "ObjectFieldSelector": (Value("apiVersion", "v1"),),
    "Probe": (
        Value("timeoutSeconds", 1, zero=True),
        Value("periodSeconds", 10, zero=True),
        Value("successThreshold", 1, zero=True),
        Value("failureThreshold", 3, zero=True),
        Nested("httpGet", "HTTPGetAction"),
    ),
    "HTTPGetAction": (Value("path", "/"), Value("scheme", "HTTP")),
    "Volume": (
        Computed("empty_dir_volume"),
        Nested("secret", "DefaultMode"),
        Nested("configMap", "DefaultMode"),
        Nested("downwardAPI", "DownwardAPIVolume"),
        Nested("projected", "ProjectedVolume"),
        Nested("hostPath", "HostPathVolume"),
        Nested("emptyDir", "EmptyDirVolume"),
    ),
    "EmptyDirVolume": (Computed("canonical_quantities"),),
    "DefaultMode": (Value("defaultMode", 420),),
    "DownwardAPIVolume": (Value("defaultMode", 420), Each("items", "DownwardAPIFile")),
    "DownwardAPIFile": (Nested("fieldRef", "ObjectFieldSelector"),),
    "ProjectedVolume": (Value("defaultMode", 420), Each("sources", "VolumeProjection")),
    "VolumeProjection": (
        Nested("serviceAccountToken", "ServiceAccountTokenProjection"),
        Nested("downwardAPI", "ProjectedDownwardAPI"),
    ),
    "ProjectedDownwardAPI": (Each("items", "DownwardAPIFile"),),
    "ServiceAccountTokenProjection": (Value("expirationSeconds", 3600),),
    "HostPathVolume": (Value("type", ""),),
    "Pod": (
        Nested("spec", "PodSpec", create=True),
        Nested("spec", "PodOnly"),
    ),
    "PodOnly": (
        Value("enableServiceLinks", True),
        Value("serviceAccountName", "default"),
        Value("priority", 0),
        Value("preemptionPolicy", "PreemptLowerPriority"),
        Computed("pod_requests_from_limits"),
    ),
    "PodTemplate": (Nested("template", "PodTemplateSpec"),),
    "ReplicationController": (Nested("spec", "ReplicationControllerSpec", create=True),),
    "ReplicationControllerSpec": (
        Value("replicas", 1),
        Computed("selector_from_template"),
        Nested("template", "PodTemplateSpec"),
    ),
    # ---- core/v1: services, storage, config -------------------------------------------------
    "Service": (Nested("spec", "ServiceSpec", create=True), Nested("status", "ServiceStatus", create=True)),
    "ServiceSpec": (
        Value("sessionAffinity", "None"),
        Computed("session_affinity_config"),
        Value("type", "ClusterIP"),
        Each("ports", "ServicePort"),
        Computed("service_allocations"),
        Value("externalTrafficPolicy", "Cluster", when=("type", ("NodePort", "LoadBalancer"))),
        Value("internalTrafficPolicy", "Cluster", when=("type", ("ClusterIP", "NodePort", "LoadBalancer"))),
        Value("allocateLoadBalancerNodePorts", True, when=("type", ("LoadBalancer",))),
    ),
    "ServicePort": (Value("protocol", "TCP"), Computed("target_port")),
    "ServiceStatus": (Nested("loadBalancer", "Empty", create=True),),
    "PersistentVolumeClaim": (
        Nested("spec", "PersistentVolumeClaimSpec", create=True),
        Nested("status", "ClaimStatus", create=True),
    ),
    "PersistentVolumeClaimTemplate": (
        Value("apiVersion", "v1"),
        Value("kind", "PersistentVolumeClaim"),
        Nested("spec", "PersistentVolumeClaimSpec", create=True),
        Nested("status", "ClaimStatus", create=True),
    ),
    "PersistentVolumeClaimSpec": (
        Value("volumeMode", "Filesystem"),
        Nested("resources", "ResourceRequirements"),
    ),
    "ResourceQuota": (Nested("spec", "ResourceQuotaSpec"),),
    "ResourceQuotaSpec": (Computed("canonical_quantities"),),
    "ClaimStatus": (Value("phase", "Pending"),),
    "PersistentVolume": (Nested("spec", "PersistentVolumeSpec", create=True),),
    "PersistentVolumeSpec": (
        Value("persistentVolumeReclaimPolicy", "Retain"),
        Value("volumeMode", "Filesystem"),
        Nested("hostPath", "HostPathVolume"),
    ),
    "Secret": (Computed("secret_string_data"), Value("type", "Opaque")),
    "Namespace": (Computed("namespace_name_label"), Computed("namespace_status")),
    "Endpoints": (Each("subsets", "EndpointSubset"),),
    "EndpointSubset": (Each("ports", "ContainerPort"),),
    # ---- apps/v1 ----------------------------------------------------------------------------
    "Deployment": (Nested("spec", "DeploymentSpec", create=True),),
    "DeploymentSpec": (
        Value("replicas", 1),
        Nested("strategy", "DeploymentStrategy", create=True),
        Value("revisionHistoryLimit", 10),
        Value("progressDeadlineSeconds", 600),
        Nested("template", "PodTemplateSpec"),
    ),
    "DeploymentStrategy": (
        Value("type", "RollingUpdate"),
        Nested("rollingUpdate", "RollingUpdateDeployment", create=True, when=_ROLLING),
    ),
    "RollingUpdateDeployment": (Value("maxUnavailable", "25%"), Value("maxSurge", "25%")),
    "DaemonSet": (Nested("spec", "DaemonSetSpec", create=True),),
    "DaemonSetSpec": (
        Nested("updateStrategy", "DaemonSetUpdateStrategy", create=True),
        Value("revisionHistoryLimit", 10),
        Nested("template", "PodTemplateSpec"),
    ),
    "DaemonSetUpdateStrategy": (
        Value("type", "RollingUpdate"),
        Nested("rollingUpdate", "RollingUpdateDaemonSet", create=True, when=_ROLLING),
    ),
    "RollingUpdateDaemonSet": (Value("maxUnavailable", 1), Value("maxSurge", 0)),
    "StatefulSet": (Nested("spec", "StatefulSetSpec", create=True),),
    "StatefulSetSpec": (
        Value("podManagementPolicy", "OrderedReady"),
        Nested("updateStrategy", "StatefulSetUpdateStrategy", create=True),
        Nested("persistentVolumeClaimRetentionPolicy", "ClaimRetentionPolicy", create=True),
        Value("replicas", 1),
        Value("revisionHistoryLimit", 10),
        Nested("template", "PodTemplateSpec"),
        Each("volumeClaimTemplates", "PersistentVolumeClaimTemplate"),
    ),
    "StatefulSetUpdateStrategy": (
        # rollingUpdate is made only when the type itself is defaulted
        Nested("rollingUpdate", "Empty", create=True, when=("type", (UNSET,))),
        Value("type", "RollingUpdate"),
        Nested("rollingUpdate", "RollingUpdateStatefulSet", when=_ROLLING),
    ),
    "RollingUpdateStatefulSet": (Value("partition", 0),),
    "ClaimRetentionPolicy": (Value("whenDeleted", "Retain"), Value("whenScaled", "Retain")),
    "ReplicaSet": (Nested("spec", "ReplicaSetSpec", create=True),),
    "ReplicaSetSpec": (Value("replicas", 1), Nested("template", "PodTemplateSpec")),
    # ---- batch/v1 ---------------------------------------------------------------------------
    # a Job's labels come from its pod template's: before the generated selector labels are added,
    # and again when it is read back (defaulting runs on every decode) if it still has none
    "Job": (
        Computed("job_labels_from_template"),
        Nested("spec", "JobSpec", create=True),
        Computed("job_labels_from_template"),
    ),
    "JobSpec": (
        Computed("job_completions"),
        Value("parallelism", 1),
        Computed("job_backoff_limit"),
        Value("completionMode", "NonIndexed"),
        Value("suspend", False),
        Computed("job_pod_replacement_policy"),
        Value("manualSelector", False),
        Computed("job_selector"),
        Nested("template", "PodTemplateSpec"),
    ),
    "CronJob": (Nested("spec", "CronJobSpec", create=True),),
    "CronJobSpec": (
        Value("concurrencyPolicy", "Allow"),
        Value("suspend", False),
        Value("successfulJobsHistoryLimit", 3),
        Value("failedJobsHistoryLimit", 1),
        Nested("jobTemplate", "JobTemplateSpec"),
    ),
    # a CronJob's job template gets only the pod template's defaults (the Job ones apply to Jobs)
    "JobTemplateSpec": (Nested("spec", "JobTemplateJobSpec"),),
    "JobTemplateJobSpec": (Nested("template", "PodTemplateSpec"),),
    # ---- autoscaling ------------------------------------------------------------------------
    "HorizontalPodAutoscalerV2": (Nested("spec", "HorizontalPodAutoscalerSpecV2", create=True),),
    "HorizontalPodAutoscalerSpecV2": (
        Value("minReplicas", 1),
        Computed("hpa_default_metrics"),
        Computed("hpa_behavior"),
    ),
    "HorizontalPodAutoscalerV1": (Nested("spec", "HorizontalPodAutoscalerSpecV1", create=True),),
    "HorizontalPodAutoscalerSpecV1": (Value("minReplicas", 1),),
    # ---- networking, policy, rbac, scheduling, storage, admission, aggregation --------------
    "NetworkPolicy": (Nested("spec", "NetworkPolicySpec", create=True),),
    "NetworkPolicySpec": (
        Computed("network_policy_types"),
        Each("ingress", "NetworkPolicyRule"),
        Each("egress", "NetworkPolicyRule"),
    ),
    "NetworkPolicyRule": (Each("ports", "ContainerPort"),),
    "IngressClass": (Nested("spec", "IngressClassSpec"),),
    "IngressClassSpec": (Nested("parameters", "IngressClassParameters"),),
    "IngressClassParameters": (Value("scope", "Cluster"),),
    "EndpointSlice": (Each("ports", "ContainerPort"),),
    "RoleBinding": (Each("subjects", "Subject"),),
    "Subject": (Computed("subject_api_group"),),
    "PriorityClass": (Value("preemptionPolicy", "PreemptLowerPriority"),),
    "StorageClass": (Value("reclaimPolicy", "Delete"), Value("volumeBindingMode", "Immediate")),
    "CSIDriver": (Nested("spec", "CSIDriverSpec", create=True),),
    "CSIDriverSpec": (
        Value("attachRequired", True),
        Value("podInfoOnMount", False),
        Computed("csi_lifecycle_modes"),
        Value("storageCapacity", False),
        Value("fsGroupPolicy", "ReadWriteOnceWithFSType"),
        Value("requiresRepublish", False),
        Value("seLinuxMount", False),
    ),
    "ValidatingWebhookConfiguration": (Each("webhooks", "ValidatingWebhook"),),
    "MutatingWebhookConfiguration": (Each("webhooks", "MutatingWebhook"),),
    "ValidatingWebhook": (
        Value("failurePolicy", "Fail"),
        Value("matchPolicy", "Equivalent"),
        Nested("namespaceSelector", "Empty", create=True),
        Nested("objectSelector", "Empty", create=True),
        Value("sideEffects", "Unknown"),
        Value("timeoutSeconds", 30),
        Computed("admission_review_versions"),
        Each("rules", "AdmissionRule"),
        Nested("clientConfig", "WebhookClientConfig"),
    ),
    "MutatingWebhook": (
        Value("failurePolicy", "Fail"),
        Value("matchPolicy", "Equivalent"),
        Nested("namespaceSelector", "Empty", create=True),
        Nested("objectSelector", "Empty", create=True),
        Value("sideEffects", "Unknown"),
        Value("timeoutSeconds", 30),
        Value("reinvocationPolicy", "Never"),
        Computed("admission_review_versions"),
        Each("rules", "AdmissionRule"),
        Nested("clientConfig", "WebhookClientConfig"),
    ),
    "AdmissionRule": (Value("scope", "*"),),
    "WebhookClientConfig": (Nested("service", "ServiceReference"),),
    "ServiceReference": (Value("port", 443),),
    "APIService": (Nested("spec", "APIServiceSpec"),),
    "APIServiceSpec": (Nested("service", "ServiceReference"),),
}

# (group, kind) or (group/version, kind) -> the type of the whole object
KINDS: dict[tuple[str, str], str] = {
    ("", "Pod"): "Pod",
    ("", "PodTemplate"): "PodTemplate",
    ("", "ReplicationController"): "ReplicationController",
    ("", "Service"): "Service",
    ("", "PersistentVolumeClaim"): "PersistentVolumeClaim",
    ("", "PersistentVolume"): "PersistentVolume",
    ("", "Secret"): "Secret",
    ("", "Namespace"): "Namespace",
    ("", "Endpoints"): "Endpoints",
    ("", "ResourceQuota"): "ResourceQuota",
    ("apps", "Deployment"): "Deployment",
    ("apps", "DaemonSet"): "DaemonSet",
    ("apps", "StatefulSet"): "StatefulSet",
    ("apps", "ReplicaSet"): "ReplicaSet",
    ("batch", "Job"): "Job",
    ("batch", "CronJob"): "CronJob",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "HorizontalPodAutoscalerV2",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "HorizontalPodAutoscalerV1",
    ("networking.k8s.io", "NetworkPolicy"): "NetworkPolicy",
    ("networking.k8s.io", "IngressClass"): "IngressClass",
    ("discovery.k8s.io", "EndpointSlice"): "EndpointSlice",
    ("rbac.authorization.k8s.io", "RoleBinding"): "RoleBinding",
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): "RoleBinding",
    ("scheduling.k8s.io", "PriorityClass"): "PriorityClass",
    ("storage.k8s.io", "StorageClass"): "StorageClass",
    ("storage.k8s.io", "CSIDriver"): "CSIDriver",
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): "ValidatingWebhookConfiguration",
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): "MutatingWebhookConfiguration",
    ("apiregistration.k8s.io", "APIService"): "APIService",
}

# Kinds with no server defaults (stored as sent), listed so that the table is the one place to look:
# ConfigMap, ServiceAccount, Ingress (networking.k8s.io/v1: pathType is required, not defaulted),
# PodDisruptionBudget (policy/v1), Role, ClusterRole, RuntimeClass, Lease, CustomResourceDefinition.
NO_DEFAULTS = ("ConfigMap", "ServiceAccount", "Ingress", "PodDisruptionBudget", "Role", "ClusterRole",
               "RuntimeClass", "Lease", "CustomResourceDefinition")

# HPA autoscaling/v2 behavior: the rules a scaleUp / scaleDown gets when behavior is set
HPA_SCALE_UP = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                             {"type": "Percent", "value": 100, "periodSeconds": 15}]}
HPA_SCALE_DOWN = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
HPA_DEFAULT_METRICS = [{"type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]

# Service allocations: the service CIDR and node port range of the sandbox's clusters
SERVICE_IP_PREFIX = "10.96."
NODE_PORT_BASE, NODE_PORT_COUNT = 30000, 2768
