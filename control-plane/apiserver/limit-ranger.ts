import type { Container, LimitRange, LimitRangeItem, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, containersTotal, formatQuantity, parseQuantity } from '../../apimachinery/index.ts';
import { defaultRequestsFromLimits } from './resources/pods.ts';

// The LimitRanger admission plugin: a namespace's LimitRanges fill in the
// containers' default requests and limits of a new pod (and say so in an
// annotation), then hold containers, pods and claims to their min, max and
// maxLimitRequestRatio, refusing with 403 and Kubernetes' words.

type Resources = Record<string, string>;
const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

const containersOf = (pod: Pod): Container[] => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
const itemsOf = (ranges: LimitRange[], type: string): LimitRangeItem[] => ranges.flatMap((r) => (r.spec?.limits ?? []).filter((i) => i.type === type));

/** Fills in what the Container items default; returns what was set, for the annotation. */
function applyDefaults(pod: Pod, items: LimitRangeItem[]): string[] {
  const said: string[] = [];
  for (const c of containersOf(pod)) {
    const set: { request: string[]; limit: string[] } = { request: [], limit: [] };
    for (const item of items) {
      for (const [kind, from, names] of [
        ['limits', item.default, set.limit],
        ['requests', item.defaultRequest, set.request],
      ] as const) {
        for (const [resource, value] of Object.entries(from ?? {})) {
          c.resources ??= {};
          const target = (c.resources[kind] ??= {}) as Resources;
          if (target[resource] !== undefined) continue;
          target[resource] = value;
          names.push(resource);
        }
      }
    }
    if (set.request.length) said.push(`${set.request.join(', ')} request for ${containerKind(pod, c)} ${c.name}`);
    if (set.limit.length) said.push(`${set.limit.join(', ')} limit for ${containerKind(pod, c)} ${c.name}`);
  }
  return said;
}

const containerKind = (pod: Pod, c: Container) => ((pod.spec?.initContainers ?? []).includes(c) ? 'init container' : 'container');

interface Observed {
  /** Container, Pod or PersistentVolumeClaim, as the messages name it */
  type: string;
  requests: Resources;
  limits: Resources;
}

const q = (v: string | undefined) => (v === undefined ? undefined : parseQuantity(v));

/** Each error worded as LimitRanger words it: the request (and any limit) at least min. */
function minErrors(o: Observed, min: Resources | undefined): string[] {
  return Object.entries(min ?? {}).flatMap(([resource, enforced]) => {
    const [req, lim] = [o.requests[resource], o.limits[resource]];
    const head = `minimum ${resource} usage per ${o.type} is ${enforced}`;
    if (req === undefined) return [`${head}.  No request is specified`];
    if ((q(req) as number) < parseQuantity(enforced)) return [`${head}, but request is ${req}`];
    if (lim !== undefined && (q(lim) as number) < parseQuantity(enforced)) return [`${head}, but limit is ${lim}`];
    return [];
  });
}

/** The limit (and any request) at most max. */
function maxErrors(o: Observed, max: Resources | undefined): string[] {
  return Object.entries(max ?? {}).flatMap(([resource, enforced]) => {
    const [req, lim] = [o.requests[resource], o.limits[resource]];
    const head = `maximum ${resource} usage per ${o.type} is ${enforced}`;
    if (lim === undefined) return [`${head}.  No limit is specified`];
    if ((q(lim) as number) > parseQuantity(enforced)) return [`${head}, but limit is ${lim}`];
    if (req !== undefined && (q(req) as number) > parseQuantity(enforced)) return [`${head}, but request is ${req}`];
    return [];
  });
}

/** A claim has only a request: its max holds the request. */
function maxRequestErrors(o: Observed, max: Resources | undefined): string[] {
  return Object.entries(max ?? {}).flatMap(([resource, enforced]) => {
    const req = o.requests[resource];
    const head = `maximum ${resource} usage per ${o.type} is ${enforced}`;
    if (req === undefined) return [`${head}.  No request is specified`];
    return (q(req) as number) > parseQuantity(enforced) ? [`${head}, but request is ${req}`] : [];
  });
}

/** The limit no more than maxLimitRequestRatio times the request. */
function ratioErrors(o: Observed, ratios: Resources | undefined): string[] {
  return Object.entries(ratios ?? {}).flatMap(([resource, enforced]) => {
    const req = q(o.requests[resource]) ?? 0;
    const lim = q(o.limits[resource]) ?? 0;
    const head = `${resource} max limit to request ratio per ${o.type} is ${enforced}`;
    if (req === 0) return [`${head}, but no request is specified or request is 0`];
    if (lim === 0) return [`${head}, but no limit is specified or limit is 0`];
    return lim / req > parseQuantity(enforced) + 1e-9 ? [`${head}, but provided ratio is ${(lim / req).toFixed(6)}`] : [];
  });
}

const constrain = (o: Observed, item: LimitRangeItem) => [...minErrors(o, item.min), ...maxErrors(o, item.max), ...ratioErrors(o, item.maxLimitRequestRatio)];

/** A pod's requests or limits as one: its containers' sum, or its largest init container where that is more. */
function podTotal(pod: Pod, kind: 'requests' | 'limits'): Resources {
  const named = new Set(containersOf(pod).flatMap((c) => Object.keys(c.resources?.[kind] ?? {})));
  return Object.fromEntries([...named].map((r) => [r, formatTotal(r, containersTotal(pod, kind, r))]));
}

/** A summed quantity written as Kubernetes would: millicores where fractional, else the largest exact suffix. */
function formatTotal(resource: string, v: number): string {
  if (!Number.isInteger(v)) return `${Math.round(v * 1000)}m`;
  return formatQuantity(v, resource === 'cpu' ? 'DecimalSI' : 'BinarySI');
}

function refuse(resource: string, name: string, errs: string[]): never {
  throw new ApiError('Forbidden', `${resource} "${name}" is forbidden: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}`, { name, kind: resource });
}

/** LimitRanger on a new pod: defaults filled in (and annotated), then every constraint checked. */
export function admitPodLimits(pod: Pod, ranges: LimitRange[]): void {
  if (!ranges.length) return;
  const said = applyDefaults(pod, itemsOf(ranges, 'Container'));
  if (said.length) {
    pod.metadata ??= {};
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${said.join('; ')}` };
  }
  for (const c of containersOf(pod)) defaultRequestsFromLimits(c);
  const errs: string[] = [];
  for (const item of itemsOf(ranges, 'Container'))
    for (const c of containersOf(pod))
      errs.push(
        ...constrain({ type: 'Container', requests: (c.resources?.requests ?? {}) as Resources, limits: (c.resources?.limits ?? {}) as Resources }, item),
      );
  for (const item of itemsOf(ranges, 'Pod'))
    errs.push(...constrain({ type: 'Pod', requests: podTotal(pod, 'requests'), limits: podTotal(pod, 'limits') }, item));
  if (errs.length) refuse('pods', pod.metadata?.name ?? pod.metadata?.generateName ?? '', errs);
}

/** LimitRanger on a claim: its storage request within the PersistentVolumeClaim items' min and max. */
export function admitClaimLimits(claim: PersistentVolumeClaim, ranges: LimitRange[]): void {
  const observed = { type: 'PersistentVolumeClaim', requests: (claim.spec?.resources?.requests ?? {}) as Resources, limits: {} };
  const errs = itemsOf(ranges, 'PersistentVolumeClaim').flatMap((item) => [...minErrors(observed, item.min), ...maxRequestErrors(observed, item.max)]);
  if (errs.length) refuse('persistentvolumeclaims', claim.metadata?.name ?? '', errs);
}
