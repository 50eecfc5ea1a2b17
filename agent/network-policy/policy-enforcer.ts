import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { Informer, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { cleanupProxy, nft } from '../proxy/index.ts';
import { renderPolicyTable } from './policy-model.ts';

/** The policy table beside the Service proxy's table of the same name. */
export const policyTable = (proxyTable: string) => `${proxyTable}-policy`;

/** Removes the policy table beside a proxy table, if there is one (--cleanup, uninstall, down, tests). */
export async function removePolicyTable(proxyTable: string): Promise<void> {
  await cleanupProxy(policyTable(proxyTable));
}

/** Changes arriving within this long are programmed together. */
const DEBOUNCE_MS = 100;
/** The table is written again at least this often, undoing whatever else edited it; and this long after a failure. */
const RESYNC_MS = 5 * 60_000;
const RETRY_MS = 5_000;

/**
 * NetworkPolicy enforcement for the pods of this node (as k3s's embedded
 * policy controller): every policy, pod and namespace is watched, and on any
 * change the policy table is rendered anew and, if it differs from what was
 * written, written in one nft transaction.
 */
export class NetworkPolicyEnforcer {
  readonly #log: Logger;
  readonly #table: string;
  readonly #nodeName: string;
  readonly #policies: Informer<NetworkPolicy>;
  readonly #pods: Informer<Pod>;
  readonly #namespaces: Informer<Namespace>;
  #timer: NodeJS.Timeout | undefined;
  #written: string | undefined;
  #syncing: Promise<void> = Promise.resolve();

  constructor(client: RestClient, opts: { table: string; nodeName: string }, log: Logger) {
    this.#log = log.child({ component: 'network-policy' });
    this.#table = opts.table;
    this.#nodeName = opts.nodeName;
    this.#policies = new Informer<NetworkPolicy>(client, { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' }, { log: this.#log });
    this.#pods = new Informer<Pod>(client, { resource: 'pods' }, { log: this.#log });
    this.#namespaces = new Informer<Namespace>(client, { resource: 'namespaces' }, { log: this.#log });
    for (const informer of [this.#policies, this.#pods, this.#namespaces] as Informer<{ metadata?: object }>[]) {
      const changed = () => this.#schedule(DEBOUNCE_MS);
      informer.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    const informers = [this.#policies, this.#pods, this.#namespaces];
    for (const i of informers) void i.run(signal);
    await Promise.all(informers.map((i) => i.hasSynced()));
    signal.addEventListener('abort', () => clearTimeout(this.#timer), { once: true });
    this.#schedule(0);
  }

  /** `rewrite`: write the table even if it is what was written (the periodic resync) */
  #schedule(afterMs: number, rewrite = false): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (rewrite) this.#written = undefined;
      this.#syncing = this.#syncing.then(() => this.#sync());
    }, afterMs);
    this.#timer.unref();
  }

  async #sync(): Promise<void> {
    const script = renderPolicyTable(this.#table, {
      policies: this.#policies.list(),
      pods: this.#pods.list(),
      namespaces: this.#namespaces.list(),
      nodeName: this.#nodeName,
    });
    try {
      if (script !== this.#written) {
        await nft(script);
        this.#written = script;
        this.#log.debug({ bytes: script.length }, 'policy table written');
      }
      this.#schedule(RESYNC_MS, true);
    } catch (err) {
      this.#written = undefined;
      this.#log.warn({ err: (err as Error).message }, 'writing the policy table failed; trying again');
      this.#schedule(RETRY_MS);
    }
  }
}
