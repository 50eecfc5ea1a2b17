import { mkdir, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { KeyPair } from '../../apimachinery/index.ts';

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g;

/** A certificate and key kept in one PEM file, as the kubelet's pem files are. */
export function splitPem(text: string): KeyPair | undefined {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const cert = blocks.filter((b) => b[1] === 'CERTIFICATE').map((b) => b[0]);
  const key = blocks.find((b) => b[1]?.endsWith('PRIVATE KEY'))?.[0];
  return cert.length && key ? { cert: cert.join(''), key } : undefined;
}

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace(/[T:]/g, '-');

/**
 * The kubelet's certificate store: `<dir>/<prefix>-<time>.pem` files (key and
 * certificate together, 0600), and `<prefix>-current.pem` a symlink to the one
 * in use, swapped in one rename so a reader never sees half of a rotation.
 */
export class CertificateStore {
  readonly dir: string;
  readonly prefix: string;

  constructor(dir: string, prefix: 'kubelet-client' | 'kubelet-server') {
    this.dir = dir;
    this.prefix = prefix;
  }

  get currentPath(): string {
    return join(this.dir, `${this.prefix}-current.pem`);
  }

  async current(): Promise<KeyPair | undefined> {
    const text = await readFile(this.currentPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    return splitPem(text);
  }

  /** Keeps a new pair and makes it current; older pairs go. */
  async save(pair: KeyPair, now = new Date()): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = `${this.prefix}-${stamp(now)}.pem`;
    await writeFile(join(this.dir, file), `${pair.cert.trimEnd()}\n${pair.key.trimEnd()}\n`, { mode: 0o600 });
    const link = `${this.currentPath}.tmp`;
    await rm(link, { force: true });
    await symlink(file, link);
    await rename(link, this.currentPath);
    for (const old of await readdir(this.dir)) {
      if (old.startsWith(`${this.prefix}-`) && old.endsWith('.pem') && old !== file && old !== basename(this.currentPath))
        await rm(join(this.dir, old), { force: true });
    }
  }
}
