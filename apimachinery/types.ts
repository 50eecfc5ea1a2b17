// Kubernetes object types, from the kubernetes-types package.
export type {
  Pod,
  PodSpec,
  PodStatus,
  PodCondition,
  Container,
  ContainerStatus,
  ContainerState,
  Node,
  NodeStatus,
  NodeCondition,
  Namespace,
  Event,
  Service,
  ObjectReference,
  Binding,
  EnvVar,
} from 'kubernetes-types/core/v1.js';
export type { Lease } from 'kubernetes-types/coordination/v1.js';
export type { ObjectMeta as Meta, Time, OwnerReference } from 'kubernetes-types/meta/v1.js';
