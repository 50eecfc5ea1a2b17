export { Scheduler } from './scheduler.ts';
export { unfitReason, leastAllocatedScore, unschedulableMessage, podRequest } from './fit.ts';
