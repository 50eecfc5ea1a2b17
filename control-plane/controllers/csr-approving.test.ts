import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { RequestedNames } from '../../apimachinery/index.ts';
import { clientApproval, servingApproval } from './csr-approving.ts';

const names = (n: Partial<RequestedNames>): RequestedNames => ({
  commonName: 'system:node:a',
  organizations: ['system:nodes'],
  dnsNames: [],
  ipAddresses: [],
  emailAddresses: [],
  uris: [],
  ...n,
});
const csr = (username: string, usages: string[], groups = ['system:nodes']) =>
  ({ spec: { username, groups, usages, signerName: '', request: '' } }) as unknown as CertificateSigningRequest;
const node = (name: string, ...addresses: string[]) =>
  ({ metadata: { name }, status: { addresses: addresses.map((address) => ({ type: 'InternalIP', address })) } }) as Node;

describe('CSR approval', () => {
  it("approves a node's client certificate on the SubjectAccessReview that fits who asks", () => {
    const client = ['digital signature', 'client auth'];
    expect(clientApproval(csr('system:bootstrap:abcdef', client, ['system:bootstrappers']), names({}))?.subresource).toBe('nodeclient');
    expect(clientApproval(csr('system:node:a', client), names({}))?.subresource).toBe('selfnodeclient');
  });

  it('leaves to a person what a node must not get by itself', () => {
    const client = ['digital signature', 'client auth'];
    expect(clientApproval(csr('system:bootstrap:abcdef', client), names({ organizations: ['system:masters'] }))).toBeNull();
    expect(clientApproval(csr('system:bootstrap:abcdef', client), names({ commonName: 'admin' }))).toBeNull();
    expect(clientApproval(csr('system:bootstrap:abcdef', client), names({ dnsNames: ['kubernetes'] }))).toBeNull();
    expect(clientApproval(csr('system:bootstrap:abcdef', [...client, 'server auth']), names({}))).toBeNull();
  });

  it("approves a serving certificate naming only the node's own addresses, waits for them, and refuses another node's", () => {
    const serving = ['digital signature', 'server auth'];
    const nodes = [node('a', '10.0.0.1'), node('b', '10.0.0.2')];
    expect(servingApproval(csr('system:node:a', serving), names({ dnsNames: ['a'], ipAddresses: ['10.0.0.1'] }), nodes)).toBe('approve');
    expect(servingApproval(csr('system:node:a', serving), names({ ipAddresses: ['10.0.0.2'] }), nodes)).toBeNull();
    expect(servingApproval(csr('system:node:a', serving), names({ ipAddresses: ['10.0.0.9'] }), nodes)).toBeNull();
    expect(servingApproval(csr('system:node:c', serving), names({ commonName: 'system:node:c', ipAddresses: ['10.0.0.3'] }), nodes)).toBe('wait');
    // one node asking in another's name, or for client usages, or without being a node
    expect(servingApproval(csr('system:node:b', serving), names({ ipAddresses: ['10.0.0.1'] }), nodes)).toBeNull();
    expect(servingApproval(csr('system:node:a', ['client auth']), names({ ipAddresses: ['10.0.0.1'] }), nodes)).toBeNull();
    expect(servingApproval(csr('system:node:a', serving, []), names({ ipAddresses: ['10.0.0.1'] }), nodes)).toBeNull();
  });
});
