import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { Obj, Strategy } from '../resource-info.ts';
import { age, humanDuration } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';

const asCsr = (o: Obj) => o as unknown as CertificateSigningRequest;

/** Who asked: the API server fills the requester's identity in, whatever the body said. */
export function stampRequester(obj: Obj, user: { name: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }): void {
  const spec = (obj.spec ??= {}) as Record<string, unknown>;
  spec.username = user.name;
  if (user.uid) spec.uid = user.uid;
  else delete spec.uid;
  spec.groups = user.groups;
  if (user.extra && Object.keys(user.extra).length) spec.extra = user.extra;
  else delete spec.extra;
}

/** kubectl's CSR columns: Approved/Denied/Failed and Issued conditions, the signer, the requester and the requested duration. */
export const csrStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.status = {};
  },
  // what was asked for, and by whom, cannot change after the request is made (kube-apiserver keeps the old spec)
  prepareForUpdate(obj, old) {
    obj.spec = old.spec;
  },
  columns: [
    NAME_COLUMN,
    AGE_COLUMN,
    column('SignerName', 'The signer the request is for'),
    column('Requestor', 'Who asked'),
    column('RequestedDuration', 'How long the certificate should be valid'),
    column('Condition', 'Approved, Denied or Failed, and Issued'),
  ],
  cells(obj) {
    const csr = asCsr(obj);
    const conditions = (csr.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);
    const verdict = conditions.filter((c) => c !== 'Issued');
    const state = [...(verdict.length ? verdict : ['Pending']), ...(csr.status?.certificate ? ['Issued'] : [])].join(',');
    const duration = csr.spec?.expirationSeconds ? humanDuration(csr.spec.expirationSeconds * 1000) : '<none>';
    return [obj.metadata.name, age(obj.metadata.creationTimestamp), csr.spec?.signerName ?? '', csr.spec?.username ?? '', duration, state];
  },
};
