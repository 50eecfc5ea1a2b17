import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import nacl from 'tweetnacl';

// The encryption-at-rest providers of an EncryptionConfiguration, each key of
// each a transformer: what it writes starts with its prefix
// (k8s:enc:<provider>:v1:<key name>:) and carries the sealed bytes, base64
// (the stores hold text); identity writes the plain bytes with no prefix.

export interface Transformer {
  /** what values it wrote start with ('' for identity, which reads anything not prefixed) */
  readonly prefix: string;
  seal(plain: Buffer, context: string): Buffer;
  open(sealed: Buffer, context: string): Buffer;
}

export interface ProviderKey {
  name: string;
  /** the key, base64 */
  secret: string;
}

const keyBytes = (provider: string, k: ProviderKey, sizes: number[]): Buffer => {
  const bytes = Buffer.from(k.secret, 'base64');
  if (!sizes.includes(bytes.length)) throw new Error(`${provider} key "${k.name}": ${bytes.length} bytes, want ${sizes.join(' or ')}`);
  return bytes;
};

/** AES-CBC with PKCS#7 padding: a random IV, then the ciphertext. */
export function aescbc(k: ProviderKey): Transformer {
  const key = keyBytes('aescbc', k, [16, 24, 32]);
  const algorithm = `aes-${key.length * 8}-cbc`;
  return {
    prefix: `k8s:enc:aescbc:v1:${k.name}:`,
    seal(plain) {
      const iv = randomBytes(16);
      const cipher = createCipheriv(algorithm, key, iv);
      return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
    },
    open(sealed) {
      const decipher = createDecipheriv(algorithm, key, sealed.subarray(0, 16));
      return Buffer.concat([decipher.update(sealed.subarray(16)), decipher.final()]);
    },
  };
}

/** AES-GCM: a random 12-byte nonce, the ciphertext and its tag; the storage key is authenticated with it, so a value cannot move to another key. */
export function aesgcm(k: ProviderKey): Transformer {
  const key = keyBytes('aesgcm', k, [16, 24, 32]);
  const algorithm: CipherGCMTypes = key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
  return {
    prefix: `k8s:enc:aesgcm:v1:${k.name}:`,
    seal(plain, context) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv(algorithm, key, nonce);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([nonce, body, cipher.getAuthTag()]);
    },
    open(sealed, context) {
      const decipher = createDecipheriv(algorithm, key, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    },
  };
}

/** XSalsa20-Poly1305 (NaCl's secretbox): a random 24-byte nonce, then the box. */
export function secretbox(k: ProviderKey): Transformer {
  const key = new Uint8Array(keyBytes('secretbox', k, [32]));
  return {
    prefix: `k8s:enc:secretbox:v1:${k.name}:`,
    seal(plain) {
      const nonce = randomBytes(nacl.secretbox.nonceLength);
      return Buffer.concat([nonce, Buffer.from(nacl.secretbox(new Uint8Array(plain), new Uint8Array(nonce), key))]);
    },
    open(sealed) {
      const opened = nacl.secretbox.open(new Uint8Array(sealed.subarray(24)), new Uint8Array(sealed.subarray(0, 24)), key);
      if (!opened) throw new Error('secretbox: the value does not open with this key');
      return Buffer.from(opened);
    },
  };
}

export const identity: Transformer = { prefix: '', seal: (plain) => plain, open: (sealed) => sealed };
