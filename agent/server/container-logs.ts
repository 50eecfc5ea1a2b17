import { open, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { writeIfOpen } from '../../apimachinery/index.ts';
import type { CriClient } from '../cri/index.ts';
import { latestByName, previousOf } from '../pods/observed.ts';
import type { ObservedPod } from '../pods/observed.ts';
import { parseCriLog, renderLog, type LogOptions } from './cri-log.ts';

export class LogRequestError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

const FOLLOW_POLL_MS = 200;

async function readFrom(path: string, offset: number): Promise<{ text: string; size: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size <= offset) return { text: '', size };
    const buf = Buffer.alloc(size - offset);
    await fh.read(buf, 0, buf.length, offset);
    return { text: buf.toString(), size };
  } finally {
    await fh.close();
  }
}

/**
 * Streams a container's log as `kubectl logs` shows it; with follow, keeps
 * sending new lines until the container stops or the client goes away.
 */
export async function serveContainerLog(args: {
  pod: Pod;
  container: string;
  previous: boolean;
  follow: boolean;
  opts: LogOptions;
  cri: CriClient;
  observe: (uid: string) => Promise<ObservedPod>;
  res: ServerResponse;
}): Promise<void> {
  const { pod, container, res } = args;
  const observed = await args.observe(pod.metadata?.uid ?? '');
  const latest = latestByName(observed.containers).get(container);
  const target = latest && args.previous ? previousOf(observed.containers, latest) : latest;
  if (!target) {
    const what = args.previous
      ? `previous terminated container "${container}" in pod "${pod.metadata?.name}" not found`
      : `container "${container}" in pod "${pod.metadata?.name}" is waiting to start: ContainerCreating`;
    throw new LogRequestError(args.previous ? 404 : 400, what);
  }
  const path = target.logPath;
  await stat(path).catch(() => {
    throw new LogRequestError(404, `log of container "${container}" is not available`);
  });
  res.writeHead(200, { 'content-type': 'text/plain' });
  let { text, size } = await readFrom(path, 0);
  // hold back an unfinished last line until it is complete
  let carry = '';
  const split = (t: string) => {
    const all = carry + t;
    const cut = all.lastIndexOf('\n') + 1;
    carry = all.slice(cut);
    return all.slice(0, cut);
  };
  res.write(renderLog(parseCriLog(split(text)), args.opts));
  if (!args.follow || target.state !== 'CONTAINER_RUNNING') {
    res.end();
    return;
  }
  const live = { ...args.opts, tailLines: undefined };
  let closed = false;
  res.on('close', () => (closed = true));
  let lastCheck = Date.now();
  while (!closed) {
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    ({ text, size } = await readFrom(path, size));
    if (text) writeIfOpen(res, renderLog(parseCriLog(split(text)), live));
    if (Date.now() - lastCheck >= 1000) {
      lastCheck = Date.now();
      // a container the runtime no longer knows has ended: the follow stops
      const st = await args.cri.containerStatus(target.id).catch(() => null);
      if (st?.state !== 'CONTAINER_RUNNING') {
        const rest = await readFrom(path, size);
        writeIfOpen(res, renderLog(parseCriLog(split(rest.text) + carry), live));
        break;
      }
    }
  }
  if (!res.writableEnded) res.end();
}
