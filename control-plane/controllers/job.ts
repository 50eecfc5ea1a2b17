import type { Job, JobCondition, JobStatus, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  backoffDelay,
  defineController,
  fromObjectSelector,
  watch,
  primary,
  requeueAfter,
  rfc3339,
  type Informer,
  type ReconcileAction,
  type RunnableController,
} from '../../apimachinery/index.ts';
import { owned, type Controller, type ControllerContext } from './context.ts';
import { claimPods, controllerOf, controllerRef, isPodReady, ownersSelecting } from './controller-ref.ts';
import type { OwnerIndex } from './owner-index.ts';
import { createPodFromTemplate, deleteOwnedPod } from './pod-control.ts';
import { JOBS, PODS } from './shared-informers.ts';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** Back-off before replacing failed pods: 10 s, doubling, at most 6 minutes. */
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 6 * 60_000;

const phaseOf = (p: Pod) => p.status?.phase;
const isTerminal = (p: Pod) => phaseOf(p) === 'Succeeded' || phaseOf(p) === 'Failed';
const indexOf = (p: Pod) => Number(p.metadata?.annotations?.[COMPLETION_INDEX] ?? p.metadata?.labels?.[COMPLETION_INDEX] ?? -1);

/** The condition a Job ends with, if it has ended. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** Sorted indexes as Kubernetes writes completedIndexes: "0-2,5,7-8". */
export function indexRanges(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The pod failure policy rule a failed pod matches, as kube words a FailJob match. */
export function podFailureVerdict(rules: PodFailurePolicyRule[], pod: Pod): { action: string; message: string } | undefined {
  const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  for (const [i, rule] of rules.entries()) {
    const codes = rule.onExitCodes;
    if (codes) {
      for (const c of pod.status?.containerStatuses ?? []) {
        if (codes.containerName && codes.containerName !== c.name) continue;
        const code = c.state?.terminated?.exitCode ?? c.lastState?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        if (codes.operator === 'In' ? codes.values.includes(code) : !codes.values.includes(code)) {
          return {
            action: rule.action,
            message: `Container ${c.name} for pod ${name} failed with exit code ${code} matching ${rule.action} rule at index ${i}`,
          };
        }
      }
    }
    for (const pattern of rule.onPodConditions ?? []) {
      if (pod.status?.conditions?.some((c) => c.type === pattern.type && c.status === (pattern.status ?? 'True'))) {
        return { action: rule.action, message: `Pod ${name} has condition ${pattern.type} matching ${rule.action} rule at index ${i}` };
      }
    }
  }
  return undefined;
}

/** When the last failed pod finished, for the replacement back-off. */
function lastFailureAt(failed: Pod[]): number {
  let last = 0;
  for (const p of failed) {
    for (const c of p.status?.containerStatuses ?? []) last = Math.max(last, Date.parse(c.state?.terminated?.finishedAt ?? '') || 0);
  }
  return last || Date.now();
}

interface Outcome {
  type: 'Complete' | 'Failed';
  reason: string;
  message: string;
}

/**
 * Runs Jobs to completion: keeps up to `parallelism` pods running until
 * `completions` have succeeded (one per index for Indexed Jobs), replaces
 * failed pods after an exponential back-off, fails the Job past backoffLimit
 * or activeDeadlineSeconds, or at once on a pod failure policy FailJob rule
 * (its Ignore rules keep failures off the count), honours suspend, and
 * deletes finished Jobs after ttlSecondsAfterFinished. Counts come from the
 * Job's pods as they stand.
 */
export class JobController implements Controller {
  readonly name = 'job';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #jobs: Informer<Job>;
  #pods: Informer<Pod>;
  #podsByOwner: OwnerIndex<Pod>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#jobs = ctx.informers.for<Job>(JOBS);
    this.#pods = ctx.informers.for<Pod>(PODS);
    this.#podsByOwner = ctx.informers.ownerIndex<Pod>(PODS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 4,
      watches: [
        primary(this.#jobs, ['add', 'update']),
        owned(this.#pods, 'Job'),
        // an orphan queues the jobs that would adopt it
        watch(this.#pods, (p) => (controllerOf(p) ? undefined : ownersSelecting(this.#jobs.list(), p))),
      ],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<ReconcileAction> {
    const job = this.#jobs.get(key);
    if (!job || job.metadata?.deletionTimestamp) return;
    if (finishedCondition(job)) return this.#expireFinished(job);
    const spec = job.spec ?? { template: {} };
    // its own pods and the orphans its selector matches (adopted), less the ones it no longer selects (released)
    const pods = await claimPods({
      client: this.#ctx.client,
      owner: job,
      ref: controllerRef(job, 'batch/v1', 'Job'),
      selector: fromObjectSelector(spec.selector ?? {}),
      podsByOwner: this.#podsByOwner,
      log: this.#ctx.log,
    });
    const active = pods.filter((p) => !isTerminal(p) && !p.metadata?.deletionTimestamp);
    // failures the pod failure policy ignores do not count against the back-off limit
    const judged = pods.filter((p) => phaseOf(p) === 'Failed').map((p) => ({ pod: p, verdict: podFailureVerdict(spec.podFailurePolicy?.rules ?? [], p) }));
    const failed = judged.filter((j) => j.verdict?.action !== 'Ignore').map((j) => j.pod);
    const failJob = judged.find((j) => j.verdict?.action === 'FailJob');
    const indexed = spec.completionMode === 'Indexed';
    const succeededIndexes = new Set(pods.filter((p) => phaseOf(p) === 'Succeeded').map(indexOf));
    const succeeded = indexed ? [...succeededIndexes].filter((i) => i >= 0).length : pods.filter((p) => phaseOf(p) === 'Succeeded').length;
    const restarts =
      spec.template.spec?.restartPolicy === 'OnFailure'
        ? active.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0)
        : 0;
    const now = Date.now();
    const startTime = spec.suspend ? job.status?.startTime : (job.status?.startTime ?? rfc3339());

    let outcome: Outcome | undefined;
    if (!spec.suspend) {
      if (failJob?.verdict) outcome = { type: 'Failed', reason: 'PodFailurePolicy', message: failJob.verdict.message };
      else if (failed.length + restarts > (spec.backoffLimit ?? 6))
        outcome = { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      else if (spec.activeDeadlineSeconds && startTime && now - Date.parse(startTime) >= spec.activeDeadlineSeconds * 1000)
        outcome = { type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      else if (spec.completions !== undefined ? succeeded >= spec.completions : succeeded > 0 && active.length === 0)
        outcome = { type: 'Complete', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
    }

    // the sooner of a back-off ending and the active deadline passing
    let again: ReconcileAction;
    const lookAgainIn = (ms: number) => {
      if (!again || ms < again.requeueAfterMs) again = requeueAfter(ms);
    };
    if (spec.suspend || outcome?.type === 'Failed' || (outcome && active.length > 0)) {
      await Promise.all(active.map((p) => deleteOwnedPod(this.#ctx, job, p)));
    } else if (!outcome) {
      const backOff = await this.#startPods(job, active, failed, succeededIndexes, succeeded);
      if (backOff !== undefined) lookAgainIn(backOff);
      if (spec.activeDeadlineSeconds && startTime) lookAgainIn(Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - now + 100);
    }

    const status: JobStatus = {
      conditions: this.#conditions(job, outcome),
      startTime,
      completionTime: outcome?.type === 'Complete' ? rfc3339() : undefined,
      active: outcome || spec.suspend ? 0 : active.length,
      ready: active.filter(isPodReady).length,
      succeeded,
      failed: failed.length,
      terminating: pods.filter((p) => p.metadata?.deletionTimestamp && !isTerminal(p)).length,
      completedIndexes: indexed ? indexRanges([...succeededIndexes].filter((i) => i >= 0)) : undefined,
    };
    const compact = withoutEmpty(status);
    if (JSON.stringify(compact) === JSON.stringify(withoutEmpty({ ...job.status }))) return again;
    await this.#ctx.client.update(
      { ...JOBS, version: 'v1', namespace: job.metadata?.namespace, name: job.metadata?.name, subresource: 'status' },
      { ...job, status: compact },
    );
    if (outcome?.type === 'Complete') this.#ctx.events.event(job, 'Normal', 'Completed', 'Job completed');
    else if (outcome) this.#ctx.events.event(job, 'Warning', outcome.reason, outcome.message);
    return again;
  }

  /** Creates the pods the Job is short of, once the back-off since the last failure has passed; returns how long that back-off still runs. */
  async #startPods(job: Job, active: Pod[], failed: Pod[], succeededIndexes: Set<number>, succeeded: number): Promise<number | undefined> {
    const spec = job.spec ?? { template: {} };
    const parallelism = spec.parallelism ?? 1;
    let want: (number | undefined)[];
    if (spec.completionMode === 'Indexed') {
      const busy = new Set(active.map(indexOf));
      want = Array.from({ length: spec.completions ?? 0 }, (_, i) => i).filter((i) => !succeededIndexes.has(i) && !busy.has(i));
    } else {
      const remaining = spec.completions === undefined ? (succeeded > 0 ? 0 : parallelism) : spec.completions - succeeded;
      want = Array.from({ length: Math.max(Math.min(parallelism, remaining) - active.length, 0) }, () => undefined);
    }
    want = want.slice(0, Math.max(parallelism - active.length, 0));
    if (want.length === 0) return undefined;
    if (failed.length > 0) {
      const wait = lastFailureAt(failed) + backoffDelay(failed.length, { initialMs: BACKOFF_BASE_MS, maxMs: BACKOFF_MAX_MS }) - Date.now();
      if (wait > 0) return wait;
    }
    const ref = controllerRef(job, 'batch/v1', 'Job');
    const results = await Promise.allSettled(
      want.map((index) =>
        createPodFromTemplate(
          this.#ctx,
          job,
          ref,
          spec.template,
          index === undefined
            ? { generateName: `${job.metadata?.name}-` }
            : {
                generateName: `${job.metadata?.name}-${index}-`,
                labels: { [COMPLETION_INDEX]: String(index) },
                annotations: { [COMPLETION_INDEX]: String(index) },
                env: [{ name: 'JOB_COMPLETION_INDEX', value: String(index) }],
              },
        ),
      ),
    );
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) {
      this.#ctx.events.event(job, 'Warning', 'FailedCreate', `Error creating: ${(failure.reason as Error).message}`);
      throw failure.reason;
    }
    return undefined;
  }

  /** The Job's conditions after this sync: Suspended follows spec.suspend; an outcome adds its pair of conditions. */
  #conditions(job: Job, outcome: Outcome | undefined): JobCondition[] {
    const now = rfc3339();
    const conditions = [...(job.status?.conditions ?? [])];
    const put = (c: JobCondition) => {
      const i = conditions.findIndex((x) => x.type === c.type);
      const prev = conditions[i];
      if (prev && prev.status === c.status) return;
      const next = { ...c, lastProbeTime: now, lastTransitionTime: now };
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
    };
    if (job.spec?.suspend) put({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' });
    else if (conditions.some((c) => c.type === 'Suspended' && c.status === 'True'))
      put({ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' });
    if (outcome) {
      put({ type: outcome.type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget', status: 'True', reason: outcome.reason, message: outcome.message });
      put({ type: outcome.type, status: 'True', reason: outcome.reason, message: outcome.message });
    }
    return conditions;
  }

  /** ttlSecondsAfterFinished: deletes the finished Job (and, in the background, its pods) when its time is up. */
  async #expireFinished(job: Job): Promise<ReconcileAction> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined) return undefined;
    const finishedAt = Date.parse(job.status?.completionTime ?? finishedCondition(job)?.lastTransitionTime ?? '') || Date.now();
    const left = finishedAt + ttl * 1000 - Date.now();
    if (left > 0) return requeueAfter(left + 100);
    await this.#ctx.client.delete(
      { ...JOBS, version: 'v1', namespace: job.metadata?.namespace, name: job.metadata?.name },
      { preconditions: { uid: job.metadata?.uid }, propagationPolicy: 'Background' },
    );
    return undefined;
  }
}

const STATUS_FIELDS = ['conditions', 'startTime', 'completionTime', 'active', 'ready', 'succeeded', 'failed', 'terminating', 'completedIndexes'] as const;

/** Status as Kubernetes serialises it (zero counts, empty strings and lists left out), in one field order so two can be compared as text. */
function withoutEmpty(s: JobStatus): JobStatus {
  const out: Record<string, unknown> = {};
  for (const k of STATUS_FIELDS) {
    const v = s[k];
    if (v !== undefined && v !== 0 && v !== '' && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return out as JobStatus;
}
