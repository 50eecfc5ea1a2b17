import { isQuantity, parseDuration, parseQuantity } from '../../apimachinery/index.ts';

export const SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'] as const;
export type Signal = (typeof SIGNALS)[number];

/** An amount, or a share (0–1] of the signal's capacity. */
export type ThresholdValue = { quantity: number } | { percentage: number };

export interface Threshold {
  signal: Signal;
  value: ThresholdValue;
  /** 0 for a hard threshold; how long a soft one must hold before pods are evicted */
  gracePeriodMs: number;
  hard: boolean;
  /** evict until this much beyond the threshold is free again */
  minReclaim?: ThresholdValue;
}

export interface EvictionSettings {
  evictionHard: Record<string, string>;
  evictionSoft: Record<string, string>;
  evictionSoftGracePeriod: Record<string, string>;
  evictionMinimumReclaim: Record<string, string>;
}

export class ThresholdError extends Error {}

function isSignal(s: string): s is Signal {
  return (SIGNALS as readonly string[]).includes(s);
}

/** "10%" or a quantity; undefined for 0%, which the kubelet reads as "no threshold". */
export function parseThresholdValue(signal: string, text: string): ThresholdValue | undefined {
  const v = text.trim();
  if (v.endsWith('%')) {
    const p = Number(v.slice(0, -1));
    if (!Number.isFinite(p) || p < 0) throw new ThresholdError(`eviction percentage threshold ${signal} must be positive: ${text}`);
    if (p > 100) throw new ThresholdError(`eviction percentage threshold ${signal} must not exceed 100%: ${text}`);
    return p === 0 ? undefined : { percentage: p / 100 };
  }
  if (!isQuantity(v)) throw new ThresholdError(`eviction threshold ${signal}: "${text}" is neither a quantity nor a percentage`);
  const q = parseQuantity(v);
  if (q < 0) throw new ThresholdError(`eviction threshold ${signal} must be positive: ${text}`);
  return { quantity: q };
}

function signalOf(name: string): Signal {
  if (!isSignal(name)) throw new ThresholdError(`unsupported eviction signal ${name}`);
  return name;
}

/** evictionHard, evictionSoft (+ grace periods) and evictionMinimumReclaim as the kubelet reads them. */
export function parseThresholds(s: EvictionSettings): Threshold[] {
  const out: Threshold[] = [];
  const minReclaim = new Map<Signal, ThresholdValue>();
  for (const [name, text] of Object.entries(s.evictionMinimumReclaim)) {
    const v = parseThresholdValue(name, text);
    if (v) minReclaim.set(signalOf(name), v);
  }
  for (const [name, text] of Object.entries(s.evictionHard)) {
    const signal = signalOf(name);
    const value = parseThresholdValue(name, text);
    if (value) out.push({ signal, value, gracePeriodMs: 0, hard: true, minReclaim: minReclaim.get(signal) });
  }
  for (const name of Object.keys(s.evictionSoftGracePeriod)) signalOf(name);
  for (const [name, text] of Object.entries(s.evictionSoft)) {
    const signal = signalOf(name);
    const value = parseThresholdValue(name, text);
    const grace = s.evictionSoftGracePeriod[name];
    if (grace === undefined) throw new ThresholdError(`grace period must be specified for the soft eviction threshold ${name}`);
    const gracePeriodMs = parseDuration(grace);
    if (value) out.push({ signal, value, gracePeriodMs, hard: false, minReclaim: minReclaim.get(signal) });
  }
  return out;
}

/** The threshold's amount for a signal of this capacity. */
export function thresholdQuantity(v: ThresholdValue, capacity: number): number {
  return 'quantity' in v ? v.quantity : Math.floor(v.percentage * capacity);
}

/** "100Mi" / "10%" for logs and messages. */
export function formatThreshold(t: Threshold): string {
  return `${t.signal}<${'quantity' in t.value ? t.value.quantity : `${t.value.percentage * 100}%`}`;
}
