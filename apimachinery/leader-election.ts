import { Gauge, type Registry } from 'prom-client';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Logger } from './logging.ts';
import type { RestClient } from './rest-client.ts';
import { ApiError } from './status.ts';
import { microTime, sleep } from './time.ts';

export interface LeaderElectionOptions {
  /** the Lease, in kube-system: kube-scheduler, kube-controller-manager */
  name: string;
  namespace?: string;
  /** who this process is in holderIdentity */
  identity: string;
  /** how long a lease holds without renewal before another may take it */
  leaseDurationMs: number;
  /** a leader that could not renew for this long steps down */
  renewDeadlineMs: number;
  /** how often the leader renews and the others try */
  retryPeriodMs: number;
  /** told when this process starts and stops leading (leader_election_master_status) */
  leading?: (isLeader: boolean) => void;
}

/** Takeover within about 12 + 2 s of a leader dying, and at once when it stops cleanly. */
export const DEFAULT_LEADER_ELECTION = { leaseDurationMs: 12_000, renewDeadlineMs: 8_000, retryPeriodMs: 2_000 };

/**
 * Leader election through a coordination.k8s.io Lease, as client-go's: one
 * holder at a time, renewed every retry period with optimistic concurrency.
 * Another holder's lease counts as expired when it has not changed for
 * leaseDuration by our own clock (so clock skew between hosts does not
 * matter). `lead` runs while this process leads and is stopped, through its
 * signal, when leadership is lost; it may run again on the next term. On
 * shutdown the lease is released so a standby takes over at once.
 */
export class LeaderElector {
  #client: RestClient;
  #opts: Required<Omit<LeaderElectionOptions, 'leading'>> & Pick<LeaderElectionOptions, 'leading'>;
  #log: Logger;
  /** the other holder's lease as last seen, and when we saw it change */
  #observed: { holder?: string; renewTime?: string; at: number } = { at: 0 };

  constructor(client: RestClient, opts: LeaderElectionOptions, log: Logger) {
    this.#client = client;
    this.#opts = { namespace: 'kube-system', ...opts };
    this.#log = log.child({ lease: opts.name, identity: opts.identity });
    opts.leading?.(false);
  }

  get #ref() {
    return { group: 'coordination.k8s.io', resource: 'leases', namespace: this.#opts.namespace, name: this.#opts.name };
  }

  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.#tryAcquireOrRenew())) {
        await sleep(this.#opts.retryPeriodMs, signal);
        continue;
      }
      this.#log.info('became leader');
      this.#opts.leading?.(true);
      const term = new AbortController();
      const stopTerm = () => term.abort();
      signal.addEventListener('abort', stopTerm, { once: true });
      const work = lead(term.signal).catch((err: Error) => this.#log.error({ err: err.message }, 'leader work failed'));
      let lastRenewal = Date.now();
      while (!term.signal.aborted) {
        await sleep(this.#opts.retryPeriodMs, term.signal);
        if (term.signal.aborted) break;
        if (await this.#tryAcquireOrRenew()) lastRenewal = Date.now();
        else if (Date.now() - lastRenewal > this.#opts.renewDeadlineMs) {
          this.#log.warn('lost leadership');
          term.abort();
        }
      }
      signal.removeEventListener('abort', stopTerm);
      this.#opts.leading?.(false);
      await work;
    }
    await this.#release();
  }

  /** Takes the lease when free or expired, renews it when ours; false when someone else holds it. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = microTime();
    const { identity, leaseDurationMs } = this.#opts;
    const durationSeconds = Math.ceil(leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await this.#client.get<Lease>(this.#ref);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) return this.#failed(err);
      try {
        await this.#client.create(
          { ...this.#ref, name: undefined },
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.#opts.name, namespace: this.#opts.namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        );
        return true;
      } catch (createErr) {
        return this.#failed(createErr);
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder !== identity) {
      if (holder !== this.#observed.holder || spec.renewTime !== this.#observed.renewTime)
        this.#observed = { holder, renewTime: spec.renewTime, at: Date.now() };
      const heldFor = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (holder && Date.now() - this.#observed.at < heldFor) return false;
    }
    const taking = holder !== identity;
    try {
      await this.#client.update(this.#ref, {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          renewTime: now,
          ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder ? 1 : 0) } : {}),
        },
      });
      return true;
    } catch (err) {
      return this.#failed(err);
    }
  }

  #failed(err: unknown): false {
    if (!(err instanceof ApiError && err.code === 409)) this.#log.debug({ err: (err as Error).message }, 'lease not acquired');
    return false;
  }

  /** Gives the lease up (if ours) so the next candidate need not wait for it to expire. */
  async #release(): Promise<void> {
    try {
      const lease = await this.#client.get<Lease>(this.#ref);
      if (lease.spec?.holderIdentity !== this.#opts.identity) return;
      await this.#client.update(this.#ref, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() } });
      this.#log.info('released leadership');
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not release the lease');
    }
  }
}

/** leader_election_master_status{name}: 1 while this process leads the named Lease, else 0; the returned function makes each Lease's `leading` option. */
export function leaderStatusMetric(registry: Registry): (name: string) => (isLeader: boolean) => void {
  const gauge = new Gauge({
    name: 'leader_election_master_status',
    help: 'Whether this process leads the named lease (1) or not (0).',
    labelNames: ['name'],
    registers: [registry],
  });
  return (name) => (isLeader) => gauge.set({ name }, isLeader ? 1 : 0);
}

/** Whether a Lease was renewed within its duration (`defaultSeconds` when it names none) as of `now`. */
export function leaseLive(spec: { renewTime?: string; leaseDurationSeconds?: number } | undefined, now: number, defaultSeconds: number): boolean {
  return Date.parse(spec?.renewTime ?? '') + (spec?.leaseDurationSeconds ?? defaultSeconds) * 1000 > now;
}
