export { CsiClient, CsiError, RegistrationClient } from './client.ts';
export type { NodeInfo } from './client.ts';
export { CsiDriver, DRIVER_NAME, sizeFor } from './driver/driver.ts';
export { serveRegistration, registrationSocket, CSI_PLUGIN_TYPE } from './driver/registrar.ts';
export { serveBundledDriver } from './driver/serve.ts';
export type { BundledDriverOptions } from './driver/serve.ts';
export { NODE_TOPOLOGY_KEY } from './proto.ts';
export type { VolumeCapability, AccessModeName, CsiVolume, Topology } from './proto.ts';
