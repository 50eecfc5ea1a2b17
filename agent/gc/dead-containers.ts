import { rm } from 'node:fs/promises';
import type { Logger } from '../../apimachinery/index.ts';
import type { CriClient } from '../cri/index.ts';
import { MANAGED_BY, POD_UID } from '../pods/index.ts';

type ContainerRuntime = Pick<CriClient, 'listContainers' | 'listPodSandbox' | 'containerStatus' | 'removeContainer' | 'removePodSandbox'>;

/**
 * The kubelet's DeleteAllUnusedContainers, run under disk pressure: every
 * exited container (with its log) and stopped sandbox of pods that have
 * finished or are gone. Running pods keep what per-pod collection keeps
 * (the newest exited instance of each container, for `logs --previous`).
 */
export async function removeFinishedPodsContainers(
  cri: ContainerRuntime,
  opts: { nodeName: string; finished: (uid: string) => boolean; log: Logger },
): Promise<number> {
  const selector = { labelSelector: { [MANAGED_BY]: opts.nodeName } };
  const [containers, sandboxes] = await Promise.all([
    cri.listContainers({ ...selector, state: 'CONTAINER_EXITED' }),
    cri.listPodSandbox({ ...selector, state: 'SANDBOX_NOTREADY' }),
  ]);
  let removed = 0;
  for (const c of containers) {
    if (!opts.finished(c.labels[POD_UID] ?? '')) continue;
    const logPath = await cri.containerStatus(c.id).then(
      (s) => s.logPath,
      () => '',
    );
    try {
      await cri.removeContainer(c.id);
      removed++;
      if (logPath) await rm(logPath, { force: true });
    } catch (err) {
      opts.log.warn({ container: c.id, err: (err as Error).message }, 'could not remove a dead container');
    }
  }
  for (const s of sandboxes) {
    // one that will not go now is tried again at the next pass
    if (opts.finished(s.labels[POD_UID] ?? '')) await cri.removePodSandbox(s.id).catch(() => undefined);
  }
  return removed;
}
