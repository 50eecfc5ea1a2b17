import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, PodTemplateSpec, Toleration } from 'kubernetes-types/core/v1.js';
import {
  MEMORY_PRESSURE_TAINT,
  defineController,
  nodeMatchesPod,
  objectKey,
  primary,
  tolerates,
  watch,
  type Informer,
  type RunnableController,
} from '../../apimachinery/index.ts';
import { owned, type Controller, type ControllerContext } from './context.ts';
import { controllerRef, isControlledBy, isPodActive, isPodReady, podAvailability } from './controller-ref.ts';
import { REVISION_HASH_LABEL, syncRevisions } from './controller-revisions.ts';
import { scaledValue } from './deployment-rollout.ts';
import { createPodFromTemplate, deleteOwnedPod } from './pod-control.ts';
import { DAEMON_SETS, NODES, PODS } from './shared-informers.ts';

/** What Kubernetes adds to every DaemonSet pod, so daemons stay through node trouble and cordons. */
export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: MEMORY_PRESSURE_TAINT, operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** The DaemonSet's template with the daemon tolerations, pinned to one node through node affinity (the scheduler binds it). */
export function daemonPodTemplate(template: PodTemplateSpec, nodeName: string): PodTemplateSpec {
  const spec = structuredClone(template.spec ?? { containers: [] });
  const tolerations = [...(spec.tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS) if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push(t);
  spec.tolerations = tolerations;
  spec.affinity = {
    ...spec.affinity,
    nodeAffinity: {
      ...spec.affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] },
    },
  };
  return { ...template, spec };
}

/**
 * Whether a daemon of this template belongs on this node: its node selector
 * and affinity match and every NoExecute taint is tolerated; untolerated
 * NoSchedule taints keep a new daemon off but let a running one stay.
 */
export function shouldRunOn(template: PodTemplateSpec, node: Node): { start: boolean; stay: boolean } {
  if (!nodeMatchesPod(template, node)) return { start: false, stay: false };
  const tolerations = [...(template.spec?.tolerations ?? []), ...DAEMON_TOLERATIONS];
  const untolerated = (node.spec?.taints ?? []).filter((taint) => !tolerations.some((t) => tolerates(t, taint)));
  const stay = !untolerated.some((t) => t.effect === 'NoExecute');
  return { start: stay && !untolerated.some((t) => t.effect === 'NoSchedule'), stay };
}

/**
 * Runs one pod of each DaemonSet on every node it should run on (created
 * pinned to the node; the scheduler binds it), removes daemons from nodes
 * that no longer qualify and failed ones so they are recreated, rolls a new
 * template out node by node within maxUnavailable (or on delete only), and
 * reports the DaemonSet status counts.
 */
