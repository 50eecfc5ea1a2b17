export { ControllerManager } from './manager.ts';
export { SharedInformers } from './shared-informers.ts';
export type { Controller, ControllerContext } from './context.ts';
export { CidrSet } from './node-ipam.ts';
