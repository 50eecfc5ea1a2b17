import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../apimachinery/index.ts';
import { countedResources, formatUsage, inQuotaScope, limitOf, usageOf } from '../quota/index.ts';
import type { Registry } from './registry.ts';
import type { Obj, ResourceInfo } from './resource-info.ts';

/**
 * The ResourceQuota admission plugin: a create that would take a namespace
 * past a quota's hard limits is refused (403), naming what was requested,
 * what is used and what the limit is, in Kubernetes' words. Usage is counted
 * from the namespace's objects as stored.
 */
export async function admitQuota(
  quotas: Registry,
  registryOf: (info: ResourceInfo) => Registry,
  info: ResourceInfo,
  namespace: string,
  obj: Obj,
): Promise<void> {
  const list = (await quotas.list({ namespace })).items as unknown as ResourceQuota[];
  if (list.length === 0) return;
  const resource = info.group ? `${info.resource}.${info.group}` : info.resource;
  let current: Obj[] | undefined;
  for (const q of list) {
    const hard = q.spec?.hard ?? {};
    if (!countedResources(hard).has(resource) || !inQuotaScope(q.spec ?? {}, { resource, obj })) continue;
    current ??= (await registryOf(info).list({ namespace })).items;
    const over: { name: string; requested: number; used: number; limit: string }[] = [];
    for (const [name, limit] of Object.entries(hard)) {
      const requested = usageOf(name, { resource, obj });
      if (requested === 0) continue;
      const used = (current as Obj[]).reduce((n, o) => n + (inQuotaScope(q.spec ?? {}, { resource, obj: o }) ? usageOf(name, { resource, obj: o }) : 0), 0);
      if (used + requested > limitOf(name, limit)) over.push({ name, requested, used, limit });
    }
    if (over.length === 0) continue;
    const list = (f: (o: (typeof over)[number]) => string) => over.map((o) => `${o.name}=${f(o)}`).join(',');
    const objName = obj.metadata.name ?? obj.metadata.generateName ?? '';
    throw new ApiError(
      'Forbidden',
      `${info.resource} "${objName}" is forbidden: exceeded quota: ${q.metadata?.name}, requested: ${list((o) => formatUsage(o.name, o.requested))}, used: ${list((o) => formatUsage(o.name, o.used))}, limited: ${list((o) => o.limit)}`,
    );
  }
}
