import { limitRangeStrategy } from './resources/limit-ranges.ts';
import { COMPONENT_STATUSES } from './component-statuses.ts';
import { webhookConfigurationStrategy } from './admission-webhooks/index.ts';
import { apiServiceStrategy } from './resources/api-services.ts';
import {
  admissionPolicyBindingStrategy,
  admissionPolicyStrategy,
  mutatingAdmissionPolicyBindingStrategy,
  mutatingAdmissionPolicyStrategy,
} from './admission-policies/index.ts';
import type { ObjectLabelSelector } from '../../apimachinery/index.ts';
import type { Obj, ResourceInfo, ScaleInfo } from './resource-info.ts';
import { controllerRevisionStrategy, daemonSetStrategy, deploymentStrategy, replicaSetStrategy, statefulSetStrategy } from './resources/apps.ts';
import { cronJobStrategy, jobStrategy } from './resources/batch.ts';
import { configMapStrategy, secretStrategy } from './resources/config.ts';
import { csrStrategy } from './resources/certificates.ts';
import { customResourceDefinitionStrategy } from './resources/custom-resource-definitions.ts';
import { endpointSliceStrategy, endpointsStrategy } from './resources/endpoint-slices.ts';
import { eventStrategy } from './resources/events.ts';
import { eventsV1Storage, eventsV1Strategy } from './resources/events-v1.ts';
import { namespaceStrategy } from './resources/namespaces.ts';
import { nodeStrategy } from './resources/nodes.ts';
import { selectorText } from './resources/pod-template.ts';
import { podStrategy } from './resources/pods.ts';
import { roleBindingStrategy, roleStrategy } from './resources/rbac.ts';
import { resourceClaimStrategy, resourceSliceStrategy } from './resources/dynamic-resources.ts';
import { horizontalPodAutoscalerStrategy, horizontalPodAutoscalerV1Storage, horizontalPodAutoscalerV1Strategy } from './resources/autoscaling.ts';
import { flowSchemaStrategy, priorityLevelConfigurationStrategy } from './resources/flow-control.ts';
import { replicationControllerStrategy } from './resources/replication-controllers.ts';
import { runtimeClassStrategy } from './resources/runtime-classes.ts';
import { ipAddressStrategy, serviceCidrStrategy } from './resources/service-cidrs.ts';
import { podDisruptionBudgetStrategy, priorityClassStrategy } from './resources/scheduling.ts';
import { serviceStrategy, type NodePortRange, type ServiceIpRange } from './resources/services.ts';
import {
  csiDriverStrategy,
  csiNodeStrategy,
  persistentVolumeClaimStrategy,
  persistentVolumeStrategy,
  storageClassStrategy,
  volumeAttributesClassStrategy,
} from './resources/storage.ts';

/** Scale for apps/v1 workloads: spec.replicas, status.replicas, selector from spec.selector. */
const WORKLOAD_SCALE: ScaleInfo = {
  specReplicasPath: 'spec.replicas',
  statusReplicasPath: 'status.replicas',
  selector: (obj: Obj) => selectorText((obj.spec as { selector?: ObjectLabelSelector } | undefined)?.selector),
};

const STATUS = ['status'];

/**
 * Every built-in resource this server serves; adding a plain resource is one
 * entry here. A resource without a strategy is stored as sent, with metadata
 * semantics only.
 */
