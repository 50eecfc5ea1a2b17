import type { RequestedNames } from '../../apimachinery/index.ts';

interface SignerRules {
  /** the usages a request must ask for, and all it may */
  required: string;
  allowed: string[];
  /** the subject a node's certificate must carry */
  nodeSubject: boolean;
  /** SANs: none at all (client certificates), or DNS/IP only, at least one (serving) */
  sans: 'none' | 'dns-or-ip';
}

/** The built-in signers this control plane issues for (kube-controller-manager's csrsigning). */
export const SIGNERS: Record<string, SignerRules> = {
  'kubernetes.io/kube-apiserver-client': {
    required: 'client auth',
    allowed: ['digital signature', 'key encipherment', 'client auth'],
    nodeSubject: false,
    sans: 'dns-or-ip',
  },
  'kubernetes.io/kube-apiserver-client-kubelet': {
    required: 'client auth',
    allowed: ['digital signature', 'key encipherment', 'client auth'],
    nodeSubject: true,
    sans: 'none',
  },
  'kubernetes.io/kubelet-serving': {
    required: 'server auth',
    allowed: ['digital signature', 'key encipherment', 'server auth'],
    nodeSubject: true,
    sans: 'dns-or-ip',
  },
};

/**
 * Why a signer will not sign a request (kube-apiserver's words), or null:
 * the usages must be the signer's, a node's certificate must name a node
 * (O=system:nodes, CN=system:node:…), a kubelet client certificate carries
 * no SANs, a serving one DNS or IP SANs only, and at least one.
 */
export function signerRefusal(signerName: string, names: RequestedNames, usages: string[]): string | null {
  const rules = SIGNERS[signerName];
  if (!rules) return `unknown signer ${signerName}`;
  if (!usages.includes(rules.required) || usages.some((u) => !rules.allowed.includes(u))) return `usages did not match [${rules.allowed.join(' ')}]`;
  if (rules.nodeSubject) {
    if (names.organizations.length !== 1 || names.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
    if (!names.commonName.startsWith('system:node:')) return "subject common name does not begin with 'system:node:'";
  }
  if (names.emailAddresses.length && rules.nodeSubject) return 'Email subjectAltNames are not allowed';
  if (names.uris.length && rules.nodeSubject) return 'URI subjectAltNames are not allowed';
  if (rules.sans === 'none') {
    if (names.dnsNames.length) return 'DNS subjectAltNames are not allowed';
    if (names.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  } else if (rules.nodeSubject && !names.dnsNames.length && !names.ipAddresses.length) {
    return 'DNS or IP subjectAltName is required';
  }
  return null;
}
