import { ensure } from '../bootstrap.ts';
import type { Registry } from '../registry.ts';
import type { ResourceInfo } from '../resource-info.ts';
import { apiServiceName } from '../resources/api-services.ts';

// kube-apiserver's autoregistration: every group version served here has a
// Local APIService (no service), made on start when missing and left as it
// is after, so `kubectl get apiservices` lists them, and an operator may hand
// one to an extension API server (metrics-server takes metrics.k8s.io so).

const AUTOMANAGED = { 'kube-aggregator.kubernetes.io/automanaged': 'onstart' };

/** Creates the Local APIServices missing for the served group versions: earlier groups and versions (the preferred ones) first in priority. */
export async function registerLocalApiServices(apiServices: Registry, served: ResourceInfo[]): Promise<void> {
  const groups = new Map<string, string[]>();
  for (const r of served) {
    const versions = groups.get(r.group) ?? [];
    if (!versions.includes(r.version)) groups.set(r.group, [...versions, r.version]);
  }
  // one read on start; only what is missing is written (another server may make it meanwhile)
  const existing = new Set((await apiServices.list({})).items.map((o) => o.metadata.name));
  let groupPriority = 18000;
  for (const [group, versions] of groups) {
    for (const [i, version] of versions.entries()) {
      const name = apiServiceName(group, version);
      if (existing.has(name)) continue;
      await ensure(() =>
        apiServices.create(undefined, {
          metadata: { name, labels: AUTOMANAGED },
          spec: { group, version, groupPriorityMinimum: groupPriority, versionPriority: Math.max(15 - 6 * i, 1) },
        }),
      );
    }
    groupPriority = Math.max(groupPriority - 100, 1000);
  }
}
