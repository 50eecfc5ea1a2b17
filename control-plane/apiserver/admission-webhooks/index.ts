export { webhookConfigurationStrategy } from './configurations.ts';
export { admissionVariables, toCel } from './cel-variables.ts';
export { WebhookDispatcher, ruleMatches, selectorMatches, type Operation, type WebhookAttributes } from './dispatcher.ts';
