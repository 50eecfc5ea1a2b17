import type { ServerResponse } from 'node:http';
import type { Registry, ListOptions, WatchOutput } from './registry.ts';
import { apiVersionOf, type Obj } from './resource-info.ts';
import { onResponseEnd, writeIfOpen, type ApiError, type Logger } from '../../apimachinery/index.ts';
import { ANY, LATEST } from './list-read.ts';
import { sharedJson } from './shared-json.ts';

export interface WatchRequest {
  registry: Registry;
  opts: ListOptions;
  /** "" or "0": start with ADDED events for what exists now */
  resourceVersion: string;
  timeoutSeconds: number;
  bookmarks: boolean;
  /** a streaming list (sendInitialEvents): ADDED for what exists, then a bookmark marking the end of them */
  sendInitialEvents: boolean;
  /** renders each event's object (a Table for `kubectl get -w`) */
  render: (obj: Obj) => unknown;
  /** how often a watch that asked for bookmarks gets one (kube-apiserver: about a minute) */
  bookmarkIntervalMs: number;
  /** counts the watches being served */
  tally: WatchTally;
  log: Logger;
}

/** The number of watches a server is serving now (kube-apiserver's apiserver_longrunning_requests for watches), and who counts the events they send. */
export interface WatchTally {
  open: number;
  /** an event (not a bookmark) went to a watcher of this kind */
  sent?(kind: { group: string; version: string; kind: string }): void;
}

/**
 * Serves one watch as newline-delimited JSON events until the timeout, the
 * client going away, or the server closing. Each event is written as soon as
 * storage reports it. Whatever ends the watch stops its timers and listeners
 * at once; a storage event or bookmark that arrives later is dropped, never
 * written to the ended response.
 */
export async function serveWatch(w: WatchRequest, res: ServerResponse, closing: AbortSignal): Promise<void> {
  w.tally.open++;
  try {
    await watchUntilEnd(w, res, closing);
  } finally {
    w.tally.open--;
  }
}

async function watchUntilEnd(w: WatchRequest, res: ServerResponse, closing: AbortSignal): Promise<void> {
  const { registry, opts } = w;
  let lastRv = w.resourceVersion;
  const send = (e: WatchOutput | { type: 'BOOKMARK'; object: unknown }) => {
    if (e.type === 'BOOKMARK') return void writeIfOpen(res, `${JSON.stringify(e)}\n`);
    lastRv = e.object.metadata.resourceVersion ?? lastRv;
    const rendered = w.render(e.object);
    const json = rendered === e.object ? sharedJson(e.object) : JSON.stringify(rendered);
    writeIfOpen(res, `{"type":"${e.type}","object":${json}}\n`);
    w.tally.sent?.(registry.info);
  };
  let from = Number(w.resourceVersion);
  const initial: Obj[] = [];
  if (w.sendInitialEvents || !w.resourceVersion || w.resourceVersion === '0') {
    // "0": whatever state is at hand (the watch cache's), as for a list
    const list = await registry.list({ ...opts, limit: undefined, continue: undefined, read: w.resourceVersion === '0' ? ANY : LATEST });
    initial.push(...list.items);
    from = Number(list.resourceVersion);
    lastRv = list.resourceVersion;
  }
  // subscribe before writing headers: a compacted revision must still answer 410 as a plain error
  const pending: WatchOutput[] = [];
  let live = false;
  let ended: ApiError | undefined;
  let end = () => {};
  const watch = await registry.watch(
    from,
    opts,
    (e) => (live ? send(e) : pending.push(e)),
    (err) => {
      ended = err;
      end();
    },
  );
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const bookmarkObject = (annotations?: Record<string, string>) => ({
    kind: registry.info.kind,
    apiVersion: apiVersionOf(registry.info),
    metadata: { resourceVersion: lastRv, ...(annotations ? { annotations } : {}) },
  });
  // a periodic bookmark moves the client past revisions it had no events for, so
  // its next watch still starts inside the history compaction keeps
  const progress = async () => {
    const rv = await watch.progress();
    if (rv > Number(lastRv)) lastRv = String(rv);
    send({ type: 'BOOKMARK', object: bookmarkObject() });
  };
  for (const obj of initial) send({ type: 'ADDED', object: obj });
  if (w.sendInitialEvents) send({ type: 'BOOKMARK', object: bookmarkObject({ 'k8s.io/initial-events-end': 'true' }) });
  for (const e of pending) send(e);
  live = true;
  await new Promise<void>((resolve) => {
    const timeout = setTimeout(() => done(), w.timeoutSeconds * 1000);
    const bookmark = w.bookmarks
      ? setInterval(() => void progress().catch((err: Error) => w.log.debug({ err: err.message }, 'watch bookmark skipped')), w.bookmarkIntervalMs)
      : undefined;
    const done = () => {
      clearTimeout(timeout);
      if (bookmark) clearInterval(bookmark);
      stopListening();
      end = () => {};
      resolve();
    };
    const stopListening = onResponseEnd(res, closing, done);
    end = done;
    if (ended) done();
  });
  watch.stop();
  // the client relists on this, as after any 410
  if (ended) writeIfOpen(res, `${JSON.stringify({ type: 'ERROR', object: ended.toStatus() })}\n`);
  if (!res.writableEnded) res.end();
}
