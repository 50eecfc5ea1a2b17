/**
 * The arithmetic of a rolling update, kept apart from the controller's I/O:
 * how far the new ReplicaSet may grow and the old ones shrink in one step.
 */

export interface ReplicaSetCounts {
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  /** creation time, to scale the oldest down first */
  created: string;
}

/** An int-or-percent of `total`; percentages round up for surge, down for unavailability. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, fallback: string): number {
  const value = v ?? fallback;
  if (typeof value === 'number') return value;
  const pct = Number(value.replace(/%$/, ''));
  const exact = (pct * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable as pod counts; both zero would never progress, so unavailability becomes one. */
export function rollingBounds(
  desired: number,
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true, '25%');
  let unavailable = scaledValue(maxUnavailable, desired, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, desired) };
}

const sum = (sets: ReplicaSetCounts[], f: (s: ReplicaSetCounts) => number) => sets.reduce((n, s) => n + f(s), 0);

/** The new ReplicaSet's next size: down to desired at once, up as far as the surge allows. */
export function nextNewReplicas(desired: number, surge: number, next: ReplicaSetCounts, old: ReplicaSetCounts[]): number {
  if (next.replicas >= desired) return desired;
  const total = next.replicas + sum(old, (s) => s.replicas);
  const room = desired + surge - total;
  if (room <= 0) return next.replicas;
  return next.replicas + Math.min(room, desired - next.replicas);
}

/**
 * How many replicas to take from each old ReplicaSet (same order as given)
 * without going below desired − maxUnavailable available pods: first the
 * old replicas that are not available anyway, then available ones, oldest
 * ReplicaSet first.
 */
export function oldScaleDown(desired: number, unavailable: number, next: ReplicaSetCounts | undefined, old: ReplicaSetCounts[]): number[] {
  const cuts = old.map(() => 0);
  if (sum(old, (s) => s.replicas) === 0) return cuts;
  const all = next ? [next, ...old] : old;
  const minAvailable = desired - unavailable;
  const newUnavailable = next ? next.replicas - next.available : 0;
  let budget = sum(all, (s) => s.replicas) - minAvailable - newUnavailable;
  if (budget <= 0) return cuts;
  const order = old.map((_, i) => i).sort((a, b) => Date.parse(old[a]?.created ?? '') - Date.parse(old[b]?.created ?? ''));
  for (const i of order) {
    const s = old[i] as ReplicaSetCounts;
    const unhealthy = Math.max(s.replicas - s.available, 0);
    const cut = Math.min(unhealthy, budget);
    cuts[i] = cut;
    budget -= cut;
    if (budget <= 0) break;
  }
  let spare = sum(all, (s) => s.available) - minAvailable;
  for (const i of order) {
    if (spare <= 0) break;
    const s = old[i] as ReplicaSetCounts;
    const left = s.replicas - (cuts[i] ?? 0);
    const cut = Math.min(left, spare);
    cuts[i] = (cuts[i] ?? 0) + cut;
    spare -= cut;
  }
  return cuts;
}
