import type { Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { backoffDelay, isPodTerminal, type Backoff, type Logger } from '../../apimachinery/index.ts';
import { newPodMemory, type PodMemory, type PodSyncer, type Requeue } from './pod-sync.ts';
import type { StatusManager } from './status-manager.ts';

/** Where a pod is in its life on this node: running, being stopped, stopped, and finally cleaned away. */
type Lifecycle = { kind: 'syncing' } | { kind: 'terminating' } | { kind: 'terminated' } | { kind: 'removed' };

/** Why the agent itself ended a pod (eviction, or refused admission): the pod stays in the API as Failed with this reason. */
export interface TerminalReason {
  reason: string;
  message: string;
  /** how long its containers get to stop */
  graceSeconds: number;
  /** a condition to add (DisruptionTarget for evictions) */
  condition?: PodCondition;
}

/** Decides whether a pod new to this node may start. */
export type PodAdmitter = (pod: Pod) => { admit: true } | { admit: false; reason: string; message: string };

/** Told of each pod's way to running (the start-up latency metrics). */
export interface PodStartup {
  seen(pod: Pod): void;
  syncing(uid: string): void;
  status(uid: string, status: PodStatus): void;
  forget(uid: string): void;
}

interface Worker {
  uid: string;
  /** the newest desired pod (latest wins); undefined for runtime orphans */
  pod: Pod | undefined;
  /** gone from the API server */
  removed: boolean;
  lifecycle: Lifecycle;
  memory: PodMemory;
  dirty: boolean;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  /** set when the agent ends the pod on its own */
  terminal?: TerminalReason;
  /** callers waiting for the terminal status to be sent */
  terminalWaiters: (() => void)[];
  /** actions on the pod from outside its sync (a liveness kill), run by the worker before its next sync */
  actions: (() => Promise<void>)[];
  /** failed syncs in a row, and the last one's error: a retry waits longer each time, and the same error is logged once */
  failures: number;
  lastError: string | undefined;
}

/**
 * A sync that failed is tried again after 1 s, doubling up to 10 s (the
 * kubelet's pod worker back-off): a sandbox the runtime will not remove is not
 * hammered, and a pod whose syncs failed for a while is not left waiting long.
 */
const RETRY: Backoff = { initialMs: 1000, maxMs: 10_000 };

/**
 * One worker per pod: syncs are serial within a pod and parallel across
 * pods. An update while a sync runs marks the worker dirty, so it syncs once
 * more with the newest pod. Deleted pods are stopped within their grace
 * period, their final status sent, and then removed from the API and runtime.
 */
export class PodWorkers {
  #workers = new Map<string, Worker>();
  #syncer: PodSyncer;
  #status: StatusManager;
  #log: Logger;

  #admitters: PodAdmitter[] = [];

  #now: () => number;
  #startup: PodStartup | undefined;

  constructor(args: { syncer: PodSyncer; status: StatusManager; log: Logger; now?: () => number; startup?: PodStartup }) {
    this.#now = args.now ?? Date.now;
    this.#startup = args.startup;
    this.#syncer = args.syncer;
    this.#status = args.status;
    this.#log = args.log;
  }

  /** Adds a check every pod new to this node must pass before it starts (the kubelet's admit handlers); the first refusal wins. */
  addAdmitHandler(admit: PodAdmitter): void {
    this.#admitters.push(admit);
  }

  has(uid: string): boolean {
    return this.#workers.has(uid);
  }

  get size(): number {
    return this.#workers.size;
  }

  update(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const known = this.#workers.has(uid);
    const w = this.#worker(uid);
    const previous = w.pod;
    w.pod = pod;
    if (!known) this.#startup?.seen(pod);
    // most updates of a running pod are its own status PATCHes coming back: nothing to do (see needsSync)
    if (known && previous && !needsSync(previous, pod)) return;
    // admission applies to pods no agent has started yet (an adopted running pod is not refused)
    if (!known && !pod.status?.startTime && !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp) {
      const verdict = this.#admitters.map((admit) => admit(pod)).find((v) => !v.admit);
      if (verdict && !verdict.admit) {
        this.#log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason: verdict.reason }, 'pod not admitted');
        w.terminal = { reason: verdict.reason, message: verdict.message, graceSeconds: 0 };
      }
    }
    this.#schedule(w);
  }

  /** Ends a running pod on the agent's own account (eviction); resolves once it is stopped and its status sent. */
  end(uid: string, why: TerminalReason): Promise<void> {
    const w = this.#workers.get(uid);
    if (!w || w.removed || w.terminal) return Promise.resolve();
    w.terminal = why;
    return new Promise<void>((resolve) => {
      w.terminalWaiters.push(resolve);
      this.#schedule(w);
    });
  }

  /** The pods this agent runs that have not finished (the eviction manager's candidates). */
  active(): Pod[] {
    return [...this.#workers.values()]
      .filter((w) => w.pod && !w.removed && !w.terminal && w.lifecycle.kind === 'syncing' && !isPodTerminal(w.pod) && !w.pod.metadata?.deletionTimestamp)
      .map((w) => w.pod as Pod);
  }

  /** The pod is gone from the API server (or was never there: a runtime orphan). */
  remove(uid: string, pod?: Pod): void {
    const w = this.#worker(uid);
    w.removed = true;
    if (pod) w.pod = pod;
    this.#schedule(w);
  }

  resync(uid: string): void {
    const w = this.#workers.get(uid);
    if (w) this.#schedule(w);
  }

  /**
   * Runs an action on a pod (the prober's kill of an unhealthy container) in
   * the pod's own worker, between its syncs, then syncs: one thing at a time
   * happens to a pod. Nothing runs for a pod no worker holds or one being removed.
   */
  act(uid: string, action: () => Promise<void>): void {
    const w = this.#workers.get(uid);
    if (!w || w.removed) return;
    w.actions.push(action);
    this.#schedule(w);
  }

  #worker(uid: string): Worker {
    let w = this.#workers.get(uid);
    if (!w) {
      w = {
        uid,
        pod: undefined,
        removed: false,
        lifecycle: { kind: 'syncing' },
        memory: newPodMemory(),
        dirty: false,
        running: false,
        timer: undefined,
        terminalWaiters: [],
        actions: [],
        failures: 0,
        lastError: undefined,
      };
      this.#workers.set(uid, w);
    }
    return w;
  }

  #schedule(w: Worker, afterMs = 0): void {
    if (afterMs > 0) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = setTimeout(() => {
        w.timer = undefined;
        this.#schedule(w);
      }, afterMs);
      w.timer.unref();
      return;
    }
    w.dirty = true;
    if (!w.running) void this.#run(w);
  }

  async #run(w: Worker): Promise<void> {
    w.running = true;
    try {
      while (w.dirty) {
        w.dirty = false;
        for (const action of w.actions.splice(0)) {
          await action().catch((err: Error) => this.#log.warn({ pod: w.pod?.metadata?.name, uid: w.uid, err: err.message }, 'action on the pod failed'));
        }
        try {
          const requeue = await this.#syncOnce(w);
          if (w.failures > 0) this.#log.info({ pod: w.pod?.metadata?.name, uid: w.uid, failures: w.failures }, 'pod sync works again');
          w.failures = 0;
          w.lastError = undefined;
          if (requeue) {
            this.#log.debug({ pod: w.pod?.metadata?.name, uid: w.uid, ...requeue }, 'sync again');
            this.#schedule(w, requeue.afterMs);
          }
        } catch (err) {
          const message = (err as Error).message;
          const retryMs = backoffDelay(++w.failures, RETRY);
          const fields = { pod: w.pod?.metadata?.name, uid: w.uid, err: message, failures: w.failures, retryMs };
          if (message !== w.lastError) this.#log.warn(fields, 'pod sync failed; retrying with back-off');
          else this.#log.debug(fields, 'pod sync failed again');
          w.lastError = message;
          this.#schedule(w, retryMs);
        }
        if (w.lifecycle.kind === 'removed') {
          for (const done of w.terminalWaiters.splice(0)) done();
          if (w.timer) clearTimeout(w.timer);
          this.#workers.delete(w.uid);
          this.#status.forget(w.uid);
          this.#startup?.forget(w.uid);
          return;
        }
      }
    } finally {
      w.running = false;
    }
  }

  /** A pod the agent ended: stopped once within its grace, then kept Failed with the agent's reason. */
  async #syncEnded(w: Worker, pod: Pod, why: TerminalReason): Promise<undefined> {
    if (w.lifecycle.kind === 'syncing') {
      w.lifecycle = { kind: 'terminating' };
      // as the kubelet does: the pod is Failed with the reason from the moment it starts stopping
      const before = this.#status.latest(w.uid);
      this.#status.set(pod, endedStatus(before ?? pod.status ?? {}, why));
      await this.#status.flushPod(w.uid);
      await this.#syncer.terminate(withOwnStatus(pod, before), why.graceSeconds, w.memory);
      w.lifecycle = { kind: 'terminated' };
    }
    // the syncer's terminal path releases the sandbox and volumes
    const own = withOwnStatus(pod, this.#status.latest(w.uid));
    const result = await this.#syncer.sync({ ...own, status: { ...own.status, phase: 'Failed' } }, w.memory);
    this.#status.set(pod, endedStatus(result.status, why));
    await this.#status.flushPod(w.uid);
    for (const done of w.terminalWaiters.splice(0)) done();
    return undefined;
  }

  async #syncOnce(w: Worker): Promise<Requeue | undefined> {
    const pod = w.pod;
    this.#log.debug({ pod: pod?.metadata?.name, uid: w.uid, removed: w.removed, lifecycle: w.lifecycle.kind }, 'sync');
    const deleting = w.removed || !pod || !!pod.metadata?.deletionTimestamp;
    if (!deleting && w.terminal) return this.#syncEnded(w, pod, w.terminal);
    if (!deleting) {
      const left = deadlineLeftMs(pod, this.#status.latest(w.uid), this.#now());
      if (left !== undefined && left <= 0) {
        w.terminal = { reason: 'DeadlineExceeded', message: DEADLINE_MESSAGE, graceSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30 };
        return this.#syncEnded(w, pod, w.terminal);
      }
      this.#startup?.syncing(w.uid);
      const result = await this.#syncer.sync(withOwnStatus(pod, this.#status.latest(w.uid)), w.memory);
      this.#status.set(pod, result.status);
      this.#startup?.status(w.uid, result.status);
      const deadline = left === undefined ? undefined : { afterMs: left, reason: 'ActiveDeadline' as const };
      return !result.requeue || (deadline && deadline.afterMs < result.requeue.afterMs) ? (deadline ?? result.requeue) : result.requeue;
    }
    if (w.lifecycle.kind === 'syncing') {
      w.lifecycle = { kind: 'terminating' };
      if (pod) {
        const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
        const status = await this.#syncer.terminate(withOwnStatus(pod, this.#status.latest(w.uid)), grace, w.memory);
        if (!w.removed) {
          this.#status.set(pod, status);
          await this.#status.flushPod(w.uid);
        }
      }
      w.lifecycle = { kind: 'terminated' };
    }
    if (!w.removed && pod) {
      // stopped and unmounted: now the pod may leave the API server
      await this.#syncer.unmountVolumes(pod);
      await this.#status.release(pod);
      return undefined;
    }
    await this.#syncer.remove(w.uid, pod);
    w.lifecycle = { kind: 'removed' };
    return undefined;
  }
}

