// What only tests use beside the testbed (lab/testbed): the bundled CSI driver in-process,
// a pod synced until a condition holds, the API server a test file shares.
export { startTestDriver } from './csi.ts';
export type { TestDriver } from './csi.ts';
export { syncUntil } from './sync-until.ts';
export { certificateRequest } from './certificate-request.ts';
