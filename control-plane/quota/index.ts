export { usageOf, limitOf, formatUsage, countedResources } from './usage.ts';
export type { Counted } from './usage.ts';
