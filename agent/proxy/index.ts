export { ServiceProxy, cleanupProxy, serviceRules } from './service-proxy.ts';
export { renderRuleset } from './ruleset.ts';
export type { ServicePortRule } from './ruleset.ts';
