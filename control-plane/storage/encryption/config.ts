import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { aescbc, aesgcm, identity, secretbox, type ProviderKey, type Transformer } from './providers.ts';

// kube-apiserver's --encryption-provider-config: an EncryptionConfiguration
// (apiserver.config.k8s.io/v1) naming, per set of resources, the providers
// in order: the first writes, every one reads what it wrote.

interface ProviderEntry {
  aescbc?: { keys?: ProviderKey[] };
  aesgcm?: { keys?: ProviderKey[] };
  secretbox?: { keys?: ProviderKey[] };
  identity?: object;
  kms?: object;
}

interface ResourceEntry {
  resources?: string[];
  providers?: ProviderEntry[];
}

/** The transformers for one set of resources: the first writes, all read. */
export interface EncryptionRule {
  /** resource names as the file spells them: secrets, deployments.apps, *.example.com, *.*, *. */
  resources: string[];
  transformers: Transformer[];
}

const KEYED = { aescbc, aesgcm, secretbox } as const;

function transformersOf(providers: ProviderEntry[], at: string): Transformer[] {
  const out: Transformer[] = [];
  providers.forEach((p, i) => {
    const kinds = Object.keys(p);
    if (kinds.length !== 1) throw new Error(`${at}.providers[${i}]: exactly one provider, found ${kinds.join(', ') || 'none'}`);
    const kind = kinds[0] as keyof ProviderEntry;
    if (kind === 'identity') out.push(identity);
    else if (kind === 'kms') throw new Error(`${at}.providers[${i}]: kms is not supported here`);
    else if (kind in KEYED) {
      const keys = p[kind]?.keys ?? [];
      if (keys.length === 0) throw new Error(`${at}.providers[${i}].${kind}.keys: at least one key is required`);
      for (const k of keys) out.push(KEYED[kind](k));
    } else throw new Error(`${at}.providers[${i}]: unknown provider ${kind}`);
  });
  return out;
}

/** Parses an EncryptionConfiguration's text. */
export function parseEncryptionConfig(text: string, source = 'encryption configuration'): EncryptionRule[] {
  const doc = parseYaml(text) as { kind?: string; resources?: ResourceEntry[] };
  if (doc?.kind !== 'EncryptionConfiguration') throw new Error(`${source}: not an EncryptionConfiguration (kind ${doc?.kind})`);
  return (doc.resources ?? []).map((r, i) => {
    const at = `${source}: resources[${i}]`;
    if (!r.resources?.length) throw new Error(`${at}.resources: at least one resource is required`);
    if (!r.providers?.length) throw new Error(`${at}.providers: at least one provider is required`);
    return { resources: r.resources, transformers: transformersOf(r.providers, at) };
  });
}

export async function loadEncryptionConfig(path: string): Promise<EncryptionRule[]> {
  return parseEncryptionConfig(await readFile(path, 'utf8'), path);
}

/**
 * A configuration that encrypts Secrets with aescbc under `keys` (the first
 * writes); with `readPlain`, identity reads what was written before
 * encryption (what skiff writes by default, with one new 32-byte key).
 */
export function secretsEncryptionConfig(keys: ProviderKey[], opts: { readPlain: boolean } = { readPlain: true }): string {
  return `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
${keys.map((k) => `      - {name: ${k.name}, secret: "${k.secret}"}`).join('\n')}
${opts.readPlain ? '  - identity: {}\n' : ''}`;
}
