import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Informer, Logger, RestClient } from '../../apimachinery/index.ts';
import { CONFIG_MIRROR, StaticPods, isMirrorPod, syncMirrorPods } from './static-pods.ts';

/** Where the pods to run go: the pod workers. */
export interface PodSink {
  update(pod: Pod): void;
  remove(uid: string, pod?: Pod): void;
  /** a static pod's mirror appeared: its status has a new home, send it again */
  mirrorSeen(uid: string): void;
}

/**
 * The pods this node should run, and the one place that knows where they
 * come from: those the API server binds to the node, and those its manifest
 * directory names (static pods), whose mirror pods it keeps in the API.
 * Mirror pods are shown, never run.
 */
export class PodManager {
  readonly #api: Informer<Pod>;
  readonly #client: RestClient;
  readonly #log: Logger;
  #statics: StaticPods | undefined;
  #node: { name: string; uid: string } | undefined;
  /** mirror syncs run one after another */
  #mirrors: Promise<void> = Promise.resolve();

  /** `api`: the informer of pods bound to this node */
  constructor(api: Informer<Pod>, deps: { client: RestClient; log: Logger }) {
    this.#api = api;
    this.#client = deps.client;
    this.#log = deps.log;
  }

  /** Hands every pod to run (and every one to stop) to `sink` from now on. */
  feed(sink: PodSink): void {
    this.#api.addHandlers({
      onAdd: (p) => (isMirrorPod(p) ? this.#mirrorAdded(p, sink) : sink.update(p)),
      onUpdate: (_old, p) => (isMirrorPod(p) ? undefined : sink.update(p)),
      onDelete: (p) => (isMirrorPod(p) ? this.syncMirrors() : sink.remove(p.metadata?.uid ?? '', p)),
    });
  }

  #mirrorAdded(mirror: Pod, sink: PodSink): void {
    const uid = mirror.metadata?.annotations?.[CONFIG_MIRROR] ?? '';
    if (this.#statics?.has(uid)) sink.mirrorSeen(uid);
  }

  /**
   * Reads the manifest directory now and follows it (on change and every
   * `everyMs`), handing static pods to `sink` and keeping their mirrors.
   */
  async runStatic(o: { dir: string; node: { name: string; uid: string }; sink: PodSink; everyMs: number; signal: AbortSignal }): Promise<void> {
    this.#node = o.node;
    this.#statics = new StaticPods({
      dir: o.dir,
      nodeName: o.node.name,
      log: this.#log.child({ component: 'static-pods' }),
      changed: ({ added, removed }) => {
        for (const p of removed) o.sink.remove(p.metadata?.uid ?? '', p);
        for (const p of added) o.sink.update(p);
        this.syncMirrors();
      },
    });
    await this.#statics.run(o.signal, o.everyMs);
  }

  /** Brings the mirror pods in the API in line with the static pods (queued behind any sync under way). */
  syncMirrors(): void {
    const node = this.#node;
    if (!node) return;
    this.#mirrors = this.#mirrors
      .then(() => syncMirrorPods(this.#client, node, this.#statics?.list() ?? [], this.#api, this.#log))
      .catch((err: Error) => this.#log.warn({ err: err.message }, 'mirror pod sync failed'));
  }

  /** The uid a pod's status is written to in the API: its own, its mirror's for a static pod, or none while it has no mirror. */
  statusUid(e: { namespace: string; name: string; uid: string }): string | null {
    if (!this.#statics?.has(e.uid)) return e.uid;
    const mirror = this.#api.get(`${e.namespace}/${e.name}`);
    return mirror?.metadata?.annotations?.[CONFIG_MIRROR] === e.uid ? (mirror.metadata.uid ?? null) : null;
  }

  /** The pod the node runs under a name: a mirror pod's static pod, else the API's, else a static pod. */
  byName(namespace: string, name: string): Pod | undefined {
    const p = this.#api.get(`${namespace}/${name}`);
    const statics = this.#statics?.list() ?? [];
    if (p && isMirrorPod(p)) return statics.find((s) => s.metadata?.uid === p.metadata?.annotations?.[CONFIG_MIRROR]) ?? p;
    return p ?? statics.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
  }

  /** Every pod the node should run: the API's (mirrors aside) and the static ones. */
  desired(): Pod[] {
    return [...this.#api.list().filter((p) => !isMirrorPod(p)), ...(this.#statics?.list() ?? [])];
  }
}
