import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbe, type ProbeTarget } from './run-probe.ts';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? 200 : req.url === '/moved' ? 302 : 500;
    res.end(req.headers['x-probe'] ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const target = (execSync: ProbeTarget['execSync'] = async () => ({ exitCode: 0 })): ProbeTarget => ({
  podIP: '127.0.0.1',
  containerId: 'c1',
  container: { name: 'web', ports: [{ name: 'http', containerPort: port }] },
  execSync,
});

describe('probe handlers', () => {
  it('passes HTTP GETs answered 2xx or 3xx, on numbered or named ports', async () => {
    expect(await runProbe({ httpGet: { path: '/healthz', port } }, target())).toEqual({ ok: true, output: '' });
    expect(await runProbe({ httpGet: { path: '/moved', port: 'http' } }, target())).toMatchObject({ ok: true });
    expect(await runProbe({ httpGet: { path: '/broken', port } }, target())).toEqual({ ok: false, output: 'HTTP probe failed with statuscode: 500' });
  });

  it("fails a TCP or HTTP probe on a closed port with the kubelet's words", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    expect(await runProbe({ tcpSocket: { port: closed } }, target())).toEqual({
      ok: false,
      output: `dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
    expect(await runProbe({ tcpSocket: { port } }, target())).toEqual({ ok: true, output: '' });
    expect((await runProbe({ httpGet: { port: closed } }, target())).output).toBe(
      `Get "http://127.0.0.1:${closed}/": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    );
  });

  it('judges exec probes by exit code and reports their output', async () => {
    const failing = target(async () => ({ exitCode: 1, stderr: Buffer.from("cat: can't open '/tmp/x': No such file or directory\n") }));
    expect(await runProbe({ exec: { command: ['cat', '/tmp/x'] } }, failing)).toEqual({
      ok: false,
      output: "cat: can't open '/tmp/x': No such file or directory",
    });
    expect(await runProbe({ exec: { command: ['true'] } }, target())).toMatchObject({ ok: true });
  });
});

describe('gRPC probes', () => {
  it('pass on SERVING, fail on NOT_SERVING and on an unreachable port', async () => {
    const def = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('./health.proto', import.meta.url)), { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: { service: grpc.ServiceDefinition } } } };
    };
    const health = new grpc.Server();
    health.addService(def.grpc.health.v1.Health.service, {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { status: call.request.service === 'db' ? 'NOT_SERVING' : 'SERVING' }),
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      health.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      expect(await runProbe({ grpc: { port: grpcPort } }, target())).toEqual({ ok: true, output: '' });
      expect(await runProbe({ grpc: { port: grpcPort, service: 'db' } }, target())).toEqual({
        ok: false,
        output: 'service unhealthy (responded with "NOT_SERVING")',
      });
    } finally {
      health.forceShutdown();
    }
    expect((await runProbe({ grpc: { port: grpcPort }, timeoutSeconds: 1 }, target())).output).toBe(
      `timeout: failed to connect service "127.0.0.1:${grpcPort}" within 1s`,
    );
  });
});
