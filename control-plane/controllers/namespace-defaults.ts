import type { ConfigMap, Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiError, defineController, primary, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { NAMESPACES, type ResourceType } from './shared-informers.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DEFAULT_SERVICE_ACCOUNTS: ResourceType = { resource: 'serviceaccounts', fieldSelector: 'metadata.name=default' };
const ROOT_CA_CONFIGMAPS: ResourceType = { resource: 'configmaps', fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` };
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/**
 * What every active namespace holds from its creation on, put back when
 * deleted or changed: the `default` ServiceAccount (kube-controller-manager's
 * serviceaccount controller) and the `kube-root-ca.crt` ConfigMap with the
 * cluster CA (its root-ca-cert-publisher).
 */
export class NamespaceDefaultsController implements Controller {
  readonly name = 'namespace-defaults';
  #ctx: ControllerContext;
  #caPem: string;
  #loop: RunnableController;
  #namespaces: Informer<Namespace>;
  #accounts: Informer<ServiceAccount>;
  #configMaps: Informer<ConfigMap>;

  constructor(ctx: ControllerContext, caPem: string) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#caPem = caPem;
    this.#namespaces = ctx.informers.for<Namespace>(NAMESPACES);
    this.#accounts = ctx.informers.for<ServiceAccount>(DEFAULT_SERVICE_ACCOUNTS);
    this.#configMaps = ctx.informers.for<ConfigMap>(ROOT_CA_CONFIGMAPS);
    const namespaceOf = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace;
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff: { baseDelayMs: 100, maxDelayMs: 30_000 },
      watches: [
        primary(this.#namespaces, ['add', 'update']),
        watch(this.#accounts, namespaceOf, ['delete']),
        watch(this.#configMaps, namespaceOf, ['update', 'delete']),
      ],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.#namespaces.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp) return;
    if (!this.#accounts.get(`${namespace}/default`)) {
      await this.#createIfMissing({ resource: 'serviceaccounts', namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    }
    const cm = this.#configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const wanted = { 'ca.crt': this.#caPem };
    if (!cm) {
      await this.#createIfMissing(
        { resource: 'configmaps', namespace },
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
          data: wanted,
        },
      );
    } else if (cm.data?.['ca.crt'] !== this.#caPem) {
      await this.#ctx.client.update({ resource: 'configmaps', namespace, name: ROOT_CA_CONFIGMAP }, { ...cm, data: wanted });
    }
  }

  async #createIfMissing(ref: { resource: string; namespace: string }, body: object): Promise<void> {
    try {
      await this.#ctx.client.create(ref, body);
    } catch (err) {
      // already there, or the namespace started terminating meanwhile
      if (!(err instanceof ApiError && (err.code === 409 || err.code === 403))) throw err;
    }
  }
}
