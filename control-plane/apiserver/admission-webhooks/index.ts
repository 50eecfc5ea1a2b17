export { webhookConfigurationStrategy } from './configurations.ts';
export { admissionVariables, toCel } from './cel-variables.ts';
export { WebhookDispatcher, ruleMatches, type Operation, type WebhookAttributes, type WebhookCall } from './dispatcher.ts';
export { selectorsMatch, type AdmissionSelectors } from './selectors.ts';
