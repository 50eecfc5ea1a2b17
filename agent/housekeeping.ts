import { readdir } from 'node:fs/promises';
import type { Logger } from '../apimachinery/index.ts';
import { every } from './every.ts';
import type { CniRunner } from './cni/index.ts';
import type { ContainerRuntime } from './cri/index.ts';
import type { NodeStatusReporter } from './node/index.ts';
import type { PodManager, PodSyncer, PodWorkers, Relister } from './pods/index.ts';
import type { CsiVolumes } from './storage/index.ts';

const RELIST_PERIOD_MS = 1000;
const CNI_SWEEP_MS = 5 * 60_000;
const ORPHAN_SWEEP_MS = 30_000;

export interface HousekeepingDeps {
  cri: Pick<ContainerRuntime, 'listPodSandbox'>;
  relister: Relister;
  workers: PodWorkers;
  podManager: PodManager;
  syncer: PodSyncer;
  reporter: NodeStatusReporter;
  cni: CniRunner;
  csiVolumes: CsiVolumes;
  podsDir: string;
  log: Logger;
}

/**
 * The agent's periodic looks at the runtime and the disk: the relist (pods
 * whose runtime state moved are synced; a runtime that goes away or comes
 * back is noticed and reported at once), the sweep of CNI networks whose
 * sandboxes the runtime lost, and the sweep of pod directories and staged
 * volumes no pod uses any more.
 */
export function runHousekeeping(d: HousekeepingDeps, signal: AbortSignal): void {
  const { log, workers } = d;
  // a containerd restart: the node's Ready condition follows at once rather than at the next status update,
  // and every pod is synced again when the runtime is back, since syncs made while it was away failed
  let runtimeReachable = true;
  const runtimeReached = (reachable: boolean, err?: Error) => {
    if (reachable === runtimeReachable) return;
    runtimeReachable = reachable;
    if (reachable) {
      log.info('container runtime is reachable again');
      for (const pod of workers.active()) workers.resync(pod.metadata?.uid ?? '');
    } else {
      log.warn({ err: err?.message }, 'relist failed: container runtime is unreachable');
    }
    void d.reporter.sync().catch((e: Error) => log.warn({ err: e.message }, 'node status update failed'));
  };
  void every(
    RELIST_PERIOD_MS,
    signal,
    async () => {
      const { changed } = await d.relister.relist();
      runtimeReached(true);
      for (const uid of changed) workers.resync(uid);
    },
    (err) => runtimeReached(false, err),
  );
  // networks of sandboxes the runtime lost without a DEL: freed at start and then now and again
  void every(
    CNI_SWEEP_MS,
    signal,
    async () => {
      const swept = await d.cni.sweep(new Set((await d.cri.listPodSandbox()).map((s) => s.id)), { signal });
      if (swept.length) log.info({ sandboxes: swept.map((id) => id.slice(0, 12)) }, 'freed the network of sandboxes the runtime no longer has');
    },
    (err) => log.warn({ err: err.message }, 'CNI sweep failed'),
  );
  // directories of pods that are gone everywhere (a teardown that failed, a pod removed while the agent was down);
  // what the runtime holds is the relister's last look, not a look of its own
  void every(
    ORPHAN_SWEEP_MS,
    signal,
    async () => {
      const active = new Set([...d.podManager.desired(), ...workers.active()].map((p) => p.metadata?.uid));
      const inRuntime = d.relister.present();
      for (const uid of await readdir(d.podsDir).catch(() => [] as string[])) {
        if (!active.has(uid) && !inRuntime.has(uid)) await d.syncer.removePodDir(uid);
      }
      const unstaged = await d.csiVolumes.sweepStaged();
      if (unstaged.length) log.info({ volumes: unstaged }, 'unstaged volumes no pod on this node uses');
    },
    (err) => log.warn({ err: err.message }, 'orphaned pod directory sweep failed'),
  );
}
