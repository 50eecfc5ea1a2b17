import { ApiError } from '../../../apimachinery/index.ts';
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
  let groupPriority = 18000;
  for (const [group, versions] of groups) {
    for (const [i, version] of versions.entries()) {
      try {
        await apiServices.create(undefined, {
          metadata: { name: apiServiceName(group, version), labels: AUTOMANAGED },
          spec: { group, version, groupPriorityMinimum: groupPriority, versionPriority: Math.max(15 - 6 * i, 1) },
        });
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      }
    }
    groupPriority = Math.max(groupPriority - 100, 1000);
  }
}
