import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROL_PLANE_CERTS_SECRET, pathExists } from '../apimachinery/index.ts';

/** The EncryptionConfiguration --secrets-encryption keeps beside the cluster's keys. */
export const ENCRYPTION_CONFIG_FILE = 'encryption-config.yaml';

/** The files a server joining a cluster takes from it: the cluster CA and the service-account signing keys (the rest it issues itself). */
export const SHARED_PKI_FILES = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub'] as const;
/** Shared too where the first server has it: the keys Secrets are encrypted with at rest. */
const OPTIONAL_SHARED_FILES = [ENCRYPTION_CONFIG_FILE] as const;

/** A fresh certificate key: 32 random bytes, hex, as kubeadm's --certificate-key. */
export const newCertificateKey = () => randomBytes(32).toString('hex');

function keyOf(certificateKey: string): Buffer {
  const key = Buffer.from(certificateKey, 'hex');
  if (key.length !== 32 || !/^[0-9a-f]{64}$/.test(certificateKey)) throw new Error('--certificate-key must be 64 hex characters');
  return key;
}

/** The shared PKI files of `pkiDir`, each sealed with AES-256-GCM under the certificate key (nonce | ciphertext | tag, base64). */
export async function sealSharedPki(pkiDir: string, certificateKey: string): Promise<Record<string, string>> {
  const key = keyOf(certificateKey);
  const out: Record<string, string> = {};
  const optional: string[] = [];
  for (const name of OPTIONAL_SHARED_FILES) if (await pathExists(join(pkiDir, name))) optional.push(name);
  for (const name of [...SHARED_PKI_FILES, ...optional]) {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    const sealed = Buffer.concat([nonce, cipher.update(await readFile(join(pkiDir, name))), cipher.final(), cipher.getAuthTag()]);
    // a Secret's data is base64 of the bytes: the sealed bytes themselves
    out[name] = sealed.toString('base64');
  }
  return out;
}

/** Opens what sealSharedPki sealed; throws one sentence when the key is not the one it was sealed with. */
export function openSharedPki(data: Record<string, string>, certificateKey: string): Record<string, Buffer> {
  const key = keyOf(certificateKey);
  const out: Record<string, Buffer> = {};
  for (const name of [...SHARED_PKI_FILES, ...OPTIONAL_SHARED_FILES]) {
    if (data[name] === undefined && (OPTIONAL_SHARED_FILES as readonly string[]).includes(name)) continue;
    const sealed = Buffer.from(data[name] ?? '', 'base64');
    if (sealed.length < 28) throw new Error(`the ${CONTROL_PLANE_CERTS_SECRET} Secret has no ${name}`);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    try {
      out[name] = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    } catch {
      throw new Error(`the certificate key does not open the ${CONTROL_PLANE_CERTS_SECRET} Secret (wrong key, or the certificates were uploaded again since)`);
    }
  }
  return out;
}

/** Writes the opened files into a PKI directory (keys 0600). */
export async function writeSharedPki(pkiDir: string, files: Record<string, Buffer>): Promise<void> {
  for (const [name, bytes] of Object.entries(files)) {
    const secret = name.endsWith('.key') || name === ENCRYPTION_CONFIG_FILE;
    await writeFile(join(pkiDir, name), bytes, { mode: secret ? 0o600 : 0o644 });
  }
}
