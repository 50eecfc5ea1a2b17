import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import YAML from 'yaml';
import { MIRROR_POD_ANNOTATION, ApiError, type Informer, type Logger, type RestClient } from '../../apimachinery/index.ts';

export const CONFIG_SOURCE = 'kubernetes.io/config.source';
export const CONFIG_HASH = 'kubernetes.io/config.hash';
export const CONFIG_MIRROR = MIRROR_POD_ANNOTATION;

export const isMirrorPod = (p: Pod) => p.metadata?.annotations?.[CONFIG_MIRROR] !== undefined;

/**
 * A static pod from a manifest, as the kubelet makes it: named
 * `<name>-<node>`, bound to this node, its uid (and config hash) derived from
 * the manifest and the node, tolerating every NoExecute taint.
 */
export function staticPodFrom(text: string, file: string, nodeName: string): Pod {
  const doc = YAML.parse(text) as Pod | null;
  if (!doc || typeof doc !== 'object' || doc.kind !== 'Pod' || doc.apiVersion !== 'v1') throw new Error(`${file}: not a v1 Pod manifest`);
  if (!doc.metadata?.name) throw new Error(`${file}: metadata.name is required`);
  if (!doc.spec?.containers?.length) throw new Error(`${file}: spec.containers must name at least one container`);
  const hash = createHash('sha256').update(nodeName).update('\0').update(text).digest('hex').slice(0, 32);
  return {
    ...doc,
    metadata: {
      ...doc.metadata,
      name: `${doc.metadata.name}-${nodeName}`,
      namespace: doc.metadata.namespace ?? 'default',
      uid: hash,
      annotations: { ...doc.metadata.annotations, [CONFIG_SOURCE]: 'file', [CONFIG_HASH]: hash },
    },
    spec: { ...doc.spec, nodeName, tolerations: [...(doc.spec.tolerations ?? []), { operator: 'Exists', effect: 'NoExecute' }] },
    status: { phase: 'Pending' },
  };
}

/** The mirror pod that shows a static pod in the API: same name and spec, the mirror annotation, owned by the Node. */
export function mirrorPodOf(pod: Pod, node: { name: string; uid: string }): Pod {
  const { uid: _uid, ...metadata } = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      annotations: { ...metadata.annotations, [CONFIG_MIRROR]: pod.metadata?.uid ?? '' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: pod.spec,
  };
}

export interface StaticPodsChange {
  added: Pod[];
  removed: Pod[];
}

/**
 * The static pods of a manifest directory: read at start, then on every
 * change in the directory and every `fileCheckFrequency`. A manifest that
 * changes is a new pod (new hash): the old one stops, the new one starts. A
 * manifest that does not parse is reported and left out.
 */
export class StaticPods {
  #dir: string;
  #nodeName: string;
  #log: Logger;
  #pods = new Map<string, Pod>();
  #bad = new Set<string>();
  #changed: (c: StaticPodsChange) => void;

  constructor(o: { dir: string; nodeName: string; log: Logger; changed: (c: StaticPodsChange) => void }) {
    this.#dir = o.dir;
    this.#nodeName = o.nodeName;
    this.#log = o.log;
    this.#changed = o.changed;
  }

  list(): Pod[] {
    return [...this.#pods.values()];
  }

  has(uid: string): boolean {
    return this.#pods.has(uid);
  }

  async scan(): Promise<void> {
    const found = new Map<string, Pod>();
    for (const f of (await readdir(this.#dir).catch(() => [] as string[])).sort()) {
      if (f.startsWith('.') || !/\.(ya?ml|json)$/.test(f)) continue;
      try {
        const pod = staticPodFrom(await readFile(join(this.#dir, f), 'utf8'), f, this.#nodeName);
        found.set(pod.metadata?.uid ?? '', pod);
        this.#bad.delete(f);
      } catch (err) {
        if (!this.#bad.has(f)) this.#log.warn({ file: f, err: (err as Error).message }, 'static pod manifest left out');
        this.#bad.add(f);
      }
    }
    const added = [...found].filter(([uid]) => !this.#pods.has(uid)).map(([, p]) => p);
    const removed = [...this.#pods].filter(([uid]) => !found.has(uid)).map(([, p]) => p);
    this.#pods = found;
    if (added.length || removed.length) this.#changed({ added, removed });
  }

  async run(signal: AbortSignal, everyMs: number): Promise<void> {
    await this.scan();
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.#dir, () => void this.scan());
    } catch {
      // no directory yet: the periodic scan finds it when it appears
    }
    const timer = setInterval(() => void this.scan(), everyMs);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        watcher?.close();
      },
      { once: true },
    );
  }
}

/**
 * Keeps a mirror pod in the API for each static pod (created when missing,
 * replaced when it mirrors an older manifest, deleted when its static pod is
 * gone), as the kubelet's mirror client does.
 */
export async function syncMirrorPods(
  client: RestClient,
  node: { name: string; uid: string },
  statics: Pod[],
  apiPods: Informer<Pod>,
  log: Logger,
): Promise<void> {
  const wanted = new Map(statics.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
  for (const [key, pod] of wanted) {
    const mirror = apiPods.get(key);
    if (mirror && mirror.metadata?.annotations?.[CONFIG_MIRROR] === pod.metadata?.uid && !mirror.metadata?.deletionTimestamp) continue;
    const ref = { resource: 'pods', namespace: pod.metadata?.namespace };
    try {
      if (mirror && isMirrorPod(mirror))
        await client.delete({ ...ref, name: mirror.metadata?.name }, { gracePeriodSeconds: 0, preconditions: { uid: mirror.metadata?.uid } });
      if (mirror && !isMirrorPod(mirror)) {
        log.warn({ pod: key }, "a pod of the static pod's name exists in the API and is not its mirror; no mirror made");
        continue;
      }
      await client.create(ref, mirrorPodOf(pod, node));
      log.info({ pod: key }, 'mirror pod created');
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) throw err;
    }
  }
  for (const p of apiPods.list()) {
    if (!isMirrorPod(p) || p.spec?.nodeName !== node.name || p.metadata?.deletionTimestamp) continue;
    if (wanted.get(`${p.metadata?.namespace}/${p.metadata?.name}`)?.metadata?.uid === p.metadata?.annotations?.[CONFIG_MIRROR]) continue;
    await client
      .delete(
        { resource: 'pods', namespace: p.metadata?.namespace, name: p.metadata?.name },
        { gracePeriodSeconds: 0, preconditions: { uid: p.metadata?.uid } },
      )
      // gone already, or replaced (the uid precondition): nothing left to delete; a failure is retried at the next mirror sync
      .catch(() => undefined);
    log.info({ pod: p.metadata?.name }, 'mirror pod of a removed static pod deleted');
  }
}
