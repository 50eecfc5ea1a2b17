import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container } from 'kubernetes-types/core/v1.js';
import { parseCriLog } from '../server/index.ts';
import type { ObservedContainer } from './observed.ts';

/** The kubelet reads at most this much of a termination message file … */
const MAX_MESSAGE_BYTES = 4096;
/** … and, with FallbackToLogsOnError, at most this much of the log's last 80 lines. */
const MAX_LOG_BYTES = 2048;
const MAX_LOG_LINES = 80;

/** The host file mounted at a container's terminationMessagePath, one per attempt. */
export function terminationMessageFile(podDir: string, container: string, attempt: number): string {
  return join(podDir, 'containers', container, String(attempt));
}

/** Makes the (empty, writable by any user) file before the container starts. */
export async function prepareTerminationMessage(podDir: string, container: string, attempt: number): Promise<string> {
  const file = terminationMessageFile(podDir, container, attempt);
  await mkdir(join(podDir, 'containers', container), { recursive: true });
  await writeFile(file, '');
  await chmod(file, 0o666);
  return file;
}

async function readPrefix(path: string, max: number): Promise<string> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead).toString();
  } finally {
    await fh.close();
  }
}

/**
 * What an exited container left as its termination message: the file at its
 * terminationMessagePath, or — with FallbackToLogsOnError, when the file is
 * empty and the container failed — the end of its log.
 */
export async function readTerminationMessage(spec: Container | undefined, c: ObservedContainer, podDir: string, logPath: string): Promise<string> {
  const message = await readPrefix(terminationMessageFile(podDir, c.name, c.attempt), MAX_MESSAGE_BYTES);
  if (message || spec?.terminationMessagePolicy !== 'FallbackToLogsOnError' || c.exitCode === 0) return message;
  const log = await readFile(logPath, 'utf8').catch(() => '');
  const lines = parseCriLog(log)
    .slice(-MAX_LOG_LINES)
    .map((e) => e.content + (e.full ? '\n' : ''))
    .join('');
  return Buffer.from(lines).subarray(-MAX_LOG_BYTES).toString();
}
