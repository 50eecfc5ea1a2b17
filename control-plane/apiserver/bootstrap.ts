import { ApiError } from '../../apimachinery/index.ts';
import type { ApiServer } from './server.ts';
import type { NodePortRange, ServiceIpRange } from './resources/services.ts';
import type { Obj } from './resource-info.ts';
import type { Registry } from './registry.ts';
import { BOOTSTRAP_BINDINGS, BOOTSTRAP_ROLES } from '../auth/index.ts';
import { FRONT_PROXY_CLIENT } from '../cluster-pki.ts';
import { SYSTEM_PRIORITY_CLASSES } from './priority-admission.ts';
import { MANDATORY_FLOW_CONTROL } from './resources/flow-control.ts';
import { defaultServiceCidr } from './resources/service-cidrs.ts';
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  CLUSTER_INFO,
  CONTROL_PLANE_CERTS_SECRET,
  DEFAULT_NODE_TOKEN_GROUP,
  KUBECONFIG_KEY,
  clusterInfoKubeconfig,
} from '../../apimachinery/index.ts';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Creates what is missing: an object that exists already is left as it is. */
export async function ensure(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
  }
}

const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

/**
 * Makes the fields `want` names (and the labels) of a stored default object
 * what this version ships, unless an administrator turned its autoupdate
 * annotation off (so a cluster made by an older version loses, say, the
 * system:nodes subject of system:node, and its roles aggregate as now).
 */
async function reconcile(registry: Registry, name: string, labels: Record<string, string>, want: Record<string, unknown>): Promise<void> {
  const stored = await registry.get(undefined, name);
  if (stored.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] !== 'true') return;
  const fieldsDiffer = Object.entries(want).some(([field, value]) => JSON.stringify(stored[field] ?? []) !== JSON.stringify(value));
  if (!fieldsDiffer && JSON.stringify(stored.metadata.labels ?? {}) === JSON.stringify(labels)) return;
  await registry.update(undefined, name, { ...stored, ...want, metadata: { ...stored.metadata, labels } });
}

/** The default ClusterRoles and ClusterRoleBindings, created when missing and kept as shipped while their autoupdate annotation is "true". */
async function bootstrapPolicy(server: ApiServer): Promise<void> {
  const roles = server.registry('rbac.authorization.k8s.io', 'clusterroles');
  const bindings = server.registry('rbac.authorization.k8s.io', 'clusterrolebindings');
  const labels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
  for (const r of BOOTSTRAP_ROLES) {
    const roleLabels = { ...labels, ...(r.labels ?? {}) };
    await ensure(() =>
      roles.create(undefined, {
        metadata: { name: r.name, labels: roleLabels, annotations: AUTOUPDATE },
        rules: r.rules,
        ...(r.aggregationRule ? { aggregationRule: r.aggregationRule } : {}),
      }),
    );
    // an aggregated role's rules are the aggregation controller's to keep
    await reconcile(roles, r.name, roleLabels, r.aggregationRule ? { aggregationRule: r.aggregationRule } : { rules: r.rules });
  }
  for (const b of BOOTSTRAP_BINDINGS) {
    const subjects = b.subjects.map((s) => ({ ...s, apiGroup: 'rbac.authorization.k8s.io' }));
    await ensure(() =>
      bindings.create(undefined, {
        metadata: { name: b.name, labels, annotations: AUTOUPDATE },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: b.role },
        subjects,
      }),
    );
    await reconcile(bindings, b.name, labels, { subjects });
  }
}

/**
 * What every cluster has before its first request: the system namespaces,
 * the `kubernetes` Service and the default RBAC policy. Also re-marks stored
 * ClusterIPs and NodePorts as taken.
 */
export async function bootstrap(server: ApiServer, serviceIps: ServiceIpRange, nodePorts: NodePortRange): Promise<void> {
  const services = server.registry('', 'services');
  for (const svc of (await services.list({})).items) {
    const spec = svc.spec as { clusterIP?: string; ports?: { nodePort?: number }[] } | undefined;
    if (spec?.clusterIP && spec.clusterIP !== 'None') serviceIps.markUsed(spec.clusterIP);
    for (const p of spec?.ports ?? []) if (p.nodePort) nodePorts.markUsed(p.nodePort);
  }
  const namespaces = server.registry('', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(() => namespaces.create(undefined, { metadata: { name } }));
  }
  await bootstrapPolicy(server);
  const priorityClasses = server.registry('scheduling.k8s.io', 'priorityclasses');
  for (const pc of SYSTEM_PRIORITY_CLASSES) await ensure(() => priorityClasses.create(undefined, structuredClone(pc) as unknown as Obj));
  const kubernetes: Obj = {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: serviceIps.first, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  };
  if (!(await services.list({ namespace: 'default' })).items.some((s) => s.metadata.name === 'kubernetes')) {
    await ensure(() => services.create('default', kubernetes));
  }
  await ensure(() => server.registry('networking.k8s.io', 'servicecidrs').create(undefined, defaultServiceCidr(serviceIps.cidr)));
  for (const { resource, obj } of MANDATORY_FLOW_CONTROL) {
    await ensure(() => server.registry('flowcontrol.apiserver.k8s.io', resource).create(undefined, structuredClone(obj)));
  }
}

