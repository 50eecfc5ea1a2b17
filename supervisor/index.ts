export { supervise, supervisedStates } from './supervisor.ts';
export type { SupervisedState, RestartBackoff } from './supervisor.ts';
