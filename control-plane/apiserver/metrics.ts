import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { queryBool, serveRegistry } from '../../apimachinery/index.ts';
import { parseResourcePath } from '../api/index.ts';
import type { WebhookCall } from './admission-webhooks/index.ts';
import type { AdmissionTiming } from './rest-context.ts';

// The API server's request metrics, with kube-apiserver's names, labels and
// buckets, in the process's one registry (served at /metrics). Labels come
// from what the server serves only: a path that names no served resource is
// counted without one, so no client can grow the label sets.

/** apiserver_request_duration_seconds' buckets, as kube-apiserver's. */
const DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;
/** The admission histograms' buckets, as kube-apiserver's (webhooks' reach further: they are calls out). */
const ADMISSION_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5];
const WEBHOOK_BUCKETS = [...ADMISSION_BUCKETS, 10, 25];
const LONG_RUNNING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

type RequestLabels = Record<(typeof REQUEST_LABELS)[number], string>;

/** The dry_run label as kube-apiserver cleans it: "" when not asked, "All", or "invalid" for any other value (which a client could mint freely). */
function dryRunLabel(q: URLSearchParams): string {
  const values = q.getAll('dryRun');
  if (!values.length) return '';
  return values.every((v) => v === 'All') ? 'All' : 'invalid';
}

export class ApiServerMetrics {
  readonly registry: Registry;
  readonly #requests: Counter<(typeof REQUEST_LABELS)[number] | 'code'>;
  readonly #durations: Histogram<(typeof REQUEST_LABELS)[number]>;
  readonly #inflight: Gauge<'request_kind'>;
  readonly #longRunning: Gauge<(typeof REQUEST_LABELS)[number]>;
  readonly #watchEvents: Counter<'group' | 'version' | 'kind'>;
  readonly #admissionSteps: Histogram<'type' | 'operation' | 'rejected'>;
  readonly #admissionPlugins: Histogram<'name' | 'type' | 'operation' | 'rejected'>;
  readonly #webhookDurations: Histogram<'name' | 'type' | 'operation' | 'rejected'>;
  readonly #webhookRequests: Counter<'name' | 'type' | 'operation' | 'code' | 'rejected'>;
  readonly #webhookRejections: Counter<'name' | 'type' | 'operation' | 'error_type' | 'rejection_code'>;
  readonly #webhookFailOpen: Counter<'name' | 'type'>;
  /** whether a group/resource is served (custom resources come and go) */
  readonly #served: (group: string, resource: string) => boolean;