/**
 * kube-public/cluster-info, as kubeadm publishes it: this cluster's address
 * and CA for anyone to read (system:anonymous may get it and nothing else),
 * which the bootstrap signer signs per join token. Made by the first server;
 * left as it is after.
 */
export async function publishClusterInfo(server: ApiServer, cluster: { server: string; ca: string }): Promise<void> {
  const { namespace, name } = CLUSTER_INFO;
  await ensure(() =>
    server.registry('', 'configmaps').create(namespace, { metadata: { name }, data: { [KUBECONFIG_KEY]: clusterInfoKubeconfig(cluster.server, cluster.ca) } }),
  );
  await grantGet(server, {
    role: 'kubeadm:bootstrap-signer-clusterinfo',
    namespace,
    resource: 'configmaps',
    resourceName: name,
    subject: { kind: 'User', name: 'system:anonymous' },
  });
  // a server joining with a token reads the sealed CA and keys (kubeadm's kubeadm:kubeadm-certs); its certificate key opens them
  await grantGet(server, {
    role: 'skiff:control-plane-certs',
    namespace: BOOTSTRAP_TOKEN_NAMESPACE,
    resource: 'secrets',
    resourceName: CONTROL_PLANE_CERTS_SECRET,
    subject: { kind: 'Group', name: DEFAULT_NODE_TOKEN_GROUP },
  });
}

/**
 * kube-system/extension-apiserver-authentication, as kube-apiserver publishes
 * it for extension API servers: the CA client certificates chain to, and the
 * front-proxy CA and headers the aggregation layer says who the user is
 * with. Each server adds its front-proxy CA to the bundle, so extension
 * servers trust every server of the cluster. And the Role that may read it,
 * which extension servers' installs bind.
 */
export async function publishAuthenticationConfig(server: ApiServer, cas: { clientCa: string; requestHeaderCa: string }): Promise<void> {
  const configMaps = server.registry('', 'configmaps');
  const name = 'extension-apiserver-authentication';
  const data = (requestHeaderCa: string) => ({
    'client-ca-file': cas.clientCa,
    'requestheader-client-ca-file': requestHeaderCa,
    'requestheader-allowed-names': JSON.stringify([FRONT_PROXY_CLIENT]),
    'requestheader-extra-headers-prefix': JSON.stringify(['X-Remote-Extra-']),
    'requestheader-group-headers': JSON.stringify(['X-Remote-Group']),
    'requestheader-username-headers': JSON.stringify(['X-Remote-User']),
  });
  await ensure(() => configMaps.create('kube-system', { metadata: { name }, data: data(cas.requestHeaderCa) }));
  const stored = await configMaps.get('kube-system', name);
  const bundle = (stored.data as Record<string, string> | undefined)?.['requestheader-client-ca-file'] ?? '';
  if (!bundle.includes(cas.requestHeaderCa.trim())) {
    await configMaps.update('kube-system', name, { ...stored, data: data(`${bundle.trimEnd()}\n${cas.requestHeaderCa}`) });
  }
  const rbac = 'rbac.authorization.k8s.io';
  await ensure(() =>
    server.registry(rbac, 'roles').create('kube-system', {
      metadata: { name: 'extension-apiserver-authentication-reader', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: AUTOUPDATE },
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [name], verbs: ['get', 'list', 'watch'] }],
    }),
  );
}

/** A Role that may get one object, bound (under the same name) to one user or group; left as it is when it exists. */
async function grantGet(
  server: ApiServer,
  g: { role: string; namespace: string; resource: string; resourceName: string; subject: { kind: 'User' | 'Group'; name: string } },
): Promise<void> {
  const rbac = 'rbac.authorization.k8s.io';
  await ensure(() =>
    server.registry(rbac, 'roles').create(g.namespace, {
      metadata: { name: g.role },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: [g.resource], resourceNames: [g.resourceName] }],
    }),
  );
  await ensure(() =>
    server.registry(rbac, 'rolebindings').create(g.namespace, {
      metadata: { name: g.role },
      roleRef: { apiGroup: rbac, kind: 'Role', name: g.role },
      subjects: [{ apiGroup: rbac, ...g.subject }],
    }),
  );
}
