export { createRootLogger, silentLogger } from './logging.ts';
export type { Logger } from './logging.ts';
