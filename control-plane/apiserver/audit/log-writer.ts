import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { once } from 'node:events';
import type { Logger } from '../../../apimachinery/index.ts';

// The audit log backend: one JSON line per event, appended to a file that is
// rotated when it outgrows --audit-log-maxsize (audit.log → audit-<time>.log),
// keeping at most --audit-log-maxbackup old files, none older than
// --audit-log-maxage days (as kube-apiserver's lumberjack-backed writer).

export interface AuditLogOptions {
  path: string;
  /** megabytes before rotation (0: never) */
  maxSizeMB: number;
  /** old files kept (0: all) */
  maxBackups: number;
  /** days an old file is kept (0: forever) */
  maxAgeDays: number;
  /** where a failed write or rotation is said: the events it took are lost, the server goes on */
  log: Logger;
}

export class AuditLogWriter {
  readonly #o: AuditLogOptions;
  #stream: WriteStream | undefined;
  #size = 0;
  #rotating: Promise<void> = Promise.resolve();

  constructor(o: AuditLogOptions) {
    this.#o = o;
  }

  async open(): Promise<void> {
    await mkdir(dirname(this.#o.path), { recursive: true, mode: 0o700 });
    this.#size = await stat(this.#o.path).then(
      (s) => s.size,
      () => 0,
    );
    this.#stream = this.#openStream();
  }

  #openStream(): WriteStream {
    const stream = createWriteStream(this.#o.path, { flags: 'a', mode: 0o600 });
    stream.on('error', (err) => this.#o.log.error({ err: err.message, path: this.#o.path }, 'writing the audit log failed'));
    return stream;
  }

  write(event: object): void {
    const line = `${JSON.stringify(event)}\n`;
    this.#stream?.write(line);
    this.#size += Buffer.byteLength(line);
    if (this.#o.maxSizeMB > 0 && this.#size > this.#o.maxSizeMB * 1024 * 1024) {
      this.#size = 0;
      this.#rotating = this.#rotating
        .then(() => this.#rotate())
        .catch((err: Error) => this.#o.log.error({ err: err.message, path: this.#o.path }, 'rotating the audit log failed'));
    }
  }

  async #rotate(): Promise<void> {
    const { path } = this.#o;
    const ext = extname(path);
    const stamp = new Date().toISOString().replace(/:/g, '-');
    const rotated = join(dirname(path), `${basename(path, ext)}-${stamp}${ext}`);
    // the open stream follows the file it writes to: what comes in while this runs lands in the rotated file
    const old = this.#stream;
    if (old?.pending) await once(old, 'open');
    // a log removed from under us has nothing to rotate: a new one starts
    await rename(path, rotated).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.#stream = this.#openStream();
    await new Promise<void>((resolve) => (old ? old.end(resolve) : resolve()));
    await this.#prune();
  }

  /** Removes old files past the count or the age kept. */
  async #prune(): Promise<void> {
    const { path, maxBackups, maxAgeDays } = this.#o;
    const ext = extname(path);
    const stem = `${basename(path, ext)}-`;
    const olds = (await readdir(dirname(path))).filter((f) => f.startsWith(stem) && f.endsWith(ext)).sort();
    const cutoff = Date.now() - maxAgeDays * 86_400_000;
    const expired = await Promise.all(
      olds.map(
        async (f) =>
          maxAgeDays > 0 &&
          (await stat(join(dirname(path), f)).then(
            (s) => s.mtimeMs < cutoff,
            () => false,
          )),
      ),
    );
    const kept = olds.filter((_, i) => !expired[i]);
    const gone = [...olds.filter((_, i) => expired[i]), ...(maxBackups > 0 ? kept.slice(0, Math.max(0, kept.length - maxBackups)) : [])];
    for (const f of gone) await rm(join(dirname(path), f), { force: true });
  }

  async close(): Promise<void> {
    await this.#rotating;
    const s = this.#stream;
    this.#stream = undefined;
    await new Promise<void>((resolve) => (s ? s.end(resolve) : resolve()));
  }
}
