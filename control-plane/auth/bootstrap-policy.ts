import { DEFAULT_NODE_TOKEN_GROUP } from '../../apimachinery/index.ts';
import { NODE_RULES } from './node-authorizer.ts';
import type { PolicyRule } from './types.ts';

// The default roles and bindings every cluster starts with, after
// kube-apiserver's bootstrap policy: user-facing roles (cluster-admin, admin,
// edit, view) and the system:* roles components and discovery rely on.

/** The users the control plane's own components are, each bound below to its role (their certificates name them). */
export const COMPONENT_USERS = {
  scheduler: 'system:kube-scheduler',
  controllerManager: 'system:kube-controller-manager',
  clusterDns: 'system:skiff:cluster-dns',
  /** the API server towards kubelets */
  kubeletClient: 'kube-apiserver-kubelet-client',
} as const;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL = [...READ, ...WRITE];

const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
  ...(resourceNames ? { resourceNames } : {}),
});
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

/** Namespaced objects a viewer may read (no secrets). */
const viewRules: PolicyRule[] = [
  rule(
    READ,
    [''],
    [
      'pods',
      'pods/log',
      'pods/status',
      'services',
      'services/status',
      'endpoints',
      'configmaps',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'serviceaccounts',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'replicationcontrollers/status',
      'resourcequotas',
      'resourcequotas/status',
      'limitranges',
      'podtemplates',
      'events',
      'bindings',
    ],
  ),
  rule(READ, [''], ['namespaces', 'namespaces/status']),
  rule(
    READ,
    ['apps'],
    [
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
      'daemonsets',
      'daemonsets/status',
      'controllerrevisions',
    ],
  ),
  rule(READ, ['batch'], ['jobs', 'jobs/status', 'cronjobs', 'cronjobs/status']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['events.k8s.io'], ['events']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['resource.k8s.io'], ['resourceclaims', 'resourceclaims/status', 'resourceclaimtemplates']),
];

/** system:aggregated-metrics-reader: what kubectl top reads, aggregated into view, edit and admin. */
const metricsRules: PolicyRule[] = [rule(READ, ['metrics.k8s.io'], ['pods', 'nodes'])];

