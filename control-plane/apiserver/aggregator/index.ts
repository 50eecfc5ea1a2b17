export { Aggregator, type AggregatorOptions } from './aggregator.ts';
export { registerLocalApiServices } from './local-api-services.ts';
