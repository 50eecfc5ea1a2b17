export { KubeletMetrics, operationType, type ProbeResult, type ProbeType, type RuntimeCounts, type VolumeStat } from './kubelet-metrics.ts';
export { POD_START_BUCKETS, PodStartTracker, type PodStarted, type StartPhase } from './pod-start.ts';
export { CadvisorMetrics, SAMPLE_PERIOD_MS, type CadvisorSource } from './cadvisor.ts';
