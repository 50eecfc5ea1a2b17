import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import {
  defineController,
  describeRequest,
  primary,
  reads,
  requeueAfter,
  rfc3339,
  type Informer,
  type ReconcileAction,
  type RequestedNames,
  type RunnableController,
} from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { CERTIFICATE_SIGNING_REQUESTS, NODES } from './shared-informers.ts';

const CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
const NODE_PREFIX = 'system:node:';
/** A serving request of a node whose Node does not show its addresses yet is looked at again this soon. */
const NODE_WAIT_MS = 1000;

const decided = (csr: CertificateSigningRequest) => (csr.status?.conditions ?? []).some((c) => c.type === 'Approved' || c.type === 'Denied');

/** A node's own client certificate request: O=system:nodes, CN=system:node:…, no SANs, client usages only. */
function isNodeClientRequest(names: RequestedNames, usages: string[]): boolean {
  const sans = names.dnsNames.length + names.ipAddresses.length + names.emailAddresses.length + names.uris.length;
  return (
    names.organizations.length === 1 &&
    names.organizations[0] === 'system:nodes' &&
    names.commonName.startsWith(NODE_PREFIX) &&
    sans === 0 &&
    usages.includes('client auth') &&
    usages.every((u) => ['client auth', 'digital signature', 'key encipherment'].includes(u))
  );
}

/**
 * Whether a kubelet client certificate request may be approved, and on which
 * SubjectAccessReview: a node renewing its own (selfnodeclient) or a
 * bootstrapper asking for a new node (nodeclient). Null: left to a person.
 */
export function clientApproval(csr: CertificateSigningRequest, names: RequestedNames): { subresource: string; message: string } | null {
  if (!isNodeClientRequest(names, csr.spec.usages ?? [])) return null;
  return csr.spec.username === names.commonName
    ? { subresource: 'selfnodeclient', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' }
    : { subresource: 'nodeclient', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' };
}

/**
 * Whether a kubelet serving certificate request may be approved: a node
 * asking for itself, server usages, and only names that are its Node's
 * addresses (or its name) and no other Node's. 'wait': its Node has not
 * shown its addresses yet. Null: left to a person.
 */
export function servingApproval(csr: CertificateSigningRequest, names: RequestedNames, nodes: Node[]): 'approve' | 'wait' | null {
  const { username = '', usages = [] } = csr.spec;
  const nodeName = username.slice(NODE_PREFIX.length);
  if (!username.startsWith(NODE_PREFIX) || names.commonName !== username || !(csr.spec.groups ?? []).includes('system:nodes')) return null;
  if (names.organizations.join() !== 'system:nodes' || names.emailAddresses.length || names.uris.length) return null;
  if (!usages.includes('server auth') || !usages.every((u) => ['server auth', 'digital signature', 'key encipherment'].includes(u))) return null;
  const node = nodes.find((n) => n.metadata?.name === nodeName);
  const own = new Set([nodeName, ...(node?.status?.addresses ?? []).map((a) => a.address)]);
  const others = new Set(nodes.flatMap((n) => (n.metadata?.name === nodeName ? [] : (n.status?.addresses ?? []).map((a) => a.address))));
  const asked = [...names.dnsNames, ...names.ipAddresses];
  if (asked.some((a) => others.has(a))) return null;
  // the Node reports its addresses right after it registers
  if (asked.some((a) => !own.has(a))) return node?.status?.addresses?.length ? null : 'wait';
  return 'approve';
}

/**
 * Approves the certificate requests a node needs without anyone at the
 * keyboard, as kube-controller-manager's csrapproving controller does for
 * kubelet client certificates: a bootstrapper's request for a new node
 * (after a SubjectAccessReview for certificatesigningrequests/nodeclient) and
 * a node's renewal of its own (…/selfnodeclient). Serving certificates for
 * the kubelet API are approved when the node asks for itself and every name
 * in the request is one of the addresses its Node shows and no other Node's
 * (upstream leaves these to an operator or an add-on). Anything else is left
 * for a person to approve or deny.
 */
export class CsrApprovingController implements Controller {
  readonly name = 'csrapproving';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #requests: Informer<CertificateSigningRequest>;
  #nodes: Informer<Node>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#requests = ctx.informers.for<CertificateSigningRequest>(CERTIFICATE_SIGNING_REQUESTS);
    this.#nodes = ctx.informers.for<Node>(NODES);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      backoff: { baseDelayMs: 200, maxDelayMs: 30_000 },
      watches: [primary(this.#requests, ['add', 'update']), reads(this.#nodes)],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(name: string): Promise<ReconcileAction | undefined> {
    const csr = this.#requests.get(name);
    if (!csr || decided(csr) || csr.status?.certificate) return undefined;
    const { signerName } = csr.spec;
    if (signerName !== CLIENT_KUBELET && signerName !== KUBELET_SERVING) return undefined;
    let names: RequestedNames;
    try {
      names = await describeRequest(Buffer.from(csr.spec.request, 'base64').toString());
    } catch {
      // validation refuses such requests at creation; one stored before that is for a person to deny
      return undefined;
    }
    if (signerName === CLIENT_KUBELET) {
      const verdict = clientApproval(csr, names);
      if (!verdict || !(await this.#allowed(csr, verdict.subresource))) return undefined;
      return this.#approve(csr, verdict.message);
    }
    const verdict = servingApproval(csr, names, this.#nodes.list());
    if (verdict === 'wait') return requeueAfter(NODE_WAIT_MS);
    return verdict === 'approve' ? this.#approve(csr, "Auto approving kubelet serving certificate: its names are the node's own addresses.") : undefined;
  }

  /** A SubjectAccessReview for the requester: may it create certificatesigningrequests/`subresource`? */
  async #allowed(csr: CertificateSigningRequest, subresource: string): Promise<boolean> {
    const review = await this.#ctx.client.create<{ status?: { allowed?: boolean } }>(
      { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' },
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: csr.spec.username,
          uid: csr.spec.uid,
          groups: csr.spec.groups,
          extra: csr.spec.extra,
          resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource },
        },
      },
    );
    return review.status?.allowed === true;
  }

  async #approve(csr: CertificateSigningRequest, message: string): Promise<undefined> {
    const now = rfc3339();
    const condition = { type: 'Approved', status: 'True', reason: 'AutoApproved', message, lastUpdateTime: now, lastTransitionTime: now };
    await this.#ctx.client.update(
      { ...CERTIFICATE_SIGNING_REQUESTS, version: 'v1', name: csr.metadata?.name, subresource: 'approval' },
      { ...csr, status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), condition] } },
    );
    this.#ctx.log.info({ csr: csr.metadata?.name, signer: csr.spec.signerName, user: csr.spec.username }, 'approved certificate request');
    return undefined;
  }
}
