export { ServiceProxy, cleanupProxy, serviceRules } from './service-proxy.ts';
export { buildModel, renderRuleset, renderUpdate } from './ruleset.ts';
export type { ServicePortRule, ProxyModel } from './ruleset.ts';
