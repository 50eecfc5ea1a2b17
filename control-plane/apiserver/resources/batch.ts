import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age, humanDuration } from './age.ts';
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, SELECTOR_COLUMN, column } from './columns.ts';
import { cronScheduleError, isTimeZone } from './cron-schedule.ts';
import { defaultTemplate, selectorText, templateCells, validateSelector, validateTemplate } from './pod-template.ts';
import { immutable, nonNegative } from '../validate-fields.ts';

const JOB_RESTART = ['OnFailure', 'Never'];
const asJob = (o: Obj) => o as unknown as Job;
const asCronJob = (o: Obj) => o as unknown as CronJob;

/** Labels the API server puts on a Job's pods and selects them by (manualSelector unset). */
function jobPodLabels(obj: Obj): Record<string, string> {
  const uid = obj.metadata.uid as string;
  const name = obj.metadata.name as string;
  return { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
}

function defaultJobSpec(spec: NonNullable<Job['spec']>): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  defaultTemplate(spec.template);
}

function validateJobSpec(spec: Job['spec'], path: string, selectorRequired: boolean): StatusCause[] {
  if (!spec) return [fieldErrors.required(path)];
  const causes = [
    ...nonNegative(spec.parallelism, `${path}.parallelism`),
    ...nonNegative(spec.completions, `${path}.completions`),
    ...nonNegative(spec.backoffLimit, `${path}.backoffLimit`),
    ...validateTemplate(spec.template, `${path}.template`, JOB_RESTART),
  ];
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0)
    causes.push(fieldErrors.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be greater than 0'));
  causes.push(...nonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`));
  const mode = spec.completionMode;
  if (mode && mode !== 'NonIndexed' && mode !== 'Indexed') causes.push(fieldErrors.notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed' && spec.completions === undefined) causes.push(fieldErrors.required(`${path}.completions`, 'when completion mode is Indexed'));
  if (selectorRequired) causes.push(...validateSelector(spec.selector, spec.template, path));
  return causes;
}

export const jobStrategy: Strategy = {
  prepareForCreate(obj) {
    const spec = (asJob(obj).spec ??= { template: {} });
    if (spec.template && typeof spec.template === 'object' && !spec.manualSelector) {
      const labels = jobPodLabels(obj);
      spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': labels['batch.kubernetes.io/controller-uid'] as string } };
      spec.template.metadata = { ...(spec.template.metadata ?? {}), labels: { ...(spec.template.metadata?.labels ?? {}), ...labels } };
    }
    obj.status = {};
  },
  defaults(obj) {
    const spec = (asJob(obj).spec ??= { template: {} });
    defaultJobSpec(spec);
  },
  validate(obj) {
    return validateJobSpec(asJob(obj).spec, 'spec', true);
  },
  validateUpdate(obj, old) {
    const spec = asJob(obj).spec;
    const prev = asJob(old).spec;
    const causes = validateJobSpec(spec, 'spec', true);
    causes.push(
      ...immutable(spec?.selector, prev?.selector, 'spec.selector'),
      ...immutable(spec?.completions, prev?.completions, 'spec.completions'),
      ...immutable(spec?.completionMode, prev?.completionMode, 'spec.completionMode'),
    );
    // the template may change only while the job is suspended
    if (!prev?.suspend) causes.push(...immutable(spec?.template, prev?.template, 'spec.template'));
    return causes;
  },
  selectableFields: ['status.successful'],
  columns: [
    NAME_COLUMN,
    column('Status', 'Status of the job.'),
    column('Completions', 'The completion status of the job.'),
    column('Duration', 'Time required to complete the job.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj) {
    const job = asJob(obj);
    const s = job.status ?? {};
    const conditions = s.conditions ?? [];
    const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
    const state = has('Complete')
      ? 'Complete'
      : has('Failed')
        ? 'Failed'
        : has('FailureTarget')
          ? 'FailureTarget'
          : job.spec?.suspend
            ? 'Suspended'
            : has('SuccessCriteriaMet')
              ? 'SuccessCriteriaMet'
              : 'Running';
    const completions =
      job.spec?.completions !== undefined ? `${s.succeeded ?? 0}/${job.spec.completions}` : `${s.succeeded ?? 0}/1 of ${job.spec?.parallelism ?? 1}`;
    const duration = s.startTime ? humanDuration((s.completionTime ? Date.parse(s.completionTime) : Date.now()) - Date.parse(s.startTime)) : '';
    return [
      obj.metadata.name,
      state,
      completions,
      duration,
      age(obj.metadata.creationTimestamp),
      ...templateCells(job.spec?.template?.spec),
      selectorText(job.spec?.selector),
    ];
  },
};

export const cronJobStrategy: Strategy = {
  defaults(obj) {
    const spec = (asCronJob(obj).spec ??= { schedule: '', jobTemplate: {} });
    spec.concurrencyPolicy ??= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    if (spec.jobTemplate?.spec) defaultJobSpec(spec.jobTemplate.spec);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    const spec = asCronJob(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const causes: StatusCause[] = [];
    if (!spec.schedule) causes.push(fieldErrors.required('spec.schedule'));
    else {
      const why = cronScheduleError(spec.schedule);
      if (why) causes.push(fieldErrors.invalid('spec.schedule', spec.schedule, why));
    }
    if (spec.timeZone !== undefined && !isTimeZone(spec.timeZone)) causes.push(fieldErrors.invalid('spec.timeZone', spec.timeZone, 'unknown time zone'));
    const policy = spec.concurrencyPolicy;
    if (policy && !['Allow', 'Forbid', 'Replace'].includes(policy))
      causes.push(fieldErrors.notSupported('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']));
    causes.push(
      ...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'),
      ...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'),
      ...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'),
    );
    causes.push(...validateJobSpec(spec.jobTemplate?.spec, 'spec.jobTemplate.spec', false));
    if (obj.metadata.name && obj.metadata.name.length > 52)
      causes.push(fieldErrors.invalid('metadata.name', obj.metadata.name, 'must be no more than 52 characters'));
    return causes;
  },
  columns: [
    NAME_COLUMN,
    column('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'The time zone name for the given schedule.'),
    column('Suspend', 'This flag tells the controller to suspend subsequent executions.'),
    column('Active', 'A list of pointers to currently running jobs.'),
    column('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj) {
    const cj = asCronJob(obj);
    const s = cj.status ?? {};
    const tmpl = cj.spec?.jobTemplate?.spec;
    return [
      obj.metadata.name,
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      String(cj.spec?.suspend ?? false),
      (s.active ?? []).length,
      s.lastScheduleTime ? age(s.lastScheduleTime) : '<none>',
      age(obj.metadata.creationTimestamp),
      ...templateCells(tmpl?.template?.spec),
      selectorText(tmpl?.selector),
    ];
  },
};
