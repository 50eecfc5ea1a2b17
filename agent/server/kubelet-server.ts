import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Registry } from 'prom-client';
import { ApiError, queryBool, queryInt, serveExposition, serveRegistry, unescapePathSegment, type Logger } from '../../apimachinery/index.ts';
import type { CriClient } from '../cri/index.ts';
import type { ObservedPod } from '../pods/observed.ts';
import { LogRequestError, serveContainerLog } from './container-logs.ts';
import { KubeletAuthError, type KubeletAuth } from './kubelet-auth.ts';
import { serveStreaming } from './streaming.ts';
import { resourceMetrics } from './metrics.ts';

export interface KubeletServerOptions {
  nodeName: string;
  address: string;
  port: number;
  tls: { cert: string; key: string; clientCA: string };
  /** the pod the node runs under a name: a mirror pod's static pod, else the API's */
  podByName: (namespace: string, name: string) => Pod | undefined;
  /** every pod the node runs, static ones included */
  runningPods: () => Pod[];
  cri: CriClient;
  /** what the runtime holds for a pod (the pod syncer's view, sharing its cache) */
  observe: (uid: string) => Promise<ObservedPod>;
  /** the stats summary (stats/v1alpha1) */
  summary: () => Promise<object>;
  /** the agent's series (/metrics), its probes' (/metrics/probes), and its containers' as cAdvisor names them (/metrics/cadvisor) */
  metrics: { registry: Registry; probes: Registry; cadvisor: () => Promise<string> };
  /** who may do what: every request but /healthz is authenticated and authorized through the API server */
  auth: KubeletAuth;
  log: Logger;
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
}

/**
 * The kubelet API on :10250 (healthz, pods, containerLogs, stats/summary,
 * metrics, metrics/probes, metrics/cadvisor and metrics/resource in Prometheus text,
 * and exec, attach and portForward as upgraded connections). Every call
 * but /healthz needs a client certificate from the cluster CA or a bearer
 * token, and the API server's word that its user may make it.
 */
export async function startKubeletServer(o: KubeletServerOptions): Promise<Server> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') return text(res, 200, 'ok');
    try {
      await o.auth.check(req, url.pathname);
    } catch (err) {
      if (err instanceof KubeletAuthError) return text(res, err.code, err.message);
      throw err;
    }
    if (req.method !== 'GET') return text(res, 405, 'Method Not Allowed');
    if (url.pathname === '/pods' || url.pathname === '/pods/') {
      const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: o.runningPods() });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (url.pathname === '/stats/summary' || url.pathname === '/stats/summary/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await o.summary()));
      return;
    }
    if (url.pathname === '/metrics') return serveRegistry(o.metrics.registry, req, res);
    if (url.pathname === '/metrics/probes') return serveRegistry(o.metrics.probes, req, res);
    if (url.pathname === '/metrics/resource' || url.pathname === '/metrics/cadvisor') {
      const body =
        url.pathname === '/metrics/cadvisor' ? await o.metrics.cadvisor() : resourceMetrics((await o.summary()) as Parameters<typeof resourceMetrics>[0]);
      return serveExposition(req, res, body);
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const [ns, name, container] = [m[1], m[2], m[3]].map((s) => unescapePathSegment(s as string)) as [string, string, string];
      const pod = o.podByName(ns, name);
      if (!pod) return text(res, 404, `pod "${name}" not found in namespace "${ns}"`);
      const q = url.searchParams;
      const sinceSeconds = queryInt(q, 'sinceSeconds');
      const sinceTime = q.get('sinceTime');
      const sinceMs = sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : sinceTime ? Date.parse(sinceTime) : undefined;
      try {
        await serveContainerLog({
          pod,
          container,
          previous: queryBool(q.get('previous')),
          follow: queryBool(q.get('follow')),
          opts: { timestamps: queryBool(q.get('timestamps')), tailLines: queryInt(q, 'tailLines'), limitBytes: queryInt(q, 'limitBytes'), sinceMs },
          cri: o.cri,
          observe: o.observe,
          res,
        });
      } catch (err) {
        if (err instanceof LogRequestError) return text(res, err.code, err.message);
        throw err;
      }
      return;
    }
    text(res, 404, '404 page not found');
  };
  const server = createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.clientCA, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    // a write that races the end of a followed log must not take the agent down
    res.on('error', (err) => o.log.debug({ err: err.message, path: req.url }, 'response error'));
    handle(req, res).catch((err: Error) => {
      // a client's mistake (a malformed escape, a parameter that is no number) is answered, not logged
      if (err instanceof ApiError && err.code < 500 && !res.headersSent) return text(res, err.code, err.message);
      o.log.warn({ err: err.message, path: req.url }, 'kubelet API request failed');
      if (!res.headersSent) text(res, 500, err.message);
      else res.end();
    });
  });
  // a connection keeps the client certificate it started with (authentication reads it once per connection)
  server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  server.on('upgrade', (req, socket, head) => void serveStreaming(o, req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => resolve());
  });
  return server;
}