  /** `storedObjects`: how many objects each resource (pods, deployments.apps) holds now, read at each scrape */
  constructor(o: { registry: Registry; served: (group: string, resource: string) => boolean; storedObjects: () => Map<string, number> }) {
    const { registry } = o;
    this.registry = registry;
    this.#served = o.served;
    const registers = [registry];
    this.#watchEvents = new Counter({
      name: 'apiserver_watch_events_total',
      help: 'Events sent to watchers, by group, version and kind.',
      labelNames: ['group', 'version', 'kind'],
      registers,
    });
    this.#admissionSteps = new Histogram({
      name: 'apiserver_admission_step_admission_duration_seconds',
      help: 'How long each admission step took: the mutating plugins and webhooks (admit), the validating ones (validate), by operation and whether it refused.',
      labelNames: ['type', 'operation', 'rejected'],
      buckets: ADMISSION_BUCKETS,
      registers,
    });
    this.#admissionPlugins = new Histogram({
      name: 'apiserver_admission_controller_admission_duration_seconds',
      help: 'How long each admission plugin took where it had something to do, by plugin name, step type (admit or validate), operation and whether it refused.',
      labelNames: ['name', 'type', 'operation', 'rejected'],
      buckets: ADMISSION_BUCKETS,
      registers,
    });
    // webhook names come from the cluster's webhook configurations, which only their editors write
    this.#webhookDurations = new Histogram({
      name: 'apiserver_admission_webhook_admission_duration_seconds',
      help: 'How long each admission webhook call took, by webhook name, type (admit or validate), operation and whether it refused.',
      labelNames: ['name', 'type', 'operation', 'rejected'],
      buckets: WEBHOOK_BUCKETS,
      registers,
    });
    this.#webhookRequests = new Counter({
      name: 'apiserver_admission_webhook_request_total',
      help: "Admission webhook calls, by webhook name, type, operation, the webhook's HTTP code (0: none) and whether it refused.",
      labelNames: ['name', 'type', 'operation', 'code', 'rejected'],
      registers,
    });
    this.#webhookRejections = new Counter({
      name: 'apiserver_admission_webhook_rejection_count',
      help: 'Writes admission webhooks refused, by webhook name, type, operation, error type (no_error: the webhook said no; calling_webhook_error) and the code refused with.',
      labelNames: ['name', 'type', 'operation', 'error_type', 'rejection_code'],
      registers,
    });
    this.#webhookFailOpen = new Counter({
      name: 'apiserver_admission_webhook_fail_open_count',
      help: 'Admission webhook calls that failed and were let through by failurePolicy Ignore, by webhook name and type.',
      labelNames: ['name', 'type'],
      registers,
    });
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Objects stored, by resource, as the watch cache holds them at the scrape.',
      labelNames: ['resource'],
      registers,
      collect() {
        this.reset();
        for (const [resource, n] of o.storedObjects()) this.set({ resource }, n);
      },
    });
    this.#requests = new Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      labelNames: [...REQUEST_LABELS, 'code'],
      registers,
    });
    this.#durations = new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      labelNames: [...REQUEST_LABELS],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#inflight = new Gauge({
      name: 'apiserver_current_inflight_requests',
      help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
      labelNames: ['request_kind'],
      registers,
    });
    this.#longRunning = new Gauge({
      name: 'apiserver_longrunning_requests',
      help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
      labelNames: [...REQUEST_LABELS],
      registers,
    });
  }

  /** Counts a request from its start; the returned function ends it with its response's code. */
  begin(req: IncomingMessage, url: URL): (code: number) => void {
    const started = performance.now();
    const labels = this.#labels(req, url);
    const longRunning = labels.verb === 'WATCH' || labels.verb === 'CONNECT';
    const kind = ['GET', 'LIST', 'WATCH'].includes(labels.verb) ? 'readOnly' : 'mutating';
    if (longRunning) this.#longRunning.inc(labels);
    else this.#inflight.inc({ request_kind: kind });
    return (code) => {
      if (longRunning) this.#longRunning.dec(labels);
      else {
        this.#inflight.dec({ request_kind: kind });
        this.#durations.observe(labels, (performance.now() - started) / 1000);
      }
      this.#requests.inc({ ...labels, code: String(code) });
    };
  }

  #labels(req: IncomingMessage, url: URL): RequestLabels {
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const dryRun = dryRunLabel(q);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    let info: ReturnType<typeof parseResourcePath> = null;
    try {
      info = parseResourcePath(path);
    } catch {
      // a malformed path is counted as no resource
    }
    if (!info || !this.#served(info.group, info.resource)) {
      return { verb: method, dry_run: dryRun, group: '', version: '', resource: '', subresource: '', scope: '', component: 'apiserver' };
    }
    const subresource = info.subresource ?? '';
    let verb = method;
    if (method === 'GET') verb = queryBool(q.get('watch')) ? 'WATCH' : info.name ? 'GET' : 'LIST';
    if (LONG_RUNNING_SUBRESOURCES.has(subresource) && (subresource !== 'log' || queryBool(q.get('follow')))) verb = 'CONNECT';
    if (method === 'PATCH' && (req.headers['content-type'] ?? '').startsWith('application/apply-patch')) verb = 'APPLY';
    const scope = info.name ? 'resource' : info.namespace ? 'namespace' : 'cluster';
    return { verb, dry_run: dryRun, group: info.group, version: info.version, resource: info.resource, subresource, scope, component: 'apiserver' };
  }

  admissionStep(s: AdmissionTiming): void {
    this.#admissionSteps.observe({ type: s.type, operation: s.operation, rejected: String(s.rejected) }, s.seconds);
  }

  admissionPlugin(p: AdmissionTiming & { name: string }): void {
    this.#admissionPlugins.observe({ name: p.name, type: p.type, operation: p.operation, rejected: String(p.rejected) }, p.seconds);
  }

  webhookCalled(c: WebhookCall): void {
    const { name, type, operation } = c;
    const rejected = String(c.rejected);
    this.#webhookDurations.observe({ name, type, operation, rejected }, c.seconds);
    this.#webhookRequests.inc({ name, type, operation, code: String(c.code), rejected });
    if (c.rejection) this.#webhookRejections.inc({ name, type, operation, error_type: c.rejection.errorType, rejection_code: String(c.rejection.code) });
    if (c.failedOpen) this.#webhookFailOpen.inc({ name, type });
  }

  watchEventSent(kind: { group: string; version: string; kind: string }): void {
    this.#watchEvents.inc({ group: kind.group, version: kind.version, kind: kind.kind });
  }

  /** Serves the registry, in the text format (0.0.4) or OpenMetrics as the scraper prefers. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return serveRegistry(this.registry, req, res);
  }
}
