export { EvictionManager, MONITORING_PERIOD_MS, FAST_CHECK_MS } from './eviction-manager.ts';
export type { EvictionDeps, Admission } from './eviction-manager.ts';
export { parseThresholds, parseThresholdValue, thresholdQuantity, ThresholdError, SIGNALS } from './thresholds.ts';
export type { Threshold, Signal, EvictionSettings } from './thresholds.ts';
export { SIGNAL_CONDITION, SIGNAL_RESOURCE, observe, thresholdsMet, pressureConditions } from './signals.ts';
export type { PressureCondition, StarvedResource, Observations } from './signals.ts';
export { rankForEviction } from './rank.ts';
export { evictionMessage, conditionMessage, isCriticalPod, EVICTED } from './message.ts';
