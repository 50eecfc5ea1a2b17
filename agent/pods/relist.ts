import type { ContainerRuntime } from '../cri/index.ts';
import type { RuntimeCounts } from '../metrics/index.ts';
import type { ObservedPod } from './observed.ts';
import { MANAGED_BY, POD_UID } from './runtime-labels.ts';

/** What the relist compares: each sandbox's and container's id and state. */
const item = (kind: 's' | 'c', x: { id: string; state: string }) => `${kind}:${x.id}:${x.state}`;
const signature = (items: string[]) => items.sort().join(',');

/**
 * The runtime observer's cheap half: every period, one ListContainers and one
 * ListPodSandbox for this node's labels; pods whose containers or sandboxes
 * changed state since the last look are reported, so their workers resync
 * (a container that exited, a sandbox that died).
 */
export class Relister {
  #cri: ContainerRuntime;
  #nodeName: string;
  #relisted: ((seconds: number, counts: RuntimeCounts) => void) | undefined;
  #last = new Map<string, string>();
  /** each container's name by runtime id, as the last relist found them */
  #names = new Map<string, string>();

  /** `relisted` is told how long each relist took and what it found running (the kubelet's PLEG and running metrics) */
  constructor(o: { cri: ContainerRuntime; nodeName: string; relisted?: (seconds: number, counts: RuntimeCounts) => void }) {
    this.#cri = o.cri;
    this.#nodeName = o.nodeName;
    this.#relisted = o.relisted;
  }

  /** Pod UIDs whose runtime state changed, and every UID the runtime holds. */
  async relist(): Promise<{ changed: string[]; present: Set<string> }> {
    const started = performance.now();
    const selector = { labelSelector: { [MANAGED_BY]: this.#nodeName } };
    const [sandboxes, containers] = await Promise.all([this.#cri.listPodSandbox(selector), this.#cri.listContainers(selector)]);
    this.#relisted?.((performance.now() - started) / 1000, runtimeCounts(sandboxes, containers));
    this.#names = new Map(containers.map((c) => [c.id, c.metadata?.name ?? '']));
    const now = new Map<string, string[]>();
    const add = (uid: string | undefined, sig: string) => {
      if (!uid) return;
      const list = now.get(uid) ?? [];
      list.push(sig);
      now.set(uid, list);
    };
    for (const s of sandboxes) add(s.labels[POD_UID], item('s', s));
    for (const c of containers) add(c.labels[POD_UID], item('c', c));
    const changed: string[] = [];
    const next = new Map<string, string>();
    for (const [uid, sigs] of now) {
      const sig = signature(sigs);
      next.set(uid, sig);
      if (this.#last.get(uid) !== sig) changed.push(uid);
    }
    for (const uid of this.#last.keys()) if (!next.has(uid)) changed.push(uid);
    this.#last = next;
    return { changed, present: new Set(now.keys()) };
  }

  /** The names of this node's containers by runtime id, as of the last relist (a second old at most): no call to the runtime. */
  containerNames(): Map<string, string> {
    return this.#names;
  }

  /** Every pod UID the runtime held at the last relist (or a sync saw since): what the orphan sweep spares. */
  present(): Set<string> {
    return new Set(this.#last.keys());
  }

  /**
   * What a pod's sync saw last when it had nothing more to do: the next
   * relist reports the pod only if the runtime has moved on since (a pod is
   * not synced again for the sandbox and containers its own sync started).
   */
  note(uid: string, observed: ObservedPod): void {
    const items = [...observed.sandboxes.map((s) => item('s', s)), ...observed.containers.map((c) => item('c', c))];
    if (items.length) this.#last.set(uid, signature(items));
    else this.#last.delete(uid);
  }
}

/** Ready sandboxes, and containers by their CRI state (CONTAINER_RUNNING → running). */
function runtimeCounts(sandboxes: { state: string }[], containers: { state: string }[]): RuntimeCounts {
  const counts: RuntimeCounts = {
    readyPods: sandboxes.filter((s) => s.state === 'SANDBOX_READY').length,
    containers: { created: 0, running: 0, exited: 0, unknown: 0 },
  };
  for (const c of containers) {
    const state = c.state.replace(/^CONTAINER_/, '').toLowerCase() as keyof RuntimeCounts['containers'];
    counts.containers[state in counts.containers ? state : 'unknown']++;
  }
  return counts;
}
