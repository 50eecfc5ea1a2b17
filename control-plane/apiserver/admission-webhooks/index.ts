export { webhookConfigurationStrategy } from './configurations.ts';
export { admissionVariables, toCel } from './cel-variables.ts';
export { WebhookDispatcher, viewedAs, type Operation, type WebhookAttributes, type WebhookCall } from './dispatcher.ts';
export { equivalentsOf, ruleMatches, rulesMatch, type EquivalentResource, type RuleMatch, type WriteKind } from './equivalents.ts';
export { selectorsMatch, type AdmissionSelectors } from './selectors.ts';
