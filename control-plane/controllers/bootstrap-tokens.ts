import type { ConfigMap, Secret } from 'kubernetes-types/core/v1.js';
import {
  defineController,
  objectKey,
  primary,
  requeueAfter,
  watch,
  type Informer,
  type ReconcileAction,
  type RunnableController,
} from '../../apimachinery/index.ts';
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_TYPE,
  CLUSTER_INFO,
  JWS_KEY_PREFIX,
  KUBECONFIG_KEY,
  isExpired,
  readBootstrapToken,
  signKubeconfig,
  type BootstrapToken,
} from '../../apimachinery/index.ts';
import { deleteExact, type Controller, type ControllerContext } from './context.ts';
import type { ResourceType } from './shared-informers.ts';

const TOKEN_SECRETS: ResourceType = { resource: 'secrets', fieldSelector: `type=${BOOTSTRAP_TOKEN_TYPE}` };
const CLUSTER_INFO_MAPS: ResourceType = { resource: 'configmaps', fieldSelector: `metadata.name=${CLUSTER_INFO.name}` };
const CLUSTER_INFO_KEY = `${CLUSTER_INFO.namespace}/${CLUSTER_INFO.name}`;

type Stored = Secret & { data?: Record<string, string> };
const tokenOf = (s: Stored) => (s.metadata?.namespace === BOOTSTRAP_TOKEN_NAMESPACE ? readBootstrapToken(s) : null);

/** The soonest moment one of these tokens expires, as a wait from now (none: nothing expires). */
function untilFirstExpiry(tokens: BootstrapToken[], now: number): ReconcileAction | undefined {
  const next = Math.min(...tokens.flatMap((t) => (t.expiration ? [t.expiration.getTime()] : [])));
  return Number.isFinite(next) ? requeueAfter(next - now + 1) : undefined;
}

/**
 * kube-controller-manager's bootstrapsigner: kube-public/cluster-info
 * carries, beside its kubeconfig, a detached JWS of that kubeconfig per live
 * bootstrap token with the "signing" usage (`jws-kubeconfig-<token id>`), so
 * a node holding a token can tell the cluster-info it read is this cluster's.
 * Signatures of tokens that expired or went are taken away.
 */
export class BootstrapSignerController implements Controller {
  readonly name = 'bootstrapsigner';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #secrets: Informer<Stored>;
  #configMaps: Informer<ConfigMap>;
  #now: () => number;

  constructor(ctx: ControllerContext, now: () => number = Date.now) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#now = now;
    this.#secrets = ctx.informers.for<Stored>(TOKEN_SECRETS);
    this.#configMaps = ctx.informers.for<ConfigMap>(CLUSTER_INFO_MAPS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      backoff: { baseDelayMs: 200, maxDelayMs: 30_000 },
      watches: [watch(this.#secrets, () => CLUSTER_INFO_KEY), watch(this.#configMaps, (cm) => objectKey(cm) === CLUSTER_INFO_KEY && CLUSTER_INFO_KEY)],
      reconcile: () => this.sync(),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(): Promise<ReconcileAction | undefined> {
    const cm = this.#configMaps.get(CLUSTER_INFO_KEY);
    const kubeconfig = cm?.data?.[KUBECONFIG_KEY];
    if (!cm || kubeconfig === undefined) return undefined;
    const now = this.#now();
    const signing = this.#secrets
      .list()
      .map(tokenOf)
      .filter((t): t is BootstrapToken => !!t && t.usages.includes('signing') && !isExpired(t, now));
    const signatures = Object.fromEntries(await Promise.all(signing.map(async (t) => [`${JWS_KEY_PREFIX}${t.id}`, await signKubeconfig(kubeconfig, t)])));
    const kept = Object.fromEntries(Object.entries(cm.data ?? {}).filter(([k]) => !k.startsWith(JWS_KEY_PREFIX)));
    const data = { ...kept, ...signatures };
    const same = (a: Record<string, string>, b: Record<string, string>) =>
      JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
    if (!same(data, cm.data ?? {})) {
      await this.#ctx.client.update({ resource: 'configmaps', namespace: CLUSTER_INFO.namespace, name: CLUSTER_INFO.name }, { ...cm, data });
      this.#ctx.log.info({ tokens: signing.map((t) => t.id) }, 'cluster-info signed');
    }
    return untilFirstExpiry(signing, now);
  }
}

/** kube-controller-manager's tokencleaner: a bootstrap token Secret is deleted once its expiration has passed. */
export class TokenCleanerController implements Controller {
  readonly name = 'tokencleaner';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #secrets: Informer<Stored>;
  #now: () => number;

  constructor(ctx: ControllerContext, now: () => number = Date.now) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#now = now;
    this.#secrets = ctx.informers.for<Stored>(TOKEN_SECRETS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      backoff: { baseDelayMs: 200, maxDelayMs: 30_000 },
      watches: [primary(this.#secrets, ['add', 'update'])],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<ReconcileAction | undefined> {
    const secret = this.#secrets.get(key);
    const token = secret && tokenOf(secret);
    if (!secret || !token) return undefined;
    const now = this.#now();
    if (!isExpired(token, now)) return untilFirstExpiry([token], now);
    if (await deleteExact(this.#ctx.client, { resource: 'secrets', namespace: BOOTSTRAP_TOKEN_NAMESPACE }, secret)) {
      this.#ctx.log.info({ token: token.id }, 'deleted expired bootstrap token');
    }
    return undefined;
  }
}
