export { startKubeletServer } from './kubelet-server.ts';
export type { KubeletServerOptions } from './kubelet-server.ts';
export { parseCriLog, renderLog } from './cri-log.ts';
export { KubeletAuth, KubeletAuthError, kubeletAttributes } from './kubelet-auth.ts';
export type { KubeletUser, KubeletAttributes } from './kubelet-auth.ts';
