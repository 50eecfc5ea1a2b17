import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import {
  ApiError,
  defineController,
  primary,
  requeueAfter,
  rfc3339,
  type Informer,
  type ReconcileAction,
  type RunnableController,
} from '../../apimachinery/index.ts';
import { owned, type Controller, type ControllerContext } from './context.ts';
import { controllerRef, isControlledBy } from './controller-ref.ts';
import { fireTimes } from './cron-times.ts';
import { finishedCondition } from './job.ts';
import type { OwnerIndex } from './owner-index.ts';
import { CRON_JOBS, JOBS } from './shared-informers.ts';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** More missed start times than this and the CronJob is told so (only the latest is started). */
const TOO_MANY_MISSED = 100;

/**
 * Starts a Job from each CronJob at its schedule's times (in its time zone):
 * only the most recent missed time, and not once startingDeadlineSeconds has
 * passed it; concurrencyPolicy Allow, Forbid or Replace against the Jobs
 * still running; suspend; finished Jobs pruned to the history limits; status
 * with the active Jobs and the last schedule and success times.
 */
export class CronJobController implements Controller {
  readonly name = 'cronjob';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #cronJobs: Informer<CronJob>;
  #jobs: Informer<Job>;
  #jobsByOwner: OwnerIndex<Job>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#cronJobs = ctx.informers.for<CronJob>(CRON_JOBS);
    this.#jobs = ctx.informers.for<Job>(JOBS);
    this.#jobsByOwner = ctx.informers.ownerIndex<Job>(JOBS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff: { baseDelayMs: 100, maxDelayMs: 60_000 },
      watches: [primary(this.#cronJobs, ['add', 'update']), owned(this.#jobs, 'CronJob')],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<ReconcileAction> {
    const cj = this.#cronJobs.get(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const spec = cj.spec ?? { schedule: '', jobTemplate: {} };
    const jobs = this.#jobsByOwner.dependents(cj.metadata?.uid).filter((j) => isControlledBy(j, cj));
    let active = jobs.filter((j) => !finishedCondition(j) && !j.metadata?.deletionTimestamp);
    await this.#pruneHistory(cj, jobs);

    const now = new Date();
    const deadline = spec.startingDeadlineSeconds;
    let earliest = new Date(cj.status?.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? now);
    if (deadline !== undefined && earliest.getTime() < now.getTime() - deadline * 1000) earliest = new Date(now.getTime() - deadline * 1000);
    let times: ReturnType<typeof fireTimes>;
    try {
      times = fireTimes(spec.schedule, spec.timeZone, earliest, now);
    } catch (err) {
      this.#ctx.events.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${spec.schedule}: ${(err as Error).message}`);
      return;
    }
    const again = requeueAfter(times.next.getTime() - now.getTime() + 100);
    const scheduled = times.missed.at(-1);
    let lastScheduleTime = cj.status?.lastScheduleTime;
    if (times.count > TOO_MANY_MISSED)
      this.#ctx.events.event(
        cj,
        'Warning',
        'TooManyMissedTimes',
        `too many missed start times: ${times.count}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
      );

    if (scheduled && !spec.suspend) {
      const policy = spec.concurrencyPolicy ?? 'Allow';
      if (policy === 'Forbid' && active.length > 0) {
        this.#ctx.events.event(cj, 'Normal', 'JobAlreadyActive', `Not starting job because prior execution is running and concurrency policy is Forbid`);
      } else {
        if (policy === 'Replace') {
          for (const j of active) await this.#deleteJob(cj, j);
          active = [];
        }
        active.push(await this.#startJob(cj, scheduled));
        lastScheduleTime = rfc3339(scheduled);
      }
    }

    const succeededTimes = jobs
      .filter((j) => finishedCondition(j)?.type === 'Complete')
      .map((j) => j.status?.completionTime)
      .filter((t): t is string => !!t)
      .sort();
    const status = {
      ...(active.length ? { active: active.map(referenceTo) } : {}),
      ...(lastScheduleTime ? { lastScheduleTime } : {}),
      ...(succeededTimes.length || cj.status?.lastSuccessfulTime ? { lastSuccessfulTime: succeededTimes.at(-1) ?? cj.status?.lastSuccessfulTime } : {}),
    };
    const before = {
      ...(cj.status?.active?.length ? { active: cj.status.active } : {}),
      ...(cj.status?.lastScheduleTime ? { lastScheduleTime: cj.status.lastScheduleTime } : {}),
      ...(cj.status?.lastSuccessfulTime ? { lastSuccessfulTime: cj.status.lastSuccessfulTime } : {}),
    };
    if (JSON.stringify(status) === JSON.stringify(before)) return again;
    await this.#ctx.client.update(
      { ...CRON_JOBS, version: 'v1', namespace: cj.metadata?.namespace, name: cj.metadata?.name, subresource: 'status' },
      { ...cj, status },
    );
    return again;
  }

  async #startJob(cj: CronJob, scheduled: Date): Promise<Job> {
    const template = cj.spec?.jobTemplate ?? {};
    // named by the scheduled minute, so a retried sync cannot start the same run twice
    const name = `${cj.metadata?.name}-${Math.floor(scheduled.getTime() / 60_000)}`;
    const ref = { ...JOBS, version: 'v1', namespace: cj.metadata?.namespace };
    try {
      const job = await this.#ctx.client.create<Job>(ref, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name,
          labels: template.metadata?.labels,
          annotations: { ...template.metadata?.annotations, [SCHEDULED_TIMESTAMP]: rfc3339(scheduled) },
          ownerReferences: [controllerRef(cj, 'batch/v1', 'CronJob')],
        },
        spec: template.spec,
      });
      this.#ctx.events.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
      return job;
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) return this.#ctx.client.get<Job>({ ...ref, name });
      this.#ctx.events.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
      throw err;
    }
  }

  async #deleteJob(cj: CronJob, job: Job): Promise<void> {
    try {
      await this.#ctx.client.delete(
        { ...JOBS, version: 'v1', namespace: job.metadata?.namespace, name: job.metadata?.name },
        { preconditions: { uid: job.metadata?.uid }, propagationPolicy: 'Background' },
      );
      this.#ctx.events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  /** Deletes the oldest finished Jobs beyond successfulJobsHistoryLimit (3) and failedJobsHistoryLimit (1). */
  async #pruneHistory(cj: CronJob, jobs: Job[]): Promise<void> {
    const started = (j: Job) => Date.parse(j.metadata?.annotations?.[SCHEDULED_TIMESTAMP] ?? j.metadata?.creationTimestamp ?? '') || 0;
    for (const [type, limit] of [
      ['Complete', cj.spec?.successfulJobsHistoryLimit ?? 3],
      ['Failed', cj.spec?.failedJobsHistoryLimit ?? 1],
    ] as const) {
      const finished = jobs.filter((j) => finishedCondition(j)?.type === type && !j.metadata?.deletionTimestamp).sort((a, b) => started(a) - started(b));
      for (const j of finished.slice(0, Math.max(finished.length - limit, 0))) await this.#deleteJob(cj, j);
    }
  }
}

function referenceTo(j: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: j.metadata?.name,
    namespace: j.metadata?.namespace,
    uid: j.metadata?.uid,
    resourceVersion: j.metadata?.resourceVersion,
  };
}
