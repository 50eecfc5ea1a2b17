import type { Logger } from './logging.ts';
import type { RestClient } from './rest-client.ts';
import { rfc3339 } from './time.ts';

interface Involved {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
}

const MAX_REMEMBERED = 4096;

/**
 * Records core/v1 Events about objects, as `kubectl describe` shows them.
 * A repeat of the same (object, type, reason, message) bumps the count of
 * the existing Event instead of creating another. Writing never blocks the
 * caller; failures are logged.
 */
export class EventRecorder {
  #client: RestClient;
  #source: { component: string; host?: string };
  #log: Logger;
  #seen = new Map<string, Seen>();
  #chain: Promise<void> = Promise.resolve();

  constructor(client: RestClient, source: { component: string; host?: string }, log: Logger) {
    this.#client = client;
    this.#source = source;
    this.#log = log;
  }

  event(obj: Involved, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    this.#chain = this.#chain
      .then(() => this.#write(obj, type, reason, message, fieldPath))
      .catch((err: Error) => {
        this.#log.warn({ err: err.message, reason }, 'could not record event');
      });
  }

  /** Resolves when every event recorded so far has been written. */
  flush(): Promise<void> {
    return this.#chain;
  }

  async #write(obj: Involved, type: string, reason: string, message: string, fieldPath?: string): Promise<void> {
    const m = obj.metadata ?? {};
    const namespace = m.namespace || 'default';
    const key = `${m.uid}|${fieldPath ?? ''}|${type}|${reason}|${message}`;
    const ts = rfc3339();
    const seen = this.#seen.get(key);
    if (seen) {
      seen.count++;
      try {
        await this.#client.patch({ resource: 'events', namespace: seen.namespace, name: seen.name }, { count: seen.count, lastTimestamp: ts }, 'merge');
        return;
      } catch {
        this.#seen.delete(key); // the event expired or was deleted: create a new one
      }
    }
    const name = `${m.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
    await this.#client.create(
      { resource: 'events', namespace },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion ?? 'v1',
          kind: obj.kind,
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
          ...(fieldPath ? { fieldPath } : {}),
        },
        reason,
        message,
        type,
        source: this.#source,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        reportingComponent: this.#source.component,
        reportingInstance: this.#source.host ?? '',
      },
    );
    if (this.#seen.size >= MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value as string);
    this.#seen.set(key, { name, namespace, count: 1, first: ts });
  }
}
