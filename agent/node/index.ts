export { readMachineInfo } from './machine.ts';
export type { MachineInfo } from './machine.ts';
export { NodeStatusReporter, buildNodeStatus, allocatable, AGENT_VERSION, PRESSURE_CONDITIONS } from './node-status.ts';
export type { NodeHealth, NodeStatusInputs, RuntimeHealth } from './node-status.ts';
export { NodeLease } from './lease.ts';
export { runtimeHealth } from './runtime-health.ts';