/** What edit adds: writes to namespaced workloads and config, secrets included. */
const editRules: PolicyRule[] = [
  rule(
    [...ALL],
    [''],
    [
      'pods',
      'pods/attach',
      'pods/exec',
      'pods/ephemeralcontainers',
      'pods/portforward',
      'pods/proxy',
      'pods/eviction',
      'services',
      'services/proxy',
      'endpoints',
      'configmaps',
      'secrets',
      'persistentvolumeclaims',
      'serviceaccounts',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'events',
    ],
  ),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(
    [...ALL],
    ['apps'],
    ['deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale', 'daemonsets'],
  ),
  rule([...ALL], ['batch'], ['jobs', 'cronjobs']),
  rule([...ALL], ['discovery.k8s.io'], ['endpointslices']),
  rule([...ALL], ['policy'], ['poddisruptionbudgets']),
  rule([...ALL], ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
  rule([...ALL], ['autoscaling'], ['horizontalpodautoscalers']),
  rule([...ALL], ['resource.k8s.io'], ['resourceclaims', 'resourceclaimtemplates']),
  rule(['impersonate'], [''], ['serviceaccounts']),
];

/** What admin adds: roles and bindings in the namespace, and local access reviews. */
const adminRules: PolicyRule[] = [
  rule([...ALL], ['rbac.authorization.k8s.io'], ['roles', 'rolebindings']),
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
];

export interface BootstrapRole {
  name: string;
  rules: PolicyRule[];
  labels?: Record<string, string>;
  /** a role whose rules the aggregation controller keeps as the union of the roles these labels select */
  aggregationRule?: { clusterRoleSelectors: { matchLabels: Record<string, string> }[] };
}

export interface BootstrapBinding {
  name: string;
  role: string;
  subjects: { kind: 'User' | 'Group'; name: string }[];
}

const TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
const TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
const TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';
const selects = (label: string) => ({ clusterRoleSelectors: [{ matchLabels: { [label]: 'true' } }] });

// view ⊂ edit ⊂ admin by aggregation: view is labelled into edit and edit into admin; the rules
// written here are what aggregation makes of the defaults, so a new cluster needs no controller first
export const BOOTSTRAP_ROLES: BootstrapRole[] = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  { name: 'admin', rules: [...editRules, ...metricsRules, ...viewRules, ...adminRules], aggregationRule: selects(TO_ADMIN) },
  { name: 'edit', rules: [...editRules, ...metricsRules, ...viewRules], labels: { [TO_ADMIN]: 'true' }, aggregationRule: selects(TO_EDIT) },
  { name: 'view', rules: [...viewRules, ...metricsRules], labels: { [TO_EDIT]: 'true' }, aggregationRule: selects(TO_VIEW) },
  { name: 'system:aggregate-to-admin', rules: adminRules, labels: { [TO_ADMIN]: 'true' } },
  { name: 'system:aggregate-to-edit', rules: editRules, labels: { [TO_EDIT]: 'true' } },
  { name: 'system:aggregate-to-view', rules: viewRules, labels: { [TO_VIEW]: 'true' } },
  { name: 'system:aggregated-metrics-reader', rules: metricsRules, labels: { [TO_VIEW]: 'true', [TO_EDIT]: 'true', [TO_ADMIN]: 'true' } },
  {
    name: 'system:discovery',
    rules: [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/openapi', '/openapi/*', '/version', '/version/'])],
  },
  {
    name: 'system:basic-user',
    rules: [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  { name: 'system:public-info-viewer', rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])] },
  { name: 'system:monitoring', rules: [urls(['get'], ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*'])] },
  {
    // kept for clusters that bind it; nodes get what they need from the Node authorizer (its binding has no subjects)
    name: 'system:node',
    rules: [
      ...NODE_RULES,
      rule(['get'], [''], ['secrets', 'configmaps', 'persistentvolumeclaims', 'persistentvolumes', 'serviceaccounts']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(['update', 'patch'], [''], ['nodes', 'nodes/status']),
      rule(['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'create', 'update', 'patch', 'delete'], ['storage.k8s.io'], ['csinodes']),
    ],
  },
  {
    // skiff's agent runs the external-provisioner and external-resizer for the CSI drivers on its node
    name: 'skiff:csi-node-sidecars',
    rules: [
      rule([...READ, 'create', 'delete', 'patch', 'update'], [''], ['persistentvolumes']),
      rule([...READ, 'patch', 'update'], [''], ['persistentvolumeclaims']),
      rule(READ, ['storage.k8s.io'], ['storageclasses']),
    ],
  },
  {
    // skiff's agent enforces NetworkPolicy for the pods of its node, from every pod's address and every namespace's labels
    name: 'skiff:network-policy-agent',
    rules: [rule(['list', 'watch'], [''], ['namespaces', 'pods']), rule(['list', 'watch'], ['networking.k8s.io'], ['networkpolicies'])],
  },
  {
    name: 'system:node-bootstrapper',
    rules: [rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])],
  },
  {
    name: 'system:kube-scheduler',
    rules: [
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(READ, [''], ['nodes', 'pods', 'namespaces', 'persistentvolumes', 'persistentvolumeclaims', 'services', 'replicationcontrollers']),
      rule(['create'], [''], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['delete'], [''], ['pods']),
      rule(READ, ['apps'], ['replicasets', 'statefulsets']),
      rule(READ, ['policy'], ['poddisruptionbudgets']),
      rule(READ, ['storage.k8s.io'], ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities']),
      rule([...ALL], ['coordination.k8s.io'], ['leases']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ],
  },
  {
    // what kube-scheduler's volume binding writes: the selected node on claims, the claim reference on volumes
    name: 'system:volume-scheduler',
    rules: [rule([...READ, 'patch', 'update'], [''], ['persistentvolumes', 'persistentvolumeclaims']), rule(READ, ['storage.k8s.io'], ['storageclasses'])],
  },
  {
    // skiff runs every controller as this one identity (kube-controller-manager without per-controller
    // service accounts): the garbage collector and namespace controller read, change and delete anything,
    // the workload controllers create what they own; no impersonation, no RBAC escalation, no approval
    name: 'system:kube-controller-manager',
    rules: [
      rule([...READ, 'patch', 'update', 'delete', 'deletecollection'], ['*'], ['*']),
      rule(
        ['create'],
        [''],
        ['pods', 'pods/binding', 'bindings', 'pods/eviction', 'endpoints', 'configmaps', 'serviceaccounts', 'persistentvolumeclaims', 'events'],
      ),
      rule(['create'], ['apps'], ['replicasets', 'controllerrevisions']),
      rule(['create'], ['batch'], ['jobs']),
      rule(['create'], ['discovery.k8s.io'], ['endpointslices']),
      rule(['create'], ['events.k8s.io'], ['events']),
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      // the aggregation controller writes rules into admin, edit and view it need not hold
      rule(['escalate'], ['rbac.authorization.k8s.io'], ['clusterroles']),
      // the csrapproving controller approves node client certificates (and kubelet serving ones, see csr-approving.ts)
      {
        verbs: ['approve'],
        apiGroups: ['certificates.k8s.io'],
        resources: ['signers'],
        resourceNames: ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving'],
      },
      {
        verbs: ['sign'],
        apiGroups: ['certificates.k8s.io'],
        resources: ['signers'],
        resourceNames: [
          'kubernetes.io/kube-apiserver-client',
          'kubernetes.io/kube-apiserver-client-kubelet',
          'kubernetes.io/kubelet-serving',
          'kubernetes.io/legacy-unknown',
        ],
      },
    ],
  },
  {
    // the DNS add-on reads Services, their endpoints and namespaces, and publishes its own Service and EndpointSlice
    name: 'system:coredns',
    rules: [
      rule(['list', 'watch'], [''], ['endpoints', 'services', 'pods', 'namespaces']),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
      rule(['get', 'create', 'update'], [''], ['services']),
      rule(['get', 'create', 'update'], ['discovery.k8s.io'], ['endpointslices']),
    ],
  },
  {
    // what the API server needs of every kubelet API (logs, exec, port-forward, stats, metrics)
    name: 'system:kubelet-api-admin',
    rules: [
      rule(['get', 'list', 'watch', 'proxy'], [''], ['nodes']),
      rule(
        ['*'],
        [''],
        ['nodes/proxy', 'nodes/log', 'nodes/stats', 'nodes/metrics', 'nodes/spec', 'nodes/pods', 'nodes/healthz', 'nodes/configz', 'nodes/checkpoint'],
      ),
    ],
  },
  {
    name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    rules: [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])],
  },
  {
    name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    rules: [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])],
  },
  ...['kube-apiserver-client', 'kube-apiserver-client-kubelet', 'kubelet-serving', 'legacy-unknown'].map((signer) => ({
    name: `system:certificates.k8s.io:${signer}-approver`,
    rules: [{ verbs: ['approve'], apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: [`kubernetes.io/${signer}`] }],
  })),
  { name: 'system:heapster', rules: [rule(READ, [''], ['events', 'namespaces', 'nodes', 'pods']), rule(READ, ['extensions'], ['deployments'])] },
  { name: 'system:kube-aggregator', rules: [rule(READ, [''], ['endpoints', 'services'])] },
  { name: 'system:kube-dns', rules: [rule(['list', 'watch'], [''], ['endpoints', 'services'])] },
  {
    name: 'system:node-problem-detector',
    rules: [rule(['get'], [''], ['nodes']), rule(['patch'], [''], ['nodes/status']), rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events'])],
  },
  {
    name: 'system:node-proxier',
    rules: [
      rule(['list', 'watch'], [''], ['services', 'endpoints']),
      rule(READ, [''], ['nodes']),
      rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ],
  },
  {
    name: 'system:persistent-volume-provisioner',
    rules: [
      rule([...READ, 'create', 'delete'], [''], ['persistentvolumes']),
      rule([...READ, 'update'], [''], ['persistentvolumeclaims']),
      rule(READ, ['storage.k8s.io'], ['storageclasses']),
      rule(['watch', 'create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    ],
  },
  {
    name: 'system:service-account-issuer-discovery',
    rules: [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])],
  },
  {
    name: 'system:auth-delegator',
    rules: [rule(['create'], ['authentication.k8s.io'], ['tokenreviews']), rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])],
  },
];

export const BOOTSTRAP_BINDINGS: BootstrapBinding[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [{ kind: 'Group', name: 'system:masters' }] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  {
    name: 'system:public-info-viewer',
    role: 'system:public-info-viewer',
    subjects: [
      { kind: 'Group', name: 'system:authenticated' },
      { kind: 'Group', name: 'system:unauthenticated' },
    ],
  },
  { name: 'system:node', role: 'system:node', subjects: [] },
  { name: 'system:monitoring', role: 'system:monitoring', subjects: [{ kind: 'Group', name: 'system:monitoring' }] },
  {
    name: 'system:service-account-issuer-discovery',
    role: 'system:service-account-issuer-discovery',
    subjects: [{ kind: 'Group', name: 'system:serviceaccounts' }],
  },
  { name: 'skiff:csi-node-sidecars', role: 'skiff:csi-node-sidecars', subjects: [{ kind: 'Group', name: 'system:nodes' }] },
  { name: 'skiff:network-policy-agent', role: 'skiff:network-policy-agent', subjects: [{ kind: 'Group', name: 'system:nodes' }] },
  { name: 'system:node-bootstrapper', role: 'system:node-bootstrapper', subjects: [{ kind: 'Group', name: 'system:bootstrappers' }] },
  // as kubeadm binds them: a join token's holder gets its new node's client certificate approved, and a node its renewals
  {
    name: 'skiff:node-autoapprove-bootstrap',
    role: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    subjects: [{ kind: 'Group', name: DEFAULT_NODE_TOKEN_GROUP }],
  },
  {
    name: 'skiff:node-autoapprove-certificate-rotation',
    role: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    subjects: [{ kind: 'Group', name: 'system:nodes' }],
  },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: [{ kind: 'User', name: COMPONENT_USERS.scheduler }] },
  { name: 'system:volume-scheduler', role: 'system:volume-scheduler', subjects: [{ kind: 'User', name: COMPONENT_USERS.scheduler }] },
  { name: 'system:kube-controller-manager', role: 'system:kube-controller-manager', subjects: [{ kind: 'User', name: COMPONENT_USERS.controllerManager }] },
  { name: 'system:coredns', role: 'system:coredns', subjects: [{ kind: 'User', name: COMPONENT_USERS.clusterDns }] },
  { name: 'system:kube-apiserver-kubelet-api-admin', role: 'system:kubelet-api-admin', subjects: [{ kind: 'User', name: COMPONENT_USERS.kubeletClient }] },
];
