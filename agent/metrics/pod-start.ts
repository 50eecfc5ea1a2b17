import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';

/** The kubelet's pod start-up buckets, in seconds. */
export const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

export type StartPhase = 'admit' | 'volumes' | 'sandbox' | 'network' | 'pull' | 'create' | 'start' | 'ready';

/** A pod's first start, measured when all its containers run. */
export interface PodStarted {
  /** from the agent first seeing the pod */
  sinceSeen: number;
  /** from the pod's creation */
  sinceCreated: number;
  /** from its creation, less image pulls (the kubelet's start-up SLI) */
  sli: number;
  /** the first pod with a network of its own (not hostNetwork) to start since the agent did */
  firstWithNetwork: boolean;
}

interface Tracked {
  seenAt: number;
  createdAt: number;
  hostNetwork: boolean;
  syncing: boolean;
  pullSeconds: number;
  networkSeconds: number;
  /** when all containers ran; then only readiness is left to measure */
  startedAt?: number;
}

/**
 * Follows each pod the agent sees before it has started, from its first
 * sighting to all its containers running and then to Ready, as the kubelet's
 * pod start-up latency tracker does, and hands out where the time went by
 * phase. Pods that had started before the agent saw them are not followed.
 */
export class PodStartTracker {
  readonly #pods = new Map<string, Tracked>();
  readonly #now: () => number;
  readonly #started: (t: PodStarted) => void;
  readonly #phase: (phase: StartPhase, seconds: number) => void;
  #networkPodStarted = false;

  constructor(o: { now?: () => number; started: (t: PodStarted) => void; phase: (phase: StartPhase, seconds: number) => void }) {
    this.#now = o.now ?? Date.now;
    this.#started = o.started;
    this.#phase = o.phase;
  }

  /** The agent learns of a pod. */
  seen(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.#pods.has(uid) || pod.status?.startTime || pod.metadata?.deletionTimestamp) return;
    const now = this.#now();
    const created = Date.parse(pod.metadata?.creationTimestamp ?? '');
    this.#pods.set(uid, {
      seenAt: now,
      createdAt: Number.isNaN(created) ? now : created,
      hostNetwork: pod.spec?.hostNetwork === true,
      syncing: false,
      pullSeconds: 0,
      networkSeconds: 0,
    });
  }

  /** A sync of the pod begins: the first ends its admission (queueing and the admit checks). */
  syncing(uid: string): void {
    const t = this.#pods.get(uid);
    if (!t || t.syncing) return;
    t.syncing = true;
    this.#phase('admit', (this.#now() - t.seenAt) / 1000);
  }

  /**
   * One step of a pod's start took `seconds`. A sandbox's time is told
   * without its network's (the runtime calls the network plugins while it
   * makes the sandbox, and the agent hears of that as `network`).
   */
  phase(uid: string, phase: Exclude<StartPhase, 'admit' | 'ready'>, seconds: number): void {
    const t = this.#pods.get(uid);
    if (!t || t.startedAt !== undefined) return;
    if (phase === 'pull') t.pullSeconds += seconds;
    if (phase === 'network') t.networkSeconds += seconds;
    this.#phase(phase, phase === 'sandbox' ? Math.max(0, seconds - t.networkSeconds) : seconds);
  }

  /** The pod's newest status: all containers running ends its start, Ready then ends the follow. */
  status(uid: string, status: PodStatus): void {
    const t = this.#pods.get(uid);
    if (!t) return;
    // a pod that ended before all its containers ran (or were Ready) has no start to measure
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return void this.#pods.delete(uid);
    const now = this.#now();
    if (t.startedAt === undefined) {
      const containers = status.containerStatuses ?? [];
      if (containers.length === 0 || !containers.every((c) => c.state?.running)) return;
      t.startedAt = now;
      const firstWithNetwork = !t.hostNetwork && !this.#networkPodStarted;
      if (!t.hostNetwork) this.#networkPodStarted = true;
      const sinceCreated = (now - t.createdAt) / 1000;
      this.#started({ sinceSeen: (now - t.seenAt) / 1000, sinceCreated, sli: Math.max(0, sinceCreated - t.pullSeconds), firstWithNetwork });
    }
    if (status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
      this.#phase('ready', (now - t.startedAt) / 1000);
      this.#pods.delete(uid);
    }
  }

  /** The pod is gone (or ended) before it was Ready. */
  forget(uid: string): void {
    this.#pods.delete(uid);
  }
}
