import type { PersistentVolume } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../apimachinery/index.ts';
import type { CsiPlugin } from './plugins.ts';

export const storageBytes = (q: unknown): number => (q === undefined || q === null ? 0 : parseQuantity(String(q)));

/** Whether a PV's node affinity names this plugin's topology (the volume lives on this node); a PV without affinity is anywhere. */
export function volumeOnNode(pv: PersistentVolume, plugin: Pick<CsiPlugin, 'topology'>): boolean {
  const segments = plugin.topology?.segments ?? {};
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  if (!terms.length) return true;
  return terms.some((t) => (t.matchExpressions ?? []).every((e) => e.operator === 'In' && e.values?.includes(segments[e.key] ?? '\0')));
}
