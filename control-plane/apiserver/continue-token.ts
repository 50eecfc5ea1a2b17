import { posix } from 'node:path';
import { errors } from '../../apimachinery/index.ts';

// A continue token names the key a list stopped after and the revision all
// its pages read (-1: the newest, once that revision is compacted). The key
// is written relative to the list's prefix and read back below the prefix of
// the list it is used with, so a token can never reach outside that list,
// however it was made (kube-apiserver's continue tokens work the same way).

interface Token {
  v: string;
  rv: number;
  start: string;
}

const VERSION = 'meta.k8s.io/v1';

/** The token for a list under `prefix` that stopped after `key`. */
export function encodeContinue(key: string, prefix: string, rv: number): string {
  if (!key.startsWith(prefix)) throw new Error(`key ${key} is not under the list's prefix ${prefix}`);
  const token: Token = { v: VERSION, rv, start: key.slice(prefix.length) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

const invalid = (why: string) => errors.badRequest(`invalid continue token: continue key is not valid: ${why}`);

/** The key under `prefix` a token says to start after, and its revision; 400 for anything else. */
export function decodeContinue(value: string, prefix: string): { startAfter: string; rv: number } {
  let token: Partial<Token>;
  try {
    token = JSON.parse(Buffer.from(value, 'base64url').toString()) as Partial<Token>;
  } catch (err) {
    throw invalid((err as Error).message);
  }
  if (token === null || typeof token !== 'object') throw invalid('not an object');
  if (token.v !== VERSION) throw errors.badRequest(`invalid continue token: server does not recognize this encoded version ${String(token.v)}`);
  if (typeof token.rv !== 'number' || !Number.isInteger(token.rv) || token.rv === 0 || token.rv < -1)
    throw invalid(`incorrect encoded start resourceVersion (version ${VERSION})`);
  if (typeof token.start !== 'string' || token.start.length === 0) throw invalid(`encoded start key empty (version ${VERSION})`);
  // no way up or sideways: the key must be a plain path below the prefix
  const key = `/${token.start}`;
  if (posix.normalize(key) !== key || key.endsWith('/') || key.includes('\0')) throw invalid(token.start);
  return { startAfter: `${prefix}${token.start}`, rv: token.rv };
}
