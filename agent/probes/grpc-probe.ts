import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProbeResult } from './run-probe.ts';

const PROTO = fileURLToPath(new URL('./health.proto', import.meta.url));

type HealthClient = grpc.Client & {
  Check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

let Health: (new (address: string, credentials: grpc.ChannelCredentials) => HealthClient) | undefined;

function healthClient(address: string): HealthClient {
  if (!Health) {
    const def = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { enums: String, defaults: true })) as unknown as {
      grpc: { health: { v1: { Health: typeof Health } } };
    };
    Health = def.grpc.health.v1.Health;
  }
  return new (Health as NonNullable<typeof Health>)(address, grpc.credentials.createInsecure());
}

/** A gRPC probe: grpc.health.v1 Check, healthy when the answer is SERVING. */
export function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeResult> {
  const address = `${host}:${port}`;
  const client = healthClient(address);
  return new Promise((resolve) => {
    client.Check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) {
        resolve({
          ok: false,
          output:
            err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.UNAVAILABLE
              ? `timeout: failed to connect service "${address}" within ${timeoutMs / 1000}s`
              : `rpc error: code = ${grpc.status[err.code]} desc = ${err.details}`,
        });
        return;
      }
      resolve(res?.status === 'SERVING' ? { ok: true, output: '' } : { ok: false, output: `service unhealthy (responded with "${res?.status ?? 'UNKNOWN'}")` });
    });
  });
}
