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
  const versions = groupVersions(resources)
    .filter((gv) => gv.group === group)
    .map((gv) => gv.version);
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
    for (const sub of r.subresources ?? [])
      list.push({
        name: `${r.resource}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(SUBRESOURCES[sub] ?? { kind: r.kind, verbs: ['get', 'patch', 'update'] }),
      });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: list };
}

/** The media type of aggregated discovery (apidiscovery.k8s.io/v2), which kubectl asks for first. */
export const AGGREGATED_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Does the Accept header ask for aggregated discovery? */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('g=apidiscovery.k8s.io') && params.includes('v=v2') && params.includes('as=APIGroupDiscoveryList');
  });
}

const gvk = (group: string | undefined, version: string | undefined, kind: string) => ({ group: group ?? '', version: version ?? '', kind });

/**
 * GET /api or /apis as one APIGroupDiscoveryList: every group (the core group
 * for /api), its versions and their resources with scope, verbs, kinds and
 * subresources — what kubectl would otherwise fetch group by group.
 */
export function aggregatedDiscovery(resources: ResourceInfo[], core: boolean) {
  const groups = new Map<string, Map<string, ResourceInfo[]>>();
  for (const r of resources) {
    if ((r.group === '') !== core) continue;
    let versions = groups.get(r.group);
    if (!versions) groups.set(r.group, (versions = new Map()));
    versions.set(r.version, [...(versions.get(r.version) ?? []), r]);
  }
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [...groups].map(([group, versions]) => ({
      metadata: group ? { name: group } : {},
      versions: [...versions].map(([version, list]) => ({
        version,
        freshness: 'Current',
        resources: list.map((r) => ({
          resource: r.resource,
          responseKind: gvk(r.group, r.version, r.kind),
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singular,
          verbs: r.verbs ?? ALL_VERBS,
          ...(r.shortNames ? { shortNames: r.shortNames } : {}),
          ...(r.categories ? { categories: r.categories } : {}),
          ...(r.subresources?.length
            ? {
                subresources: r.subresources.map((sub) => {
                  const known = SUBRESOURCES[sub];
                  return {
                    subresource: sub,
                    responseKind: known ? gvk(known.group ?? r.group, known.version ?? r.version, known.kind) : gvk(r.group, r.version, r.kind),
                    verbs: known?.verbs ?? ['get', 'patch', 'update'],
                  };
                }),
              }
            : {}),
        })),
      })),
    })),
  };
}
