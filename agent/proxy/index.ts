export { ServiceProxy, cleanupProxy, nft, serviceRules } from './service-proxy.ts';
export { serviceFragment, emptyFragment } from './proxy-model.ts';
export type { ServicePortRule, Fragment, RulesetOptions } from './proxy-model.ts';
export { ProxyState } from './proxy-state.ts';
export type { ProxyDelta } from './proxy-state.ts';
export { renderRuleset, renderDelta } from './ruleset.ts';
