export { usageOf, limitOf, formatUsage, countedResources, inQuotaScope } from './usage.ts';
export type { Counted, QuotaScopes } from './usage.ts';
