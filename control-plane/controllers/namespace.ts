import type { Namespace } from 'kubernetes-types/core/v1.js';
import {
  ApiError,
  defineController,
  objectKey,
  requeueAfter,
  watch,
  type Informer,
  type ReconcileAction,
  type RunnableController,
} from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { NAMESPACES } from './shared-informers.ts';

const FINALIZER = 'kubernetes';

/** What a resource or group version going away meanwhile answers with: nothing left to delete there. */
function unlessGone<T>(err: unknown, gone: T): T {
  if (err instanceof ApiError && err.code === 404) return gone;
  throw err;
}
/** How soon a namespace whose content is still going away is looked at again. */
const RECHECK_MS = 1000;

interface ApiResourceList {
  groupVersion: string;
  resources: { name: string; namespaced: boolean; verbs: string[] }[];
}

/**
 * Empties deleted namespaces: every namespaced resource the API serves is
 * deleted in the namespace (found through discovery, so new resources are
 * covered), and once nothing is left the `kubernetes` finalizer is removed
 * through the finalize subresource, which lets the namespace go.
 */
export class NamespaceController implements Controller {
  readonly name = 'namespace';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #namespaces: Informer<Namespace>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#namespaces = ctx.informers.for<Namespace>(NAMESPACES);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff: { baseDelayMs: 100, maxDelayMs: 30_000 },
      // only namespaces being deleted have work to do
      watches: [watch(this.#namespaces, (ns) => ns.metadata?.deletionTimestamp && objectKey(ns), ['add', 'update'])],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(name: string): Promise<ReconcileAction> {
    const ns = this.#namespaces.get(name);
    if (!ns?.metadata?.deletionTimestamp || !ns.spec?.finalizers?.includes(FINALIZER)) return;
    let left = 0;
    // a custom resource removed while this runs answers 404: its objects went with it (a 404 must not end
    // the sync, or the namespace would wait in Terminating until something touched it)
    for (const path of await this.#namespacedCollections(name)) {
      const list = await this.#ctx.client.request<{ items?: unknown[] }>('GET', path).catch((err: unknown) => unlessGone(err, {} as { items?: unknown[] }));
      if (!list.items?.length) continue;
      left += list.items.length;
      await this.#ctx.client
        .request('DELETE', path, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } })
        .catch((err: unknown) => unlessGone(err, undefined));
    }
    // what was deleted may take a while to go (finalizers): look again
    if (left > 0) return requeueAfter(RECHECK_MS);
    await this.#ctx.client.update(
      { ...NAMESPACES, name, subresource: 'finalize' },
      { ...ns, spec: { ...ns.spec, finalizers: ns.spec.finalizers.filter((f) => f !== FINALIZER) } },
    );
    this.#ctx.log.info({ namespace: name }, 'namespace emptied');
    return undefined;
  }

  /** Collection URLs, in this namespace, of every namespaced resource that can be listed and deleted. */
  async #namespacedCollections(namespace: string): Promise<string[]> {
    const groups = await this.#ctx.client.request<{ groups: { preferredVersion: { groupVersion: string } }[] }>('GET', '/apis');
    const lists = await Promise.all([
      this.#ctx.client.request<ApiResourceList>('GET', '/api/v1'),
      ...groups.groups.map((g) =>
        this.#ctx.client.request<ApiResourceList>('GET', `/apis/${g.preferredVersion.groupVersion}`).catch((err: unknown) => unlessGone(err, undefined)),
      ),
    ]);
    const paths: string[] = [];
    for (const list of lists) {
      if (!list) continue;
      const base = list.groupVersion === 'v1' ? '/api/v1' : `/apis/${list.groupVersion}`;
      for (const r of list.resources) {
        if (r.namespaced && !r.name.includes('/') && r.verbs.includes('list') && r.verbs.includes('deletecollection'))
          paths.push(`${base}/namespaces/${encodeURIComponent(namespace)}/${r.name}`);
      }
    }
    return paths;
  }
}