export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #sets: Informer<DaemonSet>;
  #nodes: Informer<Node>;
  #pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#sets = ctx.informers.for<DaemonSet>(DAEMON_SETS);
    this.#nodes = ctx.informers.for<Node>(NODES);
    this.#pods = ctx.informers.for<Pod>(PODS);
    // a node that comes, goes or changes its labels or taints may change where every set runs
    const everySet = (n: Node, old?: Node) =>
      !old || JSON.stringify([old.metadata?.labels, old.spec?.taints]) !== JSON.stringify([n.metadata?.labels, n.spec?.taints])
        ? this.#sets.list().map(objectKey)
        : undefined;
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      watches: [primary(this.#sets, ['add', 'update']), watch(this.#nodes, everySet), owned(this.#pods, 'DaemonSet')],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<void> {
    const ds = this.#sets.get(key);
    if (!ds || ds.metadata?.deletionTimestamp) return;
    const template = ds.spec?.template ?? {};
    const pods = this.#ctx.informers
      .ownerIndex<Pod>(PODS)
      .dependents(ds.metadata?.uid)
      .filter((p) => isControlledBy(p, ds));
    const revision = await syncRevisions(this.#ctx, ds, 'DaemonSet', new Set(pods.map((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] ?? '')));
    const byNode = new Map<string, Pod[]>();
    const pinned = (p: Pod) =>
      p.spec?.nodeName ??
      p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ??
      '';
    for (const p of pods) byNode.set(pinned(p), [...(byNode.get(pinned(p)) ?? []), p]);

    const wanted: string[] = [];
    for (const n of this.#nodes.list()) {
      const fit = shouldRunOn(template, n);
      const nodeName = n.metadata?.name ?? '';
      if (fit.start || (fit.stay && (byNode.get(nodeName) ?? []).some(isPodActive))) wanted.push(nodeName);
    }
    const wantedSet = new Set(wanted);
    const create: string[] = [];
    const remove: Pod[] = [];
    for (const nodeName of wanted) {
      const here = (byNode.get(nodeName) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
      remove.push(...here.filter((p) => p.status?.phase === 'Failed'));
      const live = here.filter((p) => p.status?.phase !== 'Failed');
      if (live.length === 0 && !(byNode.get(nodeName) ?? []).some((p) => p.metadata?.deletionTimestamp)) create.push(nodeName);
      remove.push(...live.slice(1));
    }
    for (const [nodeName, here] of byNode) if (!wantedSet.has(nodeName)) remove.push(...here.filter((p) => !p.metadata?.deletionTimestamp));

    // rolling update: old daemons go, at most maxUnavailable nodes without an available daemon at a time
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const strategy = ds.spec?.updateStrategy;
    if ((strategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = Math.max(scaledValue(strategy?.rollingUpdate?.maxUnavailable, wanted.length, false, '1'), 1);
      const daemonOf = (n: string) => (byNode.get(n) ?? []).find((p) => isPodActive(p));
      let unavailable = wanted.filter((n) => {
        const d = daemonOf(n);
        return !d || !podAvailability(d, minReady).available;
      }).length;
      for (const n of wanted) {
        const d = daemonOf(n);
        if (!d || d.metadata?.labels?.[REVISION_HASH_LABEL] === revision.hash) continue;
        const available = podAvailability(d, minReady).available;
        if (available && unavailable >= maxUnavailable) continue;
        remove.push(d);
        if (available) unavailable++;
      }
    }

    const ref = controllerRef(ds, 'apps/v1', 'DaemonSet');
    await Promise.all(
      create.map((nodeName) =>
        createPodFromTemplate(this.#ctx, ds, ref, daemonPodTemplate(template, nodeName), {
          generateName: `${ds.metadata?.name}-`,
          labels: { [REVISION_HASH_LABEL]: revision.hash },
        }),
      ),
    );
    await Promise.all([...new Set(remove)].map((p) => deleteOwnedPod(this.#ctx, ds, p)));
    await this.#updateStatus(ds, wanted, byNode, revision.hash);
  }

  async #updateStatus(ds: DaemonSet, wanted: string[], byNode: Map<string, Pod[]>, hash: string): Promise<void> {
    const wantedSet = new Set(wanted);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const onNode = (n: string) => (byNode.get(n) ?? []).filter((p) => p.spec?.nodeName === n && isPodActive(p));
    const scheduled = wanted.filter((n) => onNode(n).length > 0);
    const daemons = scheduled.map((n) => onNode(n)[0] as Pod);
    const available = daemons.filter((p) => podAvailability(p, minReady).available).length;
    const status: DaemonSetStatus = {
      currentNumberScheduled: scheduled.length,
      numberMisscheduled: [...byNode.keys()].filter((n) => !wantedSet.has(n) && onNode(n).length > 0).length,
      desiredNumberScheduled: wanted.length,
      numberReady: daemons.filter(isPodReady).length,
      observedGeneration: ds.metadata?.generation,
      updatedNumberScheduled: daemons.filter((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] === hash).length,
      numberAvailable: available,
      numberUnavailable: wanted.length - available,
    };
    const fields = Object.keys(status) as (keyof DaemonSetStatus)[];
    if (fields.every((k) => (ds.status?.[k] ?? 0) === (status[k] ?? 0))) return;
    await this.#ctx.client.update(
      { ...DAEMON_SETS, version: 'v1', namespace: ds.metadata?.namespace, name: ds.metadata?.name, subresource: 'status' },
      { ...ds, status: { ...ds.status, ...status } },
    );
  }
}
