export { PodCgroups, podLimits, workingSet } from './cgroups.ts';
export type { CgroupUsage } from './cgroups.ts';
export { readNodeStats, fsStats, memoryStats, pidStats } from './node-stats.ts';
export type { NodeStats, FsStats } from './node-stats.ts';
export { podUsage } from './pod-stats.ts';
export type { PodUsage, PodStatsSource } from './pod-stats.ts';
export { diskUsage } from './disk-usage.ts';
export type { DiskUsage } from './disk-usage.ts';
