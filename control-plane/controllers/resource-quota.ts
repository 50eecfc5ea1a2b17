import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { defineController, objectKey, primary, requeueAfter, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import { countedResources, formatUsage, inQuotaScope, usageOf } from '../quota/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { PODS, RESOURCE_QUOTAS } from './shared-informers.ts';

/** Every quota is recounted this often, for the resources whose changes it does not watch. */
const RESYNC_MS = 15_000;

/** `deployments.apps` → /apis/apps/v1/namespaces/ns/deployments; `pods` → /api/v1/namespaces/ns/pods */
function collectionPath(resource: string, namespace: string): string {
  const dot = resource.indexOf('.');
  const ns = `namespaces/${encodeURIComponent(namespace)}`;
  return dot < 0 ? `/api/v1/${ns}/${resource}` : `/apis/${resource.slice(dot + 1)}/v1/${ns}/${resource.slice(0, dot)}`;
}

/**
 * Keeps each ResourceQuota's status.used current: object counts and the
 * compute and storage its namespace's objects request (those its scopes
 * select), recounted when pods
 * change and every 15 s; status.hard mirrors spec.hard.
 */
export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #quotas: Informer<ResourceQuota>;
  #pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#quotas = ctx.informers.for<ResourceQuota>(RESOURCE_QUOTAS);
    this.#pods = ctx.informers.for<Pod>(PODS);
    const quotasOf = (p: Pod) =>
      this.#quotas
        .list()
        .filter((q) => q.metadata?.namespace === p.metadata?.namespace)
        .map(objectKey);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff: { baseDelayMs: 100, maxDelayMs: 60_000 },
      watches: [primary(this.#quotas, ['add', 'update']), watch(this.#pods, quotasOf)],
      // usage is counted again now and then, whatever changed
      reconcile: async (key) => {
        await this.sync(key);
        return this.#quotas.get(key) ? requeueAfter(RESYNC_MS) : undefined;
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<void> {
    const quota = this.#quotas.get(key);
    if (!quota || quota.metadata?.deletionTimestamp) return;
    const namespace = quota.metadata?.namespace ?? '';
    const hard = quota.spec?.hard ?? {};
    const objects = new Map<string, { resource: string; obj: Pod }[]>();
    for (const resource of countedResources(hard)) {
      const items =
        resource === 'pods'
          ? this.#pods.list().filter((p) => p.metadata?.namespace === namespace)
          : ((await this.#ctx.client.request<{ items?: Pod[] }>('GET', collectionPath(resource, namespace))).items ?? []);
      objects.set(
        resource,
        items.map((obj) => ({ resource, obj })),
      );
    }
    const used: Record<string, string> = {};
    for (const name of Object.keys(hard)) {
      let amount = 0;
      for (const list of objects.values()) for (const c of list) if (inQuotaScope(quota.spec ?? {}, c)) amount += usageOf(name, c);
      used[name] = formatUsage(name, amount);
    }
    if (JSON.stringify(quota.status?.hard ?? {}) === JSON.stringify(hard) && JSON.stringify(quota.status?.used ?? {}) === JSON.stringify(used)) return;
    await this.#ctx.client.update({ ...RESOURCE_QUOTAS, namespace, name: quota.metadata?.name, subresource: 'status' }, { ...quota, status: { hard, used } });
  }
}
