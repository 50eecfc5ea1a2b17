export { CertificateStore, splitPem } from './store.ts';
export { CertificateManager, rotationDeadline } from './manager.ts';
export { requestCertificate } from './request.ts';
export type { CertificateAsk } from './request.ts';
export { bootstrapClientCredentials, clientCertificateAsk, servingCertificateAsk } from './bootstrap.ts';
