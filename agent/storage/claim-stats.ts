import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { VolumeStat } from '../metrics/index.ts';
import type { CsiVolumes } from './csi-volumes.ts';

/** The volume stats of every persistent volume claim the node's running pods mount (kubelet_volume_stats_*). */
export async function claimVolumeStats(d: { pods: () => Pod[]; csiVolumes: CsiVolumes; podsDir: string }): Promise<VolumeStat[]> {
  const time = new Date().toISOString();
  const out: VolumeStat[] = [];
  for (const pod of d.pods()) {
    const entries = (await d.csiVolumes.volumeStats(pod, join(d.podsDir, pod.metadata?.uid ?? ''), time)) as (Omit<VolumeStat, 'namespace' | 'claim'> & {
      pvcRef?: { name: string; namespace: string };
    })[];
    for (const { pvcRef, ...stats } of entries) if (pvcRef) out.push({ namespace: pvcRef.namespace, claim: pvcRef.name, ...stats });
  }
  return out;
}