const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/**
 * How long a pod with activeDeadlineSeconds may still run, counted from its
 * start time (ours, else the API's); undefined without a deadline or before it
 * started. The kubelet's active deadline handler ends it at zero.
 */
function deadlineLeftMs(pod: Pod, own: PodStatus | undefined, now: number): number | undefined {
  const seconds = pod.spec?.activeDeadlineSeconds;
  const start = Date.parse(own?.startTime ?? pod.status?.startTime ?? '');
  if (seconds === undefined || Number.isNaN(start)) return undefined;
  return start + seconds * 1000 - now;
}

/**
 * Whether a newer copy of a pod asks for a sync, as the kubelet tells a
 * pod update from a status-only "reconcile": what the agent acts on is the
 * spec, labels and annotations (downward API) and deletion; the status it
 * writes itself, except the conditions readiness gates name.
 */
function needsSync(previous: Pod, next: Pod): boolean {
  const acted = (p: Pod) =>
    JSON.stringify([p.spec, p.metadata?.labels, p.metadata?.annotations, p.metadata?.deletionTimestamp, p.metadata?.deletionGracePeriodSeconds]);
  return (next.spec?.readinessGates?.length ?? 0) > 0 || acted(previous) !== acted(next);
}

/**
 * The pod as the API has it, but with the status this agent computed last
 * (start time, phase, condition transition times). The API's copy lags the
 * agent's own PATCHes; computing from it made statuses flip between two
 * start times and PATCH in a loop once enough pods were in flight. After an
 * agent restart there is no own status yet and the API's is the basis.
 */
function withOwnStatus(pod: Pod, own: PodStatus | undefined): Pod {
  if (!own) return pod;
  // conditions of types the agent does not set (PodScheduled, readiness gates') stay as the API has them
  const owned = new Set((own.conditions ?? []).map((c) => c.type));
  const others = (pod.status?.conditions ?? []).filter((c) => !owned.has(c.type));
  return { ...pod, status: { ...pod.status, ...own, conditions: [...(own.conditions ?? []), ...others] } };
}

/** Failed with the agent's reason and message, and its condition beside the others. */
function endedStatus(status: PodStatus, why: TerminalReason): PodStatus {
  const conditions = (status.conditions ?? []).filter((c) => c.type !== why.condition?.type);
  return { ...status, phase: 'Failed', reason: why.reason, message: why.message, conditions: why.condition ? [...conditions, why.condition] : conditions };
}
