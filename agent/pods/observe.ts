import type { ContainerRuntime, ContainerState, ContainerStatus, PodSandboxStatus } from '../cri/index.ts';
import { CONTAINER_NAME, POD_UID } from './runtime-labels.ts';
import type { ObservedContainer, ObservedPod, ObservedSandbox } from './observed.ts';

/**
 * Reads what the runtime holds for a pod: its sandboxes and containers are
 * listed every time; the details behind them are asked for only when they
 * can have changed. A container's status is fixed while its state is (start
 * and finish times, exit code), so it is kept per state; a sandbox keeps its
 * IP for life, so the newest ready one's is kept per pod.
 */
export class RuntimeObserver {
  #cri: ContainerRuntime;
  /** container id → its status in the state it was last seen in */
  #statuses = new Map<string, ContainerStatus>();
  /** pod uid → the IP of its newest ready sandbox */
  #sandboxIPs = new Map<string, { id: string; ip: string }>();

  constructor(cri: ContainerRuntime) {
    this.#cri = cri;
  }

  async observe(uid: string): Promise<ObservedPod> {
    const [sandboxes, containers] = await Promise.all([
      this.#cri.listPodSandbox({ labelSelector: { [POD_UID]: uid } }),
      this.#cri.listContainers({ labelSelector: { [POD_UID]: uid } }),
    ]);
    sandboxes.sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || b.createdAt - a.createdAt);
    const observedSandboxes: ObservedSandbox[] = await Promise.all(
      sandboxes.map(async (s, i) => ({
        id: s.id,
        attempt: s.metadata?.attempt ?? 0,
        state: s.state,
        createdAt: s.createdAt,
        ip: i === 0 && s.state === 'SANDBOX_READY' ? await this.#ip(uid, s.id) : '',
      })),
    );
    const observedContainers = await Promise.all(
      containers.map(async (c): Promise<ObservedContainer | null> => {
        const st = await this.#status(c.id, c.state);
        if (!st) return null;
        return {
          id: c.id,
          name: c.labels[CONTAINER_NAME] ?? c.metadata?.name ?? '',
          attempt: c.metadata?.attempt ?? 0,
          sandboxId: c.podSandboxId,
          state: st.state,
          createdAt: st.createdAt,
          startedAt: st.startedAt,
          finishedAt: st.finishedAt,
          exitCode: st.exitCode,
          reason: st.reason,
          message: st.message,
          image: st.image?.image ?? '',
          imageRef: st.imageRef,
          logPath: st.logPath,
        };
      }),
    );
    const present = observedContainers.filter((c): c is ObservedContainer => c !== null);
    present.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
    return { sandboxes: observedSandboxes, containers: present };
  }

  /** What a pod looks like right after this agent started a sandbox for it: one status call instead of a fresh observation. */
  async withNewSandbox(uid: string, before: ObservedPod, sandboxId: string): Promise<ObservedPod> {
    // the runtime lost it at once: a full observation says what there is
    const st = await this.#cri.podSandboxStatus(sandboxId).catch(() => null);
    if (!st) return this.observe(uid);
    const ip = sandboxIP(st);
    if (st.state === 'SANDBOX_READY') this.#sandboxIPs.set(uid, { id: sandboxId, ip });
    const sandbox = { id: sandboxId, attempt: st.metadata?.attempt ?? 0, state: st.state, createdAt: st.createdAt, ip };
    return { sandboxes: [sandbox, ...before.sandboxes.map((s) => ({ ...s, ip: '' }))], containers: before.containers };
  }

  async #ip(uid: string, sandboxId: string): Promise<string> {
    const known = this.#sandboxIPs.get(uid);
    if (known?.id === sandboxId) return known.ip;
    // a sandbox gone between the list and the status has no address
    const st = await this.#cri.podSandboxStatus(sandboxId).catch(() => null);
    if (!st) return '';
    const ip = sandboxIP(st);
    this.#sandboxIPs.set(uid, { id: sandboxId, ip });
    return ip;
  }

  async #status(id: string, state: ContainerState): Promise<ContainerStatus | null> {
    const cached = this.#statuses.get(id);
    if (cached && cached.state === state && state !== 'CONTAINER_UNKNOWN') return cached;
    // gone between the list and the status: the caller treats it as unknown
    const st = await this.#cri.containerStatus(id).catch(() => null);
    if (st) this.#statuses.set(id, st);
    else this.#statuses.delete(id);
    return st;
  }

  /** Drops what is kept of containers that were removed. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#statuses.delete(id);
  }

  /** Drops what is kept of a pod that is gone. */
  forgetPod(uid: string): void {
    this.#sandboxIPs.delete(uid);
  }
}

const sandboxIP = (st: PodSandboxStatus) => st.network?.ip ?? '';
