export { webhookConfigurationStrategy } from './configurations.ts';
export { WebhookDispatcher, type Operation, type WebhookAttributes } from './dispatcher.ts';
