"""Field numbers of the Kubernetes protobuf messages the sandbox decodes (typed clients such as
``kubectl create deployment|service|job|cronjob|serviceaccount|role|rolebinding|priorityclass|quota|
poddisruptionbudget|ingress`` send protobuf bodies).

One message a line (continuation lines start with spaces): its name, then ``number:jsonName:type``
per field, taken from ``k8s.io/api`` v0.34 ``*/v1/generated.proto`` (status messages left out:
clients do not send status). Types: ``s`` string, ``i`` integer, ``b`` bool, ``q`` resource
quantity, ``o`` int-or-string, ``.Name`` a message of this table, ``Ms``/``Mq`` a map of strings /
quantities; ``*`` marks a repeated field and ``^`` an embedded struct whose fields JSON inlines.
``ObjectMeta`` and ``LabelSelector`` are meta/v1 messages read by :mod:`helmkit.sandbox.protobuf`.
"""

from __future__ import annotations

SCHEMA = """
LabelSelector 1:matchLabels:Ms 2:matchExpressions:.LabelSelectorRequirement*
LabelSelectorRequirement 1:key:s 2:operator:s 3:values:s*
AWSElasticBlockStoreVolumeSource 1:volumeID:s 2:fsType:s 3:partition:i 4:readOnly:b
Affinity 1:nodeAffinity:.NodeAffinity 2:podAffinity:.PodAffinity 3:podAntiAffinity:.PodAntiAffinity
AggregationRule 1:clusterRoleSelectors:.LabelSelector*
AppArmorProfile 1:type:s 2:localhostProfile:s
AzureDiskVolumeSource 1:diskName:s 2:diskURI:s 3:cachingMode:s 4:fsType:s 5:readOnly:b 6:kind:s
AzureFileVolumeSource 1:secretName:s 2:shareName:s 3:readOnly:b
CSIVolumeSource 1:driver:s 2:readOnly:b 3:fsType:s 4:volumeAttributes:Ms
    5:nodePublishSecretRef:.LocalObjectReference
Capabilities 1:add:s* 2:drop:s*
CephFSVolumeSource 1:monitors:s* 2:path:s 3:user:s 4:secretFile:s 5:secretRef:.LocalObjectReference 6:readOnly:b
CinderVolumeSource 1:volumeID:s 2:fsType:s 3:readOnly:b 4:secretRef:.LocalObjectReference
ClientIPConfig 1:timeoutSeconds:i
ClusterRole 1:metadata:.ObjectMeta 2:rules:.PolicyRule* 3:aggregationRule:.AggregationRule
ClusterRoleBinding 1:metadata:.ObjectMeta 2:subjects:.Subject* 3:roleRef:.RoleRef
ClusterTrustBundleProjection 1:name:s 2:signerName:s 3:labelSelector:.LabelSelector 4:path:s 5:optional:b
ConfigMapEnvSource 1:localObjectReference:^.LocalObjectReference 2:optional:b
ConfigMapKeySelector 1:localObjectReference:^.LocalObjectReference 2:key:s 3:optional:b
ConfigMapProjection 1:localObjectReference:^.LocalObjectReference 2:items:.KeyToPath* 4:optional:b
ConfigMapVolumeSource 1:localObjectReference:^.LocalObjectReference 2:items:.KeyToPath* 3:defaultMode:i 4:optional:b
Container 1:name:s 2:image:s 3:command:s* 4:args:s* 5:workingDir:s 6:ports:.ContainerPort* 7:env:.EnvVar*
    8:resources:.ResourceRequirements 9:volumeMounts:.VolumeMount* 10:livenessProbe:.Probe 11:readinessProbe:.Probe
    12:lifecycle:.Lifecycle 13:terminationMessagePath:s 14:imagePullPolicy:s 15:securityContext:.SecurityContext
    16:stdin:b 17:stdinOnce:b 18:tty:b 19:envFrom:.EnvFromSource* 20:terminationMessagePolicy:s
    21:volumeDevices:.VolumeDevice* 22:startupProbe:.Probe 23:resizePolicy:.ContainerResizePolicy*
    24:restartPolicy:s 25:restartPolicyRules:.ContainerRestartRule*
ContainerPort 1:name:s 2:hostPort:i 3:containerPort:i 4:protocol:s 5:hostIP:s
ContainerResizePolicy 1:resourceName:s 2:restartPolicy:s
ContainerRestartRule 1:action:s 2:exitCodes:.ContainerRestartRuleOnExitCodes
ContainerRestartRuleOnExitCodes 1:operator:s 2:values:i*
CronJob 1:metadata:.ObjectMeta 2:spec:.CronJobSpec
CronJobSpec 1:schedule:s 2:startingDeadlineSeconds:i 3:concurrencyPolicy:s 4:suspend:b
    5:jobTemplate:.JobTemplateSpec 6:successfulJobsHistoryLimit:i 7:failedJobsHistoryLimit:i 8:timeZone:s
DaemonSet 1:metadata:.ObjectMeta 2:spec:.DaemonSetSpec
DaemonSetSpec 1:selector:.LabelSelector 2:template:.PodTemplateSpec 3:updateStrategy:.DaemonSetUpdateStrategy
    4:minReadySeconds:i 6:revisionHistoryLimit:i
DaemonSetUpdateStrategy 1:type:s 2:rollingUpdate:.RollingUpdateDaemonSet
Deployment 1:metadata:.ObjectMeta 2:spec:.DeploymentSpec
DeploymentSpec 1:replicas:i 2:selector:.LabelSelector 3:template:.PodTemplateSpec 4:strategy:.DeploymentStrategy
    5:minReadySeconds:i 6:revisionHistoryLimit:i 7:paused:b 9:progressDeadlineSeconds:i
DeploymentStrategy 1:type:s 2:rollingUpdate:.RollingUpdateDeployment
DownwardAPIProjection 1:items:.DownwardAPIVolumeFile*
DownwardAPIVolumeFile 1:path:s 2:fieldRef:.ObjectFieldSelector 3:resourceFieldRef:.ResourceFieldSelector 4:mode:i
DownwardAPIVolumeSource 1:items:.DownwardAPIVolumeFile* 2:defaultMode:i
EmptyDirVolumeSource 1:medium:s 2:sizeLimit:q
EndpointAddress 1:ip:s 2:targetRef:.ObjectReference 3:hostname:s 4:nodeName:s
EndpointPort 1:name:s 2:port:i 3:protocol:s 4:appProtocol:s
EndpointSubset 1:addresses:.EndpointAddress* 2:notReadyAddresses:.EndpointAddress* 3:ports:.EndpointPort*
Endpoints 1:metadata:.ObjectMeta 2:subsets:.EndpointSubset*
EnvFromSource 1:prefix:s 2:configMapRef:.ConfigMapEnvSource 3:secretRef:.SecretEnvSource
EnvVar 1:name:s 2:value:s 3:valueFrom:.EnvVarSource
EnvVarSource 1:fieldRef:.ObjectFieldSelector 2:resourceFieldRef:.ResourceFieldSelector
    3:configMapKeyRef:.ConfigMapKeySelector 4:secretKeyRef:.SecretKeySelector 5:fileKeyRef:.FileKeySelector
EphemeralContainer 1:ephemeralContainerCommon:^.EphemeralContainerCommon 2:targetContainerName:s
EphemeralContainerCommon 1:name:s 2:image:s 3:command:s* 4:args:s* 5:workingDir:s 6:ports:.ContainerPort*
    7:env:.EnvVar* 8:resources:.ResourceRequirements 9:volumeMounts:.VolumeMount* 10:livenessProbe:.Probe
    11:readinessProbe:.Probe 12:lifecycle:.Lifecycle 13:terminationMessagePath:s 14:imagePullPolicy:s
    15:securityContext:.SecurityContext 16:stdin:b 17:stdinOnce:b 18:tty:b 19:envFrom:.EnvFromSource*
    20:terminationMessagePolicy:s 21:volumeDevices:.VolumeDevice* 22:startupProbe:.Probe
    23:resizePolicy:.ContainerResizePolicy* 24:restartPolicy:s 25:restartPolicyRules:.ContainerRestartRule*
EphemeralVolumeSource 1:volumeClaimTemplate:.PersistentVolumeClaimTemplate
ExecAction 1:command:s*
FCVolumeSource 1:targetWWNs:s* 2:lun:i 3:fsType:s 4:readOnly:b 5:wwids:s*
FileKeySelector 1:volumeName:s 2:path:s 3:key:s 4:optional:b
FlexVolumeSource 1:driver:s 2:fsType:s 3:secretRef:.LocalObjectReference 4:readOnly:b 5:options:Ms
FlockerVolumeSource 1:datasetName:s 2:datasetUUID:s
GCEPersistentDiskVolumeSource 1:pdName:s 2:fsType:s 3:partition:i 4:readOnly:b
GRPCAction 1:port:i 2:service:s
GitRepoVolumeSource 1:repository:s 2:revision:s 3:directory:s
GlusterfsVolumeSource 1:endpoints:s 2:path:s 3:readOnly:b
HTTPGetAction 1:path:s 2:port:o 3:host:s 4:scheme:s 5:httpHeaders:.HTTPHeader*
HTTPHeader 1:name:s 2:value:s
HTTPIngressPath 1:path:s 2:backend:.IngressBackend 3:pathType:s
HTTPIngressRuleValue 1:paths:.HTTPIngressPath*
HostAlias 1:ip:s 2:hostnames:s*
HostPathVolumeSource 1:path:s 2:type:s
IPBlock 1:cidr:s 2:except:s*
ISCSIVolumeSource 1:targetPortal:s 2:iqn:s 3:lun:i 4:iscsiInterface:s 5:fsType:s 6:readOnly:b 7:portals:s*
    8:chapAuthDiscovery:b 10:secretRef:.LocalObjectReference 11:chapAuthSession:b 12:initiatorName:s
ImageVolumeSource 1:reference:s 2:pullPolicy:s
Ingress 1:metadata:.ObjectMeta 2:spec:.IngressSpec
IngressBackend 3:resource:.TypedLocalObjectReference 4:service:.IngressServiceBackend
IngressClass 1:metadata:.ObjectMeta 2:spec:.IngressClassSpec
IngressClassParametersReference 1:aPIGroup:s 2:kind:s 3:name:s 4:scope:s 5:namespace:s
IngressClassSpec 1:controller:s 2:parameters:.IngressClassParametersReference
IngressRule 1:host:s 2:ingressRuleValue:^.IngressRuleValue
IngressRuleValue 1:http:.HTTPIngressRuleValue
IngressServiceBackend 1:name:s 2:port:.ServiceBackendPort
IngressSpec 1:defaultBackend:.IngressBackend 2:tls:.IngressTLS* 3:rules:.IngressRule* 4:ingressClassName:s
IngressTLS 1:hosts:s* 2:secretName:s
Job 1:metadata:.ObjectMeta 2:spec:.JobSpec
JobSpec 1:parallelism:i 2:completions:i 3:activeDeadlineSeconds:i 4:selector:.LabelSelector 5:manualSelector:b
    6:template:.PodTemplateSpec 7:backoffLimit:i 8:ttlSecondsAfterFinished:i 9:completionMode:s 10:suspend:b
    11:podFailurePolicy:.PodFailurePolicy 12:backoffLimitPerIndex:i 13:maxFailedIndexes:i 14:podReplacementPolicy:s
    15:managedBy:s 16:successPolicy:.SuccessPolicy
JobTemplateSpec 1:metadata:.ObjectMeta 2:spec:.JobSpec
KeyToPath 1:key:s 2:path:s 3:mode:i
Lifecycle 1:postStart:.LifecycleHandler 2:preStop:.LifecycleHandler 3:stopSignal:s
LifecycleHandler 1:exec:.ExecAction 2:httpGet:.HTTPGetAction 3:tcpSocket:.TCPSocketAction 4:sleep:.SleepAction
LocalObjectReference 1:name:s
NFSVolumeSource 1:server:s 2:path:s 3:readOnly:b
NetworkPolicy 1:metadata:.ObjectMeta 2:spec:.NetworkPolicySpec
NetworkPolicyEgressRule 1:ports:.NetworkPolicyPort* 2:to:.NetworkPolicyPeer*
NetworkPolicyIngressRule 1:ports:.NetworkPolicyPort* 2:from:.NetworkPolicyPeer*
NetworkPolicyPeer 1:podSelector:.LabelSelector 2:namespaceSelector:.LabelSelector 3:ipBlock:.IPBlock
NetworkPolicyPort 1:protocol:s 2:port:o 3:endPort:i
NetworkPolicySpec 1:podSelector:.LabelSelector 2:ingress:.NetworkPolicyIngressRule*
    3:egress:.NetworkPolicyEgressRule* 4:policyTypes:s*
NodeAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:.NodeSelector
    2:preferredDuringSchedulingIgnoredDuringExecution:.PreferredSchedulingTerm*
NodeSelector 1:nodeSelectorTerms:.NodeSelectorTerm*
NodeSelectorRequirement 1:key:s 2:operator:s 3:values:s*
NodeSelectorTerm 1:matchExpressions:.NodeSelectorRequirement* 2:matchFields:.NodeSelectorRequirement*
ObjectFieldSelector 1:apiVersion:s 2:fieldPath:s
ObjectReference 1:kind:s 2:namespace:s 3:name:s 4:uid:s 5:apiVersion:s 6:resourceVersion:s 7:fieldPath:s
PersistentVolumeClaim 1:metadata:.ObjectMeta 2:spec:.PersistentVolumeClaimSpec
PersistentVolumeClaimSpec 1:accessModes:s* 2:resources:.VolumeResourceRequirements 3:volumeName:s
    4:selector:.LabelSelector 5:storageClassName:s 6:volumeMode:s 7:dataSource:.TypedLocalObjectReference
    8:dataSourceRef:.TypedObjectReference 9:volumeAttributesClassName:s
PersistentVolumeClaimTemplate 1:metadata:.ObjectMeta 2:spec:.PersistentVolumeClaimSpec
PersistentVolumeClaimVolumeSource 1:claimName:s 2:readOnly:b
PhotonPersistentDiskVolumeSource 1:pdID:s 2:fsType:s
Pod 1:metadata:.ObjectMeta 2:spec:.PodSpec
PodAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:.PodAffinityTerm*
    2:preferredDuringSchedulingIgnoredDuringExecution:.WeightedPodAffinityTerm*
PodAffinityTerm 1:labelSelector:.LabelSelector 2:namespaces:s* 3:topologyKey:s 4:namespaceSelector:.LabelSelector
    5:matchLabelKeys:s* 6:mismatchLabelKeys:s*
PodAntiAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:.PodAffinityTerm*
    2:preferredDuringSchedulingIgnoredDuringExecution:.WeightedPodAffinityTerm*
PodCertificateProjection 1:signerName:s 2:keyType:s 3:maxExpirationSeconds:i 4:credentialBundlePath:s 5:keyPath:s
    6:certificateChainPath:s
PodDNSConfig 1:nameservers:s* 2:searches:s* 3:options:.PodDNSConfigOption*
PodDNSConfigOption 1:name:s 2:value:s
PodDisruptionBudget 1:metadata:.ObjectMeta 2:spec:.PodDisruptionBudgetSpec
PodDisruptionBudgetSpec 1:minAvailable:o 2:selector:.LabelSelector 3:maxUnavailable:o 4:unhealthyPodEvictionPolicy:s
PodFailurePolicy 1:rules:.PodFailurePolicyRule*
PodFailurePolicyOnExitCodesRequirement 1:containerName:s 2:operator:s 3:values:i*
PodFailurePolicyOnPodConditionsPattern 1:type:s 2:status:s
PodFailurePolicyRule 1:action:s 2:onExitCodes:.PodFailurePolicyOnExitCodesRequirement
    3:onPodConditions:.PodFailurePolicyOnPodConditionsPattern*
PodOS 1:name:s
PodReadinessGate 1:conditionType:s
PodResourceClaim 1:name:s 3:resourceClaimName:s 4:resourceClaimTemplateName:s
PodSchedulingGate 1:name:s
PodSecurityContext 1:seLinuxOptions:.SELinuxOptions 2:runAsUser:i 3:runAsNonRoot:b 4:supplementalGroups:i*
    5:fsGroup:i 6:runAsGroup:i 7:sysctls:.Sysctl* 8:windowsOptions:.WindowsSecurityContextOptions
    9:fsGroupChangePolicy:s 10:seccompProfile:.SeccompProfile 11:appArmorProfile:.AppArmorProfile
    12:supplementalGroupsPolicy:s 13:seLinuxChangePolicy:s
PodSpec 1:volumes:.Volume* 2:containers:.Container* 3:restartPolicy:s 4:terminationGracePeriodSeconds:i
    5:activeDeadlineSeconds:i 6:dnsPolicy:s 7:nodeSelector:Ms 8:serviceAccountName:s 9:serviceAccount:s
    10:nodeName:s 11:hostNetwork:b 12:hostPID:b 13:hostIPC:b 14:securityContext:.PodSecurityContext
    15:imagePullSecrets:.LocalObjectReference* 16:hostname:s 17:subdomain:s 18:affinity:.Affinity 19:schedulerName:s
    20:initContainers:.Container* 21:automountServiceAccountToken:b 22:tolerations:.Toleration*
    23:hostAliases:.HostAlias* 24:priorityClassName:s 25:priority:i 26:dnsConfig:.PodDNSConfig
    27:shareProcessNamespace:b 28:readinessGates:.PodReadinessGate* 29:runtimeClassName:s 30:enableServiceLinks:b
    31:preemptionPolicy:s 32:overhead:Mq 33:topologySpreadConstraints:.TopologySpreadConstraint*
    34:ephemeralContainers:.EphemeralContainer* 35:setHostnameAsFQDN:b 36:os:.PodOS 37:hostUsers:b
    38:schedulingGates:.PodSchedulingGate* 39:resourceClaims:.PodResourceClaim* 40:resources:.ResourceRequirements
    41:hostnameOverride:s
PodTemplateSpec 1:metadata:.ObjectMeta 2:spec:.PodSpec
PolicyRule 1:verbs:s* 2:apiGroups:s* 3:resources:s* 4:resourceNames:s* 5:nonResourceURLs:s*
PortworxVolumeSource 1:volumeID:s 2:fsType:s 3:readOnly:b
PreferredSchedulingTerm 1:weight:i 2:preference:.NodeSelectorTerm
PriorityClass 1:metadata:.ObjectMeta 2:value:i 3:globalDefault:b 4:description:s 5:preemptionPolicy:s
Probe 1:handler:^.ProbeHandler 2:initialDelaySeconds:i 3:timeoutSeconds:i 4:periodSeconds:i 5:successThreshold:i
    6:failureThreshold:i 7:terminationGracePeriodSeconds:i
ProbeHandler 1:exec:.ExecAction 2:httpGet:.HTTPGetAction 3:tcpSocket:.TCPSocketAction 4:grpc:.GRPCAction
ProjectedVolumeSource 1:sources:.VolumeProjection* 2:defaultMode:i
QuobyteVolumeSource 1:registry:s 2:volume:s 3:readOnly:b 4:user:s 5:group:s 6:tenant:s
RBDVolumeSource 1:monitors:s* 2:image:s 3:fsType:s 4:pool:s 5:user:s 6:keyring:s 7:secretRef:.LocalObjectReference
    8:readOnly:b
ReplicaSet 1:metadata:.ObjectMeta 2:spec:.ReplicaSetSpec
ReplicaSetSpec 1:replicas:i 2:selector:.LabelSelector 3:template:.PodTemplateSpec 4:minReadySeconds:i
ResourceClaim 1:name:s 2:request:s
ResourceFieldSelector 1:containerName:s 2:resource:s 3:divisor:q
ResourceQuota 1:metadata:.ObjectMeta 2:spec:.ResourceQuotaSpec
ResourceQuotaSpec 1:hard:Mq 2:scopes:s* 3:scopeSelector:.ScopeSelector
ResourceRequirements 1:limits:Mq 2:requests:Mq 3:claims:.ResourceClaim*
Role 1:metadata:.ObjectMeta 2:rules:.PolicyRule*
RoleBinding 1:metadata:.ObjectMeta 2:subjects:.Subject* 3:roleRef:.RoleRef
RoleRef 1:apiGroup:s 2:kind:s 3:name:s
RollingUpdateDaemonSet 1:maxUnavailable:o 2:maxSurge:o
RollingUpdateDeployment 1:maxUnavailable:o 2:maxSurge:o
RollingUpdateStatefulSetStrategy 1:partition:i 2:maxUnavailable:o
SELinuxOptions 1:user:s 2:role:s 3:type:s 4:level:s
ScaleIOVolumeSource 1:gateway:s 2:system:s 3:secretRef:.LocalObjectReference 4:sslEnabled:b 5:protectionDomain:s
    6:storagePool:s 7:storageMode:s 8:volumeName:s 9:fsType:s 10:readOnly:b
ScopeSelector 1:matchExpressions:.ScopedResourceSelectorRequirement*
ScopedResourceSelectorRequirement 1:scopeName:s 2:operator:s 3:values:s*
SeccompProfile 1:type:s 2:localhostProfile:s
SecretEnvSource 1:localObjectReference:^.LocalObjectReference 2:optional:b
SecretKeySelector 1:localObjectReference:^.LocalObjectReference 2:key:s 3:optional:b
SecretProjection 1:localObjectReference:^.LocalObjectReference 2:items:.KeyToPath* 4:optional:b
SecretVolumeSource 1:secretName:s 2:items:.KeyToPath* 3:defaultMode:i 4:optional:b
SecurityContext 1:capabilities:.Capabilities 2:privileged:b 3:seLinuxOptions:.SELinuxOptions 4:runAsUser:i
    5:runAsNonRoot:b 6:readOnlyRootFilesystem:b 7:allowPrivilegeEscalation:b 8:runAsGroup:i 9:procMount:s
    10:windowsOptions:.WindowsSecurityContextOptions 11:seccompProfile:.SeccompProfile
    12:appArmorProfile:.AppArmorProfile
Service 1:metadata:.ObjectMeta 2:spec:.ServiceSpec
ServiceAccount 1:metadata:.ObjectMeta 2:secrets:.ObjectReference* 3:imagePullSecrets:.LocalObjectReference*
    4:automountServiceAccountToken:b
ServiceAccountTokenProjection 1:audience:s 2:expirationSeconds:i 3:path:s
ServiceBackendPort 1:name:s 2:number:i
ServicePort 1:name:s 2:protocol:s 3:port:i 4:targetPort:o 5:nodePort:i 6:appProtocol:s
ServiceSpec 1:ports:.ServicePort* 2:selector:Ms 3:clusterIP:s 4:type:s 5:externalIPs:s* 7:sessionAffinity:s
    8:loadBalancerIP:s 9:loadBalancerSourceRanges:s* 10:externalName:s 11:externalTrafficPolicy:s
    12:healthCheckNodePort:i 13:publishNotReadyAddresses:b 14:sessionAffinityConfig:.SessionAffinityConfig
    17:ipFamilyPolicy:s 18:clusterIPs:s* 19:ipFamilies:s* 20:allocateLoadBalancerNodePorts:b 21:loadBalancerClass:s
    22:internalTrafficPolicy:s 23:trafficDistribution:s
SessionAffinityConfig 1:clientIP:.ClientIPConfig
SleepAction 1:seconds:i
StatefulSet 1:metadata:.ObjectMeta 2:spec:.StatefulSetSpec
StatefulSetOrdinals 1:start:i
StatefulSetPersistentVolumeClaimRetentionPolicy 1:whenDeleted:s 2:whenScaled:s
StatefulSetSpec 1:replicas:i 2:selector:.LabelSelector 3:template:.PodTemplateSpec
    4:volumeClaimTemplates:.PersistentVolumeClaim* 5:serviceName:s 6:podManagementPolicy:s
    7:updateStrategy:.StatefulSetUpdateStrategy 8:revisionHistoryLimit:i 9:minReadySeconds:i
    10:persistentVolumeClaimRetentionPolicy:.StatefulSetPersistentVolumeClaimRetentionPolicy
    11:ordinals:.StatefulSetOrdinals
StatefulSetUpdateStrategy 1:type:s 2:rollingUpdate:.RollingUpdateStatefulSetStrategy
StorageOSVolumeSource 1:volumeName:s 2:volumeNamespace:s 3:fsType:s 4:readOnly:b 5:secretRef:.LocalObjectReference
Subject 1:kind:s 2:apiGroup:s 3:name:s 4:namespace:s
SuccessPolicy 1:rules:.SuccessPolicyRule*
SuccessPolicyRule 1:succeededIndexes:s 2:succeededCount:i
Sysctl 1:name:s 2:value:s
TCPSocketAction 1:port:o 2:host:s
Toleration 1:key:s 2:operator:s 3:value:s 4:effect:s 5:tolerationSeconds:i
TopologySpreadConstraint 1:maxSkew:i 2:topologyKey:s 3:whenUnsatisfiable:s 4:labelSelector:.LabelSelector
    5:minDomains:i 6:nodeAffinityPolicy:s 7:nodeTaintsPolicy:s 8:matchLabelKeys:s*
TypedLocalObjectReference 1:apiGroup:s 2:kind:s 3:name:s
TypedObjectReference 1:apiGroup:s 2:kind:s 3:name:s 4:namespace:s
Volume 1:name:s 2:volumeSource:^.VolumeSource
VolumeDevice 1:name:s 2:devicePath:s
VolumeMount 1:name:s 2:readOnly:b 3:mountPath:s 4:subPath:s 5:mountPropagation:s 6:subPathExpr:s
    7:recursiveReadOnly:s
VolumeProjection 1:secret:.SecretProjection 2:downwardAPI:.DownwardAPIProjection 3:configMap:.ConfigMapProjection
    4:serviceAccountToken:.ServiceAccountTokenProjection 5:clusterTrustBundle:.ClusterTrustBundleProjection
    6:podCertificate:.PodCertificateProjection
VolumeResourceRequirements 1:limits:Mq 2:requests:Mq
VolumeSource 1:hostPath:.HostPathVolumeSource 2:emptyDir:.EmptyDirVolumeSource
    3:gcePersistentDisk:.GCEPersistentDiskVolumeSource 4:awsElasticBlockStore:.AWSElasticBlockStoreVolumeSource
    5:gitRepo:.GitRepoVolumeSource 6:secret:.SecretVolumeSource 7:nfs:.NFSVolumeSource 8:iscsi:.ISCSIVolumeSource
    9:glusterfs:.GlusterfsVolumeSource 10:persistentVolumeClaim:.PersistentVolumeClaimVolumeSource
    11:rbd:.RBDVolumeSource 12:flexVolume:.FlexVolumeSource 13:cinder:.CinderVolumeSource
    14:cephfs:.CephFSVolumeSource 15:flocker:.FlockerVolumeSource 16:downwardAPI:.DownwardAPIVolumeSource
    17:fc:.FCVolumeSource 18:azureFile:.AzureFileVolumeSource 19:configMap:.ConfigMapVolumeSource
    20:vsphereVolume:.VsphereVirtualDiskVolumeSource 21:quobyte:.QuobyteVolumeSource
    22:azureDisk:.AzureDiskVolumeSource 23:photonPersistentDisk:.PhotonPersistentDiskVolumeSource
    24:portworxVolume:.PortworxVolumeSource 25:scaleIO:.ScaleIOVolumeSource 26:projected:.ProjectedVolumeSource
    27:storageos:.StorageOSVolumeSource 28:csi:.CSIVolumeSource 29:ephemeral:.EphemeralVolumeSource
    30:image:.ImageVolumeSource
VsphereVirtualDiskVolumeSource 1:volumePath:s 2:fsType:s 3:storagePolicyName:s 4:storagePolicyID:s
WeightedPodAffinityTerm 1:weight:i 2:podAffinityTerm:.PodAffinityTerm
WindowsSecurityContextOptions 1:gmsaCredentialSpecName:s 2:gmsaCredentialSpec:s 3:runAsUserName:s 4:hostProcess:b
"""
