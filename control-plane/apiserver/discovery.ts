import { ALL_VERBS, apiVersionOf, type ResourceInfo } from './resource-info.ts';

interface GroupVersion {
  group: string;
  version: string;
}

function groupVersions(resources: ResourceInfo[]): GroupVersion[] {
  const seen = new Map<string, GroupVersion>();
  for (const r of resources) seen.set(apiVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

/** What discovery says of subresources whose kind is not their parent's. */
const SUBRESOURCES: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }> = {
  binding: { kind: 'Binding', verbs: ['create'] },
  finalize: { kind: 'Namespace', verbs: ['update'] },
  log: { kind: 'Pod', verbs: ['get'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
};

/** GET /api */
export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** GET /apis */
export function apiGroupList(resources: ResourceInfo[]) {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions(resources)) {
    if (!gv.group) continue;
    groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

/** GET /apis/{group} */
export function apiGroup(resources: ResourceInfo[], group: string) {
  const versions = groupVersions(resources).filter((gv) => gv.group === group).map((gv) => gv.version);
  if (versions.length === 0) return null;
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
  };
}

/** GET /api/v1, /apis/{group}/{version} */
export function apiResourceList(resources: ResourceInfo[], group: string, version: string) {
  const mine = resources.filter((r) => r.group === group && r.version === version);
  if (mine.length === 0) return null;
  const list: object[] = [];
  for (const r of mine) {
    list.push({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs ?? ALL_VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources ?? []) list.push({ name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, ...SUBRESOURCES[sub] ?? { kind: r.kind, verbs: ['get', 'patch', 'update'] } });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: list };
}
