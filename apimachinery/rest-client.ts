import { Agent, request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { ApiError, type Status } from './status.ts';
import type { ClientConfig } from './kubeconfig.ts';
import { resourcePath, type ResourceRef } from './resource-path.ts';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type Query = Record<string, string | number | boolean | undefined>;

interface RequestArgs {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** How long a watch may stay silent before it is treated as dead (re-armed on every chunk). */
const WATCH_IDLE_MS = 5 * 60_000;

/**
 * A small Kubernetes REST client over HTTPS: JSON in and out, errors as
 * ApiError built from the server's Status, watches as a callback stream.
 */
export class RestClient {
  readonly server: URL;
  #agent: Agent;
  #agentOptions: AgentOptions;
  #token: string | undefined;
  #userAgent: string;

  constructor(cfg: ClientConfig, opts: { userAgent?: string } = {}) {
    this.server = new URL(cfg.server);
    this.#agentOptions = { keepAlive: true, ca: cfg.ca, cert: cfg.cert, key: cfg.key, maxSockets: 64 };
    this.#agent = new Agent(this.#agentOptions);
    this.#token = cfg.token;
    this.#userAgent = opts.userAgent ?? 'skiff';
  }

  close(): void {
    this.#agent.destroy();
  }

  /**
   * Talks as a new client certificate from now on (a rotation): new requests
   * open connections with it, and the old connections are closed so that
   * open watches come back under the new identity.
   */
  useClientCertificate(pair: { cert: string; key: string }): void {
    const old = this.#agent;
    this.#agentOptions = { ...this.#agentOptions, cert: pair.cert, key: pair.key };
    this.#agent = new Agent(this.#agentOptions);
    old.destroy();
  }

  #open(method: string, path: string, args: RequestArgs): Promise<IncomingMessage> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(args.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = args.body === undefined ? undefined : typeof args.body === 'string' ? args.body : JSON.stringify(args.body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#userAgent };
    if (body !== undefined) {
      headers['content-type'] = args.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const opts: RequestOptions = { method, agent: this.#agent, headers, signal: args.signal };
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, opts, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }

  async request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
    const res = await this.#open(method, path, args);
    const text = await readAll(res);
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return (text ? JSON.parse(text) : {}) as T;
    throw toApiError(text, code);
  }

  get<T>(r: ResourceRef, query?: Query): Promise<T> {
    return this.request('GET', resourcePath(r), { query });
  }
  create<T>(r: ResourceRef, body: unknown, query?: Query): Promise<T> {
    return this.request('POST', resourcePath(r), { body, query });
  }
  update<T>(r: ResourceRef, body: unknown, query?: Query): Promise<T> {
    return this.request('PUT', resourcePath(r), { body, query });
  }
  patch<T>(r: ResourceRef, body: unknown, type: PatchType = 'merge', query?: Query): Promise<T> {
    return this.request('PATCH', resourcePath(r), { body, contentType: PATCH_CONTENT_TYPES[type], query });
  }
  delete<T>(
    r: ResourceRef,
    options?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string },
  ): Promise<T> {
    return this.request('DELETE', resourcePath(r), options ? { body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options } } : {});
  }

  /** Opens a raw GET stream (logs); the caller consumes and ends it. */
  async stream(path: string, query: Query, signal?: AbortSignal): Promise<IncomingMessage> {
    const res = await this.#open('GET', path, { query, signal });
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return res;
    throw toApiError(await readAll(res), code);
  }

  /**
   * Watches a collection; calls onEvent for each event until the server ends
   * the stream, the signal aborts, or the stream stays idle too long
   * (`onOpen` once the server has taken the watch).
   */
  async watch<T>(r: ResourceRef, query: Query, onEvent: (e: WatchEvent<T>) => void, opts: { signal?: AbortSignal; onOpen?: () => void } = {}): Promise<void> {
    const { signal } = opts;
    const idle = new AbortController();
    const combined = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
    const res = await this.#open('GET', resourcePath(r), { query: { ...query, watch: true }, signal: combined });
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw toApiError(await readAll(res), code);
    opts.onOpen?.();
    let timer = setTimeout(() => idle.abort(), WATCH_IDLE_MS);
    let buf = '';
    try {
      for await (const chunk of res) {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), WATCH_IDLE_MS);
        buf += (chunk as Buffer).toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as WatchEvent<T>;
          if (ev.type === 'ERROR') {
            const s = ev.object as unknown as Partial<Status>;
            throw ApiError.fromStatus(s, s.code ?? 500);
          }
          onEvent(ev);
        }
      }
    } catch (err) {
      if (combined.aborted && !(err instanceof ApiError)) return;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

function toApiError(text: string, code: number): ApiError {
  try {
    const s = JSON.parse(text) as Partial<Status>;
    if (s.kind === 'Status') return ApiError.fromStatus(s, code);
  } catch {
    // not a Status: fall through
  }
  return ApiError.fromStatus({ message: text.trim() || `HTTP ${code}` }, code);
}
