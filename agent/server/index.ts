export { startKubeletServer } from './kubelet-server.ts';
export type { KubeletServerOptions } from './kubelet-server.ts';
export { parseCriLog, renderLog } from './cri-log.ts';
