import type { Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { ApiError, waitForWake, type Logger, type RestClient } from '../../apimachinery/index.ts';

interface Entry {
  namespace: string;
  name: string;
  uid: string;
  status: PodStatus;
  version: number;
}

/**
 * The one holder and writer of the status this agent computes for its pods.
 * set() records the newest status per pod (latest() gives it back: the basis
 * of the pod's next sync); a flush loop sends each pod's newest one once
 * (bursts coalesce), skipping what the API server already has; release()
 * lets a stopped pod go from the API.
 */
/**
 * The status as a strategic merge patch must say it: a condition's reason
 * and message that went (it turned True) are named null, as a patch keeps
 * what it does not name.
 */
function withRemovals(status: PodStatus): PodStatus {
  if (!status.conditions) return status;
  return { ...status, conditions: status.conditions.map((c) => ({ reason: null, message: null, ...c }) as unknown as PodCondition) };
}

export class StatusManager {
  #client: RestClient;
  #log: Logger;
  #latest = new Map<string, PodStatus>();
  #pending = new Map<string, Entry>();
  #sent = new Map<string, string>();
  #kick: (() => void) | undefined;
  #version = 0;
  #inflight: Promise<void> = Promise.resolve();
  #apiUid: (pod: { namespace: string; name: string; uid: string }) => string | null;

  /** `apiUid`: the uid of the API object carrying a pod's status (a static pod's mirror); null while there is none */
  constructor(client: RestClient, log: Logger, apiUid: (pod: { namespace: string; name: string; uid: string }) => string | null = (p) => p.uid) {
    this.#client = client;
    this.#log = log;
    this.#apiUid = apiUid;
  }

  set(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata?.uid ?? '';
    this.#latest.set(uid, status);
    const text = JSON.stringify(status);
    if (this.#sent.get(uid) === text) {
      this.#pending.delete(uid);
      return;
    }
    this.#pending.set(uid, { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid, status, version: ++this.#version });
    this.#kick?.();
  }

  /** The status last set for a pod; none before its first sync on this agent. */
  latest(uid: string): PodStatus | undefined {
    return this.#latest.get(uid);
  }

  /** Sends the pending status of one pod now (before deleting it, say). */
  async flushPod(uid: string): Promise<void> {
    await this.#inflight;
    const e = this.#pending.get(uid);
    if (e) await this.#send(e);
  }

  /**
   * The pod is stopped and its final status sent: it may leave the API
   * server now (this very object: a namesake made since is left alone), as
   * the kubelet's status manager lets it go.
   */
  async release(pod: Pod): Promise<void> {
    await this.flushPod(pod.metadata?.uid ?? '');
    try {
      await this.#client.delete(
        { resource: 'pods', namespace: pod.metadata?.namespace, name: pod.metadata?.name },
        { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
      );
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  /** The pod's status goes to a new API object (a static pod's mirror was made again): send it afresh. */
  resend(uid: string): void {
    this.#sent.delete(uid);
    this.#kick?.();
  }

  /** The pod is gone from this agent. */
  forget(uid: string): void {
    this.#latest.delete(uid);
    this.#pending.delete(uid);
    this.#sent.delete(uid);
  }

  async #send(e: Entry): Promise<void> {
    const text = JSON.stringify(e.status);
    const uid = this.#apiUid(e);
    // nothing to write to yet (a mirror pod being made): stays pending
    if (uid === null) return;
    try {
      await this.#client.patch(
        { resource: 'pods', namespace: e.namespace, name: e.name, subresource: 'status' },
        { metadata: { uid }, status: withRemovals(e.status) },
        'strategic',
      );
      this.#sent.set(e.uid, text);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) {
        this.#log.warn({ pod: `${e.namespace}/${e.name}`, err: (err as Error).message }, 'status update failed; will retry');
        return;
      }
    }
    if (this.#pending.get(e.uid)?.version === e.version) this.#pending.delete(e.uid);
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.#pending.size === 0) {
        await waitForWake(signal, (wake) => {
          const t = setTimeout(wake, 10_000);
          this.#kick = () => {
            clearTimeout(t);
            wake();
          };
        });
        this.#kick = undefined;
        continue;
      }
      const batch = [...this.#pending.values()];
      this.#inflight = Promise.all(batch.map((e) => this.#send(e))).then(() => undefined);
      await this.#inflight;
      // failed sends stay pending; pause briefly so a down API server is not hammered
      if (this.#pending.size > 0 && batch.every((e) => this.#pending.get(e.uid)?.version === e.version)) await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
