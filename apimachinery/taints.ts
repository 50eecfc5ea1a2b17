import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Does the toleration match the taint (same effect or none, same key and value, or Exists)? */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}
