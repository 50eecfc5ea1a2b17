import { request, type Agent } from 'node:https';
import type { ClientConfig } from '../../apimachinery/index.ts';

// One HTTPS request with a kubeconfig's credentials and exactly the body and
// headers given: what benchmarks and the bad-input tests send past kubectl.

export interface RawRequest {
  method: string;
  path: string;
  /** an object is sent as JSON; a string as it is */
  body?: object | string;
  contentType?: string;
  accept?: string;
  /** further request headers */
  headers?: Record<string, string>;
  agent?: Agent;
}

export function rawRequest(
  cfg: ClientConfig,
  r: RawRequest,
): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(cfg.server);
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': r.contentType ?? 'application/json', accept: r.accept ?? 'application/json', ...r.headers };
    const req = request(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, agent: r.agent, ca: cfg.ca, cert: cfg.cert, key: cfg.key, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  });
}

/** An HTTPS GET to a server on this host with no client certificate and no token: what anonymous gets. */
export function anonymousGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
