export { webhookConfigurationStrategy } from './configurations.ts';
export { WebhookDispatcher, ruleMatches, selectorMatches, type Operation, type WebhookAttributes } from './dispatcher.ts';
