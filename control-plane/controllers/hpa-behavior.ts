import type { HorizontalPodAutoscalerBehavior, HPAScalingRules } from 'kubernetes-types/autoscaling/v2.js';

// From the replicas the metrics ask for to the replicas an autoscaler sets,
// as Kubernetes' HPA controller normalizes them: recommendations are
// stabilized over a window (the highest of the last five minutes before
// scaling down, by default), changes are rate-limited (at most double, or 4,
// per step by default; by the behavior's policies where one is given), and
// the result is kept within minReplicas and maxReplicas. Pure: the caller
// keeps the recommendations and scale events and hands in the time.

/** A recommendation made, or a change of scale made, at `at` (ms). */
export interface Stamped {
  at: number;
  value: number;
}

/** Why the replicas set differ from the replicas the metrics asked for (the ScalingLimited condition). */
export type Limit = 'DesiredWithinRange' | 'TooFewReplicas' | 'TooManyReplicas' | 'ScaleUpLimit' | 'ScaleDownLimit';

export const LIMIT_MESSAGES: Record<Limit, string> = {
  DesiredWithinRange: 'the desired count is within the acceptable range',
  TooFewReplicas: 'the desired replica count is less than the minimum replica count',
  TooManyReplicas: 'the desired replica count is more than the maximum replica count',
  ScaleUpLimit: 'the desired replica count is increasing faster than the maximum scale rate',
  ScaleDownLimit: 'the desired replica count is decreasing faster than the maximum scale rate',
};

/** How long recommendations are kept for scaling down when no behavior says (kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization). */
export const DOWNSCALE_STABILIZATION_MS = 5 * 60_000;
const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;

export interface Normalized {
  replicas: number;
  limit: Limit;
}

const within = (list: Stamped[], now: number, ms: number) => list.filter((r) => r.at > now - ms);

/** Without a behavior: the highest recommendation of the window, at most double (or 4) and within the bounds. */
function withoutBehavior(o: { current: number; proposed: number; min: number; max: number; recommendations: Stamped[]; now: number }): Normalized {
  const stabilized = Math.max(o.proposed, ...within(o.recommendations, o.now, DOWNSCALE_STABILIZATION_MS).map((r) => r.value));
  const upLimit = Math.max(SCALE_UP_LIMIT_FACTOR * o.current, SCALE_UP_LIMIT_MINIMUM);
  const ceiling = Math.min(upLimit, o.max);
  if (stabilized < o.min) return { replicas: o.min, limit: 'TooFewReplicas' };
  if (stabilized > ceiling) return { replicas: ceiling, limit: upLimit < o.max ? 'ScaleUpLimit' : 'TooManyReplicas' };
  return { replicas: stabilized, limit: 'DesiredWithinRange' };
}

/** The replicas at the start of a policy's period: the current ones less what the period's scale events changed. */
function periodStart(current: number, events: Stamped[], now: number, periodSeconds: number): number {
  return current - within(events, now, periodSeconds * 1000).reduce((n, e) => n + e.value, 0);
}

/** The furthest the rules let a step go from `current` (up: the most replicas, down: the fewest). */
function rateLimit(rules: HPAScalingRules, current: number, events: Stamped[], now: number, up: boolean): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const limits = (rules.policies ?? []).map((p) => {
    const start = periodStart(current, events, now, p.periodSeconds);
    if (p.type === 'Pods') return up ? start + p.value : start - p.value;
    return up ? Math.ceil(start * (1 + p.value / 100)) : Math.trunc(start * (1 - p.value / 100));
  });
  if (!limits.length) return current;
  // Max selects the policy that allows the most change
  const most = up ? Math.max(...limits) : Math.min(...limits);
  const least = up ? Math.min(...limits) : Math.max(...limits);
  return rules.selectPolicy === 'Min' ? least : most;
}

/** With a behavior: each direction's own stabilization window, then its policies' rate, then the bounds. */
function withBehavior(o: {
  current: number;
  proposed: number;
  min: number;
  max: number;
  behavior: HorizontalPodAutoscalerBehavior;
  recommendations: Stamped[];
  events: Stamped[];
  now: number;
}): Normalized {
  const up = o.behavior.scaleUp ?? {};
  const down = o.behavior.scaleDown ?? {};
  const recent = (seconds: number | undefined) => [o.proposed, ...within(o.recommendations, o.now, (seconds ?? 0) * 1000).map((r) => r.value)];
  let stabilized = o.current;
  const upFloor = Math.min(...recent(up.stabilizationWindowSeconds));
  const downCeiling = Math.max(...recent(down.stabilizationWindowSeconds ?? 300));
  if (stabilized < upFloor) stabilized = upFloor;
  if (stabilized > downCeiling) stabilized = downCeiling;
  if (stabilized > o.current) {
    const rate = Math.max(rateLimit(up, o.current, o.events, o.now, true), o.current);
    const ceiling = Math.min(rate, o.max);
    if (stabilized > ceiling) return { replicas: ceiling, limit: rate < o.max ? 'ScaleUpLimit' : 'TooManyReplicas' };
  } else if (stabilized < o.current) {
    const rate = Math.min(rateLimit(down, o.current, o.events, o.now, false), o.current);
    const floor = Math.max(rate, o.min);
    if (stabilized < floor) return { replicas: floor, limit: rate > o.min ? 'ScaleDownLimit' : 'TooFewReplicas' };
  }
  if (stabilized < o.min) return { replicas: o.min, limit: 'TooFewReplicas' };
  if (stabilized > o.max) return { replicas: o.max, limit: 'TooManyReplicas' };
  return { replicas: stabilized, limit: 'DesiredWithinRange' };
}

/**
 * The replicas to set, given what the metrics propose now, the recommendations
 * of the recent past and (with a behavior) the changes of scale made.
 */
export function normalizeReplicas(o: {
  current: number;
  proposed: number;
  min: number;
  max: number;
  behavior?: HorizontalPodAutoscalerBehavior;
  recommendations: Stamped[];
  events: Stamped[];
  now: number;
}): Normalized {
  return o.behavior ? withBehavior({ ...o, behavior: o.behavior }) : withoutBehavior(o);
}
