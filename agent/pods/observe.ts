import type { CriClient, ContainerStatus } from '../cri/index.ts';
import { CONTAINER_NAME, POD_UID } from './runtime-labels.ts';
import type { ObservedContainer, ObservedPod, ObservedSandbox } from './observed.ts';

/**
 * Reads what the runtime holds for a pod. Statuses of exited containers never
 * change, so they are cached; running ones are asked for every time.
 */
export class RuntimeObserver {
  #cri: CriClient;
  #exited = new Map<string, ContainerStatus>();

  constructor(cri: CriClient) {
    this.#cri = cri;
  }

  async observe(uid: string): Promise<ObservedPod> {
    const [sandboxes, containers] = await Promise.all([
      this.#cri.listPodSandbox({ labelSelector: { [POD_UID]: uid } }),
      this.#cri.listContainers({ labelSelector: { [POD_UID]: uid } }),
    ]);
    sandboxes.sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || b.createdAt - a.createdAt);
    const observedSandboxes: ObservedSandbox[] = await Promise.all(
      sandboxes.map(async (s, i) => {
        let ip = '';
        if (i === 0 && s.state === 'SANDBOX_READY') {
          const st = await this.#cri.podSandboxStatus(s.id).catch(() => null);
          ip = st?.network?.ip ?? '';
        }
        return { id: s.id, attempt: s.metadata?.attempt ?? 0, state: s.state, createdAt: s.createdAt, ip };
      }),
    );
    const observedContainers = await Promise.all(
      containers.map(async (c): Promise<ObservedContainer | null> => {
        const st = await this.#status(c.id);
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

  async #status(id: string): Promise<ContainerStatus | null> {
    const cached = this.#exited.get(id);
    if (cached) return cached;
    const st = await this.#cri.containerStatus(id).catch(() => null);
    if (st?.state === 'CONTAINER_EXITED') this.#exited.set(id, st);
    return st;
  }

  /** Drops cached statuses of containers that were removed. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#exited.delete(id);
  }
}
