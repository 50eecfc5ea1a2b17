export { Prober } from './prober.ts';
export type { ProberDeps, ProbeKind } from './prober.ts';
export { runProbe } from './run-probe.ts';
export type { ProbeResult, ProbeTarget } from './run-probe.ts';
export { runHook, describeHook } from './hooks.ts';
