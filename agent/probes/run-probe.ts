import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { grpcProbe } from './grpc-probe.ts';

export interface ProbeResult {
  ok: boolean;
  /** what the kubelet would say about a failure ("HTTP probe failed with statuscode: 500") */
  output: string;
}

export interface ProbeTarget {
  podIP: string;
  container: Container;
  containerId: string;
  execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<{ stdout?: Uint8Array; stderr?: Uint8Array; exitCode?: number }>;
}

/** A port given by number, or by the name of one of the container's ports. */
function portOf(port: number | string | undefined, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port && /^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function httpGet(action: NonNullable<Probe['httpGet']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const port = portOf(action.port, target.container);
  const host = action.host || target.podIP;
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const url = `${scheme}://${host}:${port}${action.path ?? '/'}`;
  if (port === undefined) return Promise.resolve({ ok: false, output: `unknown port ${action.port}` });
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.34', accept: '*/*' };
    for (const h of action.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
    const send = scheme === 'https' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400 ? { ok: true, output: '' } : { ok: false, output: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, output: err.code === 'ECONNREFUSED' ? `Get "${url}": dial tcp ${host}:${port}: connect: connection refused` : err.message }),
    );
    req.end();
  });
}

function tcpSocket(action: NonNullable<Probe['tcpSocket']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const port = portOf(action.port, target.container);
  const host = action.host || target.podIP;
  if (port === undefined) return Promise.resolve({ ok: false, output: `unknown port ${action.port}` });
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, output: '' });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, output: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, output: err.code === 'ECONNREFUSED' ? `dial tcp ${host}:${port}: connect: connection refused` : err.message }),
    );
  });
}

async function exec(action: NonNullable<Probe['exec']>, target: ProbeTarget, timeoutSeconds: number): Promise<ProbeResult> {
  try {
    const r = await target.execSync(target.containerId, action.command ?? [], timeoutSeconds);
    const output = Buffer.concat([Buffer.from(r.stdout ?? []), Buffer.from(r.stderr ?? [])])
      .toString()
      .trim();
    return (r.exitCode ?? 0) === 0
      ? { ok: true, output }
      : { ok: false, output: output || `command ${JSON.stringify((action.command ?? []).join(' '))} exited with ${r.exitCode}` };
  } catch (err) {
    return { ok: false, output: (err as Error).message };
  }
}

/** Runs one probe once: exec through the runtime, HTTP GET, TCP connect or gRPC health check to the pod. */
export function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutSeconds = probe.timeoutSeconds ?? 1;
  if (probe.exec) return exec(probe.exec, target, timeoutSeconds);
  if (probe.httpGet) return httpGet(probe.httpGet, target, timeoutSeconds * 1000);
  if (probe.tcpSocket) return tcpSocket(probe.tcpSocket, target, timeoutSeconds * 1000);
  if (probe.grpc) return grpcProbe(target.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutSeconds * 1000);
  return Promise.resolve({ ok: false, output: 'the probe names no handler' });
}
