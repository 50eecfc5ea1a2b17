import type { ServerResponse } from 'node:http';

/** One named health check: resolves when fine, rejects with the reason when not. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

const ENDPOINTS = ['/healthz', '/livez', '/readyz'];

/** Whether a path is a health endpoint or one of its checks (/readyz, /readyz/etcd). */
export function isHealthPath(path: string): boolean {
  return ENDPOINTS.some((e) => path === e || path.startsWith(`${e}/`));
}

/** Runs a check, failing it after `ms` (a storage that does not answer is not ready). */
async function within(check: HealthCheck, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check.check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]);
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * kube-apiserver's /healthz, /livez and /readyz: "ok" when every check
 * passes, else 500 listing each check ([+]name ok / [-]name failed: reason
 * withheld) and "<endpoint> check failed"; ?verbose lists them when all
 * pass, ?exclude=name skips one, /<endpoint>/<name> runs one alone.
 */
export async function serveHealth(path: string, query: URLSearchParams, checks: HealthCheck[], res: ServerResponse): Promise<void> {
  const endpoint = ENDPOINTS.find((e) => path === e || path.startsWith(`${e}/`)) as string;
  const only = path.slice(endpoint.length + 1);
  const chosen = only ? checks.filter((c) => c.name === only) : checks.filter((c) => !query.getAll('exclude').includes(c.name));
  if (only && chosen.length === 0) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    return;
  }
  const results = await Promise.all(chosen.map(async (c) => ({ name: c.name, failure: await within(c, 2000) })));
  const failed = results.some((r) => r.failure !== null);
  const verbose = query.has('verbose') || (failed && !only);
  const lines = results.map((r) => (r.failure === null ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
  const body = only
    ? failed
      ? `internal server error: ${results[0]?.failure}\n`
      : 'ok'
    : verbose
      ? `${lines.join('\n')}\n${failed ? `${endpoint.slice(1)} check failed` : `${endpoint.slice(1)} check passed`}\n`
      : 'ok';
  res.writeHead(failed ? 500 : 200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(body);
}
