export { Scheduler, defaultProfile, DEFAULT_SCHEDULER } from './scheduler.ts';
export type { Profile } from './framework.ts';
export { profilesFromConfig } from './config.ts';
export { SchedulerMetrics } from './metrics.ts';
