import { X509Certificate, createHash, randomBytes, webcrypto } from 'node:crypto';

type X509Lib = typeof import('@peculiar/x509');
let lib: X509Lib | undefined;

/** @peculiar/x509 (and its reflect polyfill) load on first use: processes that never issue certificates do not pay for them. */
async function x509Lib(): Promise<X509Lib> {
  if (!lib) {
    await import('reflect-metadata');
    lib = await import('@peculiar/x509');
    // typed against the DOM's Crypto; Node's webcrypto is that API
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<X509Lib['cryptoProvider']['set']>[0]);
  }
  return lib;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface CertRequest {
  commonName: string;
  /** subject organizations: Kubernetes reads them as the user's groups */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'both';
  days?: number;
}

function subject(cn: string, orgs: string[] = []): string {
  const esc = (s: string) => s.replace(/([,+"\\<>;=])/g, '\\$1');
  return [...orgs.map((o) => `O=${esc(o)}`), `CN=${esc(cn)}`].join(', ');
}

async function keyPem(key: CryptoKey): Promise<string> {
  const x509 = await x509Lib();
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const x509 = await x509Lib();
  return (await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), ALG, true, ['sign'])) as CryptoKey;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}

/** A self-signed cluster CA. */
export async function createCA(commonName: string, days = 3650): Promise<KeyPair> {
  const x509 = await x509Lib();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject(commonName),
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + days * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** What every leaf certificate the cluster CA signs carries: not a CA, signing and key encipherment, its usages, the CA's key id, and its names. */
async function leafExtensions(caCert: InstanceType<X509Lib['X509Certificate']>, eku: string[], san: InstanceType<X509Lib['Extension']> | undefined) {
  const x509 = await x509Lib();
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ...(san ? [san] : []),
  ];
}

/** A leaf certificate signed by `ca`. */
export async function issueCert(ca: KeyPair, req: CertRequest): Promise<KeyPair> {
  const x509 = await x509Lib();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const eku: string[] = [];
  if (req.usage !== 'client') eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (req.usage !== 'server') eku.push(x509.ExtendedKeyUsage.clientAuth);
  const san = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(req.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(req.commonName, req.organizations),
    issuer: caCert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + (req.days ?? 365) * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: await leafExtensions(caCert, eku, san.length ? new x509.SubjectAlternativeNameExtension(san) : undefined),
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/**
 * Signs a PKCS#10 request (PEM) with `ca`: the certificate carries the
 * request's subject, public key and subject alternative names, the
 * requested usages, and lives `seconds` long. Throws when the request's
 * signature does not hold.
 */
export async function signRequest(ca: KeyPair, requestPem: string, opts: { clientAuth: boolean; serverAuth: boolean; seconds: number }): Promise<string> {
  const x509 = await x509Lib();
  const csr = new x509.Pkcs10CertificateRequest(requestPem);
  if (!(await csr.verify())) throw new Error('the certificate request is not signed by its own key');
  const caCert = new x509.X509Certificate(ca.cert);
  const eku: string[] = [];
  if (opts.serverAuth) eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.clientAuth) eku.push(x509.ExtendedKeyUsage.clientAuth);
  // the OID of subjectAltName
  const san = csr.getExtension('2.5.29.17');
  const now = Date.now();
  // valid a little before now for clocks behind ours: 5 minutes, or a tenth of a short certificate's life, so
  // that a renewal due at 70% of its lifetime still falls after its issue
  const backdateMs = opts.seconds * 1000 >= 8 * 3600_000 ? 300_000 : opts.seconds * 100;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: csr.subject,
    issuer: caCert.subject,
    notBefore: new Date(now - backdateMs),
    notAfter: new Date(now + opts.seconds * 1000),
    publicKey: await csr.publicKey.export(),
    signingKey: await importKey(ca.key),
    signingAlgorithm: ALG,
    extensions: await leafExtensions(caCert, eku, san ?? undefined),
  });
  return cert.toString('pem');
}

/** What a certificate request asks for: its subject and subject alternative names. */
export interface RequestedNames {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
}

/** Reads a PEM certificate request's subject and SANs (for a signer's rules); throws on a request that does not parse. */
export async function describeRequest(requestPem: string): Promise<RequestedNames> {
  const x509 = await x509Lib();
  const csr = new x509.Pkcs10CertificateRequest(requestPem);
  const raw = csr.getExtension('2.5.29.17');
  const names = raw ? new x509.SubjectAlternativeNameExtension(raw.rawData).names.items : [];
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  return {
    commonName: csr.subjectName.getField('CN')[0] ?? '',
    organizations: csr.subjectName.getField('O'),
    dnsNames: of('dns'),
    ipAddresses: of('ip'),
    emailAddresses: of('email'),
    uris: of('url'),
  };
}

/** A new key and a PKCS#10 request for it (both PEM), naming the subject and SANs a signer will put in the certificate. */
export async function createCertificateRequest(names: {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}): Promise<{ request: string; key: string }> {
  const x509 = await x509Lib();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const san = [
    ...(names.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(names.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject(names.commonName, names.organizations),
    keys,
    signingAlgorithm: ALG,
    extensions: san.length ? [new x509.SubjectAlternativeNameExtension(san)] : [],
  });
  return { request: csr.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** When a PEM certificate (the first, for a bundle) starts and stops being valid (Node's own parser: no certificate library loaded). */
export async function certificateValidity(certPem: string): Promise<{ notBefore: Date; notAfter: Date }> {
  const cert = new X509Certificate(certPem);
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/**
 * The pin of a CA as kubeadm's --discovery-token-ca-cert-hash spells it:
 * `sha256:` and the hex SHA-256 of the certificate's SubjectPublicKeyInfo.
 */
export async function caCertHash(certPem: string): Promise<string> {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
