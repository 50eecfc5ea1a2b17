import { createServer, type IncomingMessage, type Server } from 'node:http';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../apimachinery/index.ts';
import { CniError } from './exec-plugin.ts';
import type { CniRunner } from './runner.ts';

/** Parses CNI_ARGS ("K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;…"). */
export function parseCniArgs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of args.split(';')) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

export interface CniDelegateOptions {
  socketPath: string;
  runner: CniRunner;
  /** told how long each pod's ADD took (the start-up network phase) */
  added?: (podUid: string, seconds: number) => void;
  log: Logger;
}

/**
 * The agent's end of the delegating CNI plugin: answers the calls containerd
 * makes through `skiff-delegate` by running the node's real conflist.
 */
export async function serveCniDelegate(o: CniDelegateOptions): Promise<Server> {
  const { socketPath, runner, log } = o;
  await mkdir(dirname(socketPath), { recursive: true });
  await rm(socketPath, { force: true });
  const server = createServer(async (req, res) => {
    const command = header(req, 'cni-command');
    const a = {
      containerId: header(req, 'cni-containerid'),
      netns: header(req, 'cni-netns'),
      ifName: header(req, 'cni-ifname') || 'eth0',
      args: header(req, 'cni-args'),
    };
    const pod = parseCniArgs(a.args);
    const clog = log.child({ cni: command, pod: `${pod.K8S_POD_NAMESPACE ?? ''}/${pod.K8S_POD_NAME ?? ''}`, container: a.containerId.slice(0, 12) });
    const started = performance.now();
    try {
      const body = JSON.parse(await readBody(req)) as { runtimeConfig?: Record<string, unknown> };
      const attachment = { ...a, runtimeConfig: body.runtimeConfig };
      let result: object = {};
      if (command === 'ADD') {
        result = await runner.add(attachment);
        // containerd names the pod's uid among the CNI arguments
        if (pod.K8S_POD_UID) o.added?.(pod.K8S_POD_UID, (performance.now() - started) / 1000);
      } else if (command === 'DEL') await runner.del(attachment);
      else if (command === 'CHECK') await runner.check(attachment);
      else throw new CniError(4, `unsupported CNI command ${JSON.stringify(command)}`);
      clog.debug({ ms: Math.round(performance.now() - started) }, 'cni call done');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    } catch (err) {
      const e = err instanceof CniError ? err : new CniError(999, (err as Error).message);
      clog.warn({ err: e.message }, 'cni call failed');
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return server;
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString() || '{}';
}
