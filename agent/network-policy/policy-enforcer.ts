import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { Informer, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { cleanupProxy, nft } from '../proxy/index.ts';
import { policyTableModel, renderPolicyDelta, renderPolicyTable, type PolicyTableModel } from './policy-model.ts';

/** The policy table beside the Service proxy's table of the same name. */
export const policyTable = (proxyTable: string) => `${proxyTable}-policy`;

/** Removes the policy table beside a proxy table, if there is one (--cleanup, uninstall, down, tests). */
export async function removePolicyTable(proxyTable: string): Promise<void> {
  await cleanupProxy(policyTable(proxyTable));
}

/** Changes arriving within this long are programmed together. */
const DEBOUNCE_MS = 100;
/** The table is written whole again this long after it was last written whole, undoing whatever else edited it; and this long after a failure. */
const RESYNC_MS = 5 * 60_000;
const RETRY_MS = 5_000;

/** The pods and namespaces a policy may name, watched only while there is a policy. */
interface PeerWatch {
  pods: Informer<Pod>;
  namespaces: Informer<Namespace>;
  stop: AbortController;
  synced: Promise<unknown>;
}

/**
 * NetworkPolicy enforcement for the pods of this node (as k3s's embedded
 * policy controller): policies are watched always; every pod and namespace
 * only while there is at least one policy (a cluster without any pays one
 * watch, not a copy of every pod). On any change the table's model is worked
 * out anew and what differs from the model last written (a pod's address
 * moving between sets, a chain refilled) goes to nft in one transaction; the
 * whole table is written at first, after a failure and periodically.
 */
export class NetworkPolicyEnforcer {
  readonly #log: Logger;
  readonly #client: RestClient;
  readonly #table: string;
  readonly #nodeName: string;
  readonly #policies: Informer<NetworkPolicy>;
  #peers: PeerWatch | undefined;
  #signal: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;
  #resync: NodeJS.Timeout | undefined;
  /** what the table holds, as far as this agent wrote it; undefined: write it whole */
  #written: PolicyTableModel | undefined;
  #syncing: Promise<void> = Promise.resolve();

  constructor(client: RestClient, opts: { table: string; nodeName: string }, log: Logger) {
    this.#log = log.child({ component: 'network-policy' });
    this.#client = client;
    this.#table = opts.table;
    this.#nodeName = opts.nodeName;
    this.#policies = new Informer<NetworkPolicy>(client, { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' }, { log: this.#log });
    const changed = () => this.#schedule(DEBOUNCE_MS);
    this.#policies.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    void this.#policies.run(signal);
    await this.#policies.hasSynced();
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(this.#timer);
        clearTimeout(this.#resync);
      },
      { once: true },
    );
    this.#schedule(0);
  }

  /** Starts watching pods and namespaces (once there is a policy), or stops (once there is none). */
  #watchPeers(wanted: boolean): void {
    if (wanted && !this.#peers && this.#signal && !this.#signal.aborted) {
      const stop = new AbortController();
      const signal = AbortSignal.any([this.#signal, stop.signal]);
      const pods = new Informer<Pod>(this.#client, { resource: 'pods' }, { log: this.#log });
      const namespaces = new Informer<Namespace>(this.#client, { resource: 'namespaces' }, { log: this.#log });
      const changed = () => this.#schedule(DEBOUNCE_MS);
      for (const i of [pods, namespaces] as Informer<{ metadata?: object }>[]) {
        i.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
        void i.run(signal);
      }
      this.#peers = { pods, namespaces, stop, synced: Promise.all([pods.hasSynced(), namespaces.hasSynced()]) };
    } else if (!wanted && this.#peers) {
      this.#peers.stop.abort();
      this.#peers = undefined;
    }
  }

  #schedule(afterMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#syncing = this.#syncing.then(() => this.#sync());
    }, afterMs);
    this.#timer.unref();
  }

  /** Writes the whole table again a while after it was last written whole, undoing whatever else edited it. */
  #scheduleResync(): void {
    if (this.#resync) clearTimeout(this.#resync);
    this.#resync = setTimeout(() => {
      // in the queue of syncs, so a sync under way cannot put its model back over the reset
      this.#syncing = this.#syncing.then(() => {
        this.#written = undefined;
        return this.#sync();
      });
    }, RESYNC_MS);
    this.#resync.unref();
  }

  async #sync(): Promise<void> {
    const policies = this.#policies.list();
    this.#watchPeers(policies.length > 0);
    const peers = this.#peers;
    if (peers) await peers.synced;
    const model = policyTableModel({
      policies,
      pods: peers?.pods.list() ?? [],
      namespaces: peers?.namespaces.list() ?? [],
      nodeName: this.#nodeName,
    });
    const written = this.#written;
    const script = written ? renderPolicyDelta(this.#table, written, model) : renderPolicyTable(this.#table, model);
    try {
      if (script) {
        await nft(script);
        this.#log.debug({ bytes: script.length, whole: !written }, 'policy table written');
      }
      this.#written = model;
      if (!written) this.#scheduleResync();
    } catch (err) {
      this.#written = undefined;
      this.#log.warn({ err: (err as Error).message }, 'writing the policy table failed; trying again');
      this.#schedule(RETRY_MS);
    }
  }
}
