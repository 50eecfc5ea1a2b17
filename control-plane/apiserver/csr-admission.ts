import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { ApiError, describeRequest, errors } from '../../apimachinery/index.ts';
import type { ClusterAuthorizer } from '../auth/index.ts';
import type { UserInfo } from '../auth/index.ts';
import type { Obj } from './resource-info.ts';

const RESOURCE = 'certificatesigningrequests.certificates.k8s.io';
const CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
const asCsr = (o: Obj | undefined) => o as unknown as CertificateSigningRequest | undefined;
const forbidden = (name: string | undefined, why: string) => new ApiError('Forbidden', `${RESOURCE} "${name ?? ''}" is forbidden: ${why}`);

/**
 * A request must hold a PEM certificate request (422, as validation answers,
 * for one that does not parse), and, as CertificateSubjectRestriction, no
 * request to the API server client signer may ask for a system:masters
 * certificate.
 */
export async function admitCsrCreate(obj: Obj): Promise<void> {
  const csr = asCsr(obj);
  let organizations: string[];
  try {
    ({ organizations } = await describeRequest(Buffer.from(csr?.spec?.request ?? '', 'base64').toString()));
  } catch {
    // kube-apiserver prints the bytes as Go's []byte{...}; the parser's own words add nothing a client can act on
    throw errors.invalid('CertificateSigningRequest', 'certificates.k8s.io', obj.metadata.name ?? '', [
      { reason: 'FieldValueInvalid', field: 'spec.request', message: 'Invalid value: []byte{...}: PEM block type must be CERTIFICATE REQUEST' },
    ]);
  }
  if (csr?.spec?.signerName !== CLIENT_SIGNER) return;
  if (organizations.includes('system:masters')) throw forbidden(obj.metadata.name, `use of ${CLIENT_SIGNER} signer with system:masters group is not allowed`);
}

/** Whether the user may `verb` requests of this signer: on its name, or on "<domain>/*". */
function mayForSigner(authorizer: ClusterAuthorizer, user: UserInfo, verb: 'approve' | 'sign', signerName: string): boolean {
  const domain = signerName.split('/')[0];
  return [signerName, `${domain}/*`].some(
    (name) => authorizer.authorize(user, { kind: 'resource', verb, apiGroup: 'certificates.k8s.io', resource: 'signers', name }).allowed,
  );
}

/** What CertificateApproval and CertificateSigning are shown of an update. */
export interface CsrUpdate {
  user: UserInfo;
  authorizer: ClusterAuthorizer;
  subresource: string | undefined;
  obj: Obj;
  old: Obj | undefined;
}

/** CertificateApproval: approving or denying needs `approve` on the request's signer (certificates.k8s.io/signers). */
export function admitCsrApproval(w: CsrUpdate): void {
  if (w.subresource !== 'approval') return;
  const old = asCsr(w.old);
  const signerName = old?.spec?.signerName ?? '';
  const verdicts = (c: CertificateSigningRequest | undefined) =>
    JSON.stringify((c?.status?.conditions ?? []).filter((x) => x.type === 'Approved' || x.type === 'Denied').map((x) => [x.type, x.status]));
  if (verdicts(old) !== verdicts(asCsr(w.obj)) && !mayForSigner(w.authorizer, w.user, 'approve', signerName)) {
    throw forbidden(w.old?.metadata.name, `user not permitted to approve requests with signerName "${signerName}"`);
  }
}

/** CertificateSigning: setting the certificate needs `sign` on the request's signer. */
export function admitCsrSigning(w: CsrUpdate): void {
  if (w.subresource !== 'status') return;
  const old = asCsr(w.old);
  const certificate = asCsr(w.obj)?.status?.certificate;
  if (!certificate || certificate === (old?.status?.certificate ?? '')) return;
  const signerName = old?.spec?.signerName ?? '';
  if (!mayForSigner(w.authorizer, w.user, 'sign', signerName))
    throw forbidden(w.old?.metadata.name, `user not permitted to sign requests with signerName "${signerName}"`);
}