export function resourceCatalog(serviceIps: ServiceIpRange, nodePorts: NodePortRange): ResourceInfo[] {
  const of =
    (group: string, version: string) =>
    (resource: string, kind: string, namespaced: boolean, more: Partial<ResourceInfo> = {}): ResourceInfo => ({
      group,
      version,
      resource,
      kind,
      singular: kind.toLowerCase(),
      namespaced,
      ...more,
    });
  const core = of('', 'v1');
  const apps = of('apps', 'v1');
  const batch = of('batch', 'v1');
  const rbac = of('rbac.authorization.k8s.io', 'v1');
  const storage = of('storage.k8s.io', 'v1');
  const networking = of('networking.k8s.io', 'v1');
  const admissionRegistration = of('admissionregistration.k8s.io', 'v1');
  const admissionRegistrationBeta = of('admissionregistration.k8s.io', 'v1beta1');
  const dra = of('resource.k8s.io', 'v1');
  const flowControl = of('flowcontrol.apiserver.k8s.io', 'v1');
  const review = (group: string, resource: string, kind: string, namespaced: boolean) =>
    of(group, 'v1')(resource, kind, namespaced, { verbs: ['create'], virtual: true });
  return [
    core('namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status', 'finalize'], strategy: namespaceStrategy }),
    core('pods', 'Pod', true, {
      shortNames: ['po'],
      categories: ['all'],
      subresources: ['status', 'binding', 'log', 'eviction', 'ephemeralcontainers'],
      strategy: podStrategy,
    }),
    core('nodes', 'Node', false, { shortNames: ['no'], subresources: ['status', 'proxy'], strategy: nodeStrategy }),
    core('events', 'Event', true, { shortNames: ['ev'], strategy: eventStrategy }),
    core('services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: STATUS, strategy: serviceStrategy(serviceIps, nodePorts) }),
    core('endpoints', 'Endpoints', true, { singular: 'endpoints', shortNames: ['ep'], strategy: endpointsStrategy }),
    core('configmaps', 'ConfigMap', true, { shortNames: ['cm'], strategy: configMapStrategy }),
    core('secrets', 'Secret', true, { strategy: secretStrategy }),
    core('serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'], subresources: ['token'] }),
    core('persistentvolumes', 'PersistentVolume', false, { shortNames: ['pv'], subresources: STATUS, strategy: persistentVolumeStrategy }),
    core('persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'], subresources: STATUS, strategy: persistentVolumeClaimStrategy }),
    core('resourcequotas', 'ResourceQuota', true, { shortNames: ['quota'], subresources: STATUS }),
    core('limitranges', 'LimitRange', true, { shortNames: ['limits'], strategy: limitRangeStrategy }),
    core('podtemplates', 'PodTemplate', true),
    core('replicationcontrollers', 'ReplicationController', true, {
      shortNames: ['rc'],
      categories: ['all'],
      subresources: ['status', 'scale'],
      strategy: replicationControllerStrategy,
      scale: {
        ...WORKLOAD_SCALE,
        selector: (obj: Obj) => selectorText({ matchLabels: (obj.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {} }),
      },
      garbageCollection: 'Background',
    }),
    apps('deployments', 'Deployment', true, {
      shortNames: ['deploy'],
      categories: ['all'],
      subresources: ['status', 'scale'],
      strategy: deploymentStrategy,
      scale: WORKLOAD_SCALE,
      garbageCollection: 'Background',
    }),
    apps('replicasets', 'ReplicaSet', true, {
      shortNames: ['rs'],
      categories: ['all'],
      subresources: ['status', 'scale'],
      strategy: replicaSetStrategy,
      scale: WORKLOAD_SCALE,
      garbageCollection: 'Background',
    }),
    apps('statefulsets', 'StatefulSet', true, {
      shortNames: ['sts'],
      categories: ['all'],
      subresources: ['status', 'scale'],
      strategy: statefulSetStrategy,
      scale: WORKLOAD_SCALE,
      garbageCollection: 'Background',
    }),
    apps('daemonsets', 'DaemonSet', true, {
      shortNames: ['ds'],
      categories: ['all'],
      subresources: STATUS,
      strategy: daemonSetStrategy,
      garbageCollection: 'Background',
    }),
    apps('controllerrevisions', 'ControllerRevision', true, { strategy: controllerRevisionStrategy }),
    batch('jobs', 'Job', true, { categories: ['all'], subresources: STATUS, strategy: jobStrategy, garbageCollection: 'Orphan' }),
    batch('cronjobs', 'CronJob', true, {
      shortNames: ['cj'],
      categories: ['all'],
      subresources: STATUS,
      strategy: cronJobStrategy,
      garbageCollection: 'Background',
    }),
    of('discovery.k8s.io', 'v1')('endpointslices', 'EndpointSlice', true, { strategy: endpointSliceStrategy }),
    of('coordination.k8s.io', 'v1')('leases', 'Lease', true),
    of('events.k8s.io', 'v1')('events', 'Event', true, { shortNames: ['ev'], strategy: eventsV1Strategy, storage: eventsV1Storage }),
    of('policy', 'v1')('poddisruptionbudgets', 'PodDisruptionBudget', true, {
      shortNames: ['pdb'],
      subresources: STATUS,
      strategy: podDisruptionBudgetStrategy,
    }),
    rbac('roles', 'Role', true, { strategy: roleStrategy(false) }),
    rbac('rolebindings', 'RoleBinding', true, { strategy: roleBindingStrategy(false) }),
    rbac('clusterroles', 'ClusterRole', false, { strategy: roleStrategy(true) }),
    rbac('clusterrolebindings', 'ClusterRoleBinding', false, { strategy: roleBindingStrategy(true) }),
    storage('storageclasses', 'StorageClass', false, { shortNames: ['sc'], strategy: storageClassStrategy }),
    storage('csidrivers', 'CSIDriver', false, { strategy: csiDriverStrategy }),
    storage('csinodes', 'CSINode', false, { strategy: csiNodeStrategy }),
    storage('volumeattachments', 'VolumeAttachment', false, { subresources: STATUS }),
    storage('volumeattributesclasses', 'VolumeAttributesClass', false, { shortNames: ['vac'], strategy: volumeAttributesClassStrategy }),
    networking('networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
    admissionRegistration('validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false, { strategy: webhookConfigurationStrategy(false) }),
    admissionRegistration('mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false, { strategy: webhookConfigurationStrategy(true) }),
    admissionRegistration('validatingadmissionpolicies', 'ValidatingAdmissionPolicy', false, { subresources: STATUS, strategy: admissionPolicyStrategy }),
    admissionRegistration('validatingadmissionpolicybindings', 'ValidatingAdmissionPolicyBinding', false, { strategy: admissionPolicyBindingStrategy }),
    admissionRegistrationBeta('mutatingadmissionpolicies', 'MutatingAdmissionPolicy', false, { strategy: mutatingAdmissionPolicyStrategy }),
    admissionRegistrationBeta('mutatingadmissionpolicybindings', 'MutatingAdmissionPolicyBinding', false, { strategy: mutatingAdmissionPolicyBindingStrategy }),
    of('apiregistration.k8s.io', 'v1')('apiservices', 'APIService', false, { subresources: STATUS, strategy: apiServiceStrategy }),
    networking('ingresses', 'Ingress', true, { shortNames: ['ing'], subresources: STATUS }),
    networking('ingressclasses', 'IngressClass', false),
    of('scheduling.k8s.io', 'v1')('priorityclasses', 'PriorityClass', false, { shortNames: ['pc'], strategy: priorityClassStrategy }),
    of('node.k8s.io', 'v1')('runtimeclasses', 'RuntimeClass', false, { strategy: runtimeClassStrategy }),
    flowControl('flowschemas', 'FlowSchema', false, { subresources: STATUS, strategy: flowSchemaStrategy }),
    flowControl('prioritylevelconfigurations', 'PriorityLevelConfiguration', false, { subresources: STATUS, strategy: priorityLevelConfigurationStrategy }),
    of('autoscaling', 'v2')('horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, {
      shortNames: ['hpa'],
      categories: ['all'],
      subresources: STATUS,
      strategy: horizontalPodAutoscalerStrategy,
    }),
    of('autoscaling', 'v1')('horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, {
      shortNames: ['hpa'],
      categories: ['all'],
      subresources: STATUS,
      strategy: horizontalPodAutoscalerV1Strategy,
      storage: horizontalPodAutoscalerV1Storage,
      alternateVersion: true,
    }),
    networking('servicecidrs', 'ServiceCIDR', false, { subresources: STATUS, strategy: serviceCidrStrategy }),
    networking('ipaddresses', 'IPAddress', false, { shortNames: ['ip'], strategy: ipAddressStrategy }),
    dra('deviceclasses', 'DeviceClass', false),
    dra('resourceclaims', 'ResourceClaim', true, { subresources: STATUS, strategy: resourceClaimStrategy }),
    dra('resourceclaimtemplates', 'ResourceClaimTemplate', true),
    dra('resourceslices', 'ResourceSlice', false, { strategy: resourceSliceStrategy }),
    // served from the kubelets' summaries, nothing stored (resource-metrics.ts)
    // worked out on each read, nothing stored (component-statuses.ts)
    COMPONENT_STATUSES,
    of('metrics.k8s.io', 'v1beta1')('nodes', 'NodeMetrics', false, { verbs: ['get', 'list'], virtual: true }),
    of('metrics.k8s.io', 'v1beta1')('pods', 'PodMetrics', true, { verbs: ['get', 'list'], virtual: true }),
    review('authentication.k8s.io', 'tokenreviews', 'TokenReview', false),
    review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview', false),
    review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false),
    review('authorization.k8s.io', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false),
    review('authorization.k8s.io', 'subjectaccessreviews', 'SubjectAccessReview', false),
    review('authorization.k8s.io', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true),
    of('apiextensions.k8s.io', 'v1')('customresourcedefinitions', 'CustomResourceDefinition', false, {
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      subresources: STATUS,
      strategy: customResourceDefinitionStrategy,
    }),
    of('certificates.k8s.io', 'v1')('certificatesigningrequests', 'CertificateSigningRequest', false, {
      shortNames: ['csr'],
      subresources: ['status', 'approval'],
      strategy: csrStrategy,
    }),
  ];
}
