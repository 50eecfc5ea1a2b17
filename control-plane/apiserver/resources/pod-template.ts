import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import {
  fieldErrors,
  fromObjectSelector,
  matchesLabels,
  selectorString,
  SelectorParseError,
  type ObjectLabelSelector,
  type StatusCause,
} from '../../../apimachinery/index.ts';
import { defaultPodSpec, validatePodSpec } from './pods.ts';

/** Defaults a pod template the way pods are defaulted (without pod-only admission). */
export function defaultTemplate(template: PodTemplateSpec | undefined): void {
  if (template && typeof template === 'object') {
    template.metadata ??= {};
    template.spec ??= { containers: [] };
    defaultPodSpec(template.spec);
  }
}

export function validateTemplate(template: PodTemplateSpec | undefined, path: string, allowedRestart?: string[]): StatusCause[] {
  if (!template || typeof template !== 'object') return [fieldErrors.required(path)];
  const causes = validatePodSpec(template.spec, `${path}.spec`);
  const restart = template.spec?.restartPolicy;
  if (allowedRestart && restart && !allowedRestart.includes(restart))
    causes.push(fieldErrors.notSupported(`${path}.spec.restartPolicy`, restart, allowedRestart));
  return causes;
}

/**
 * apps/v1 and batch/v1 rules for a workload's selector: required, non-empty,
 * well-formed, and matching the template's labels.
 */
export function validateSelector(selector: ObjectLabelSelector | undefined, template: PodTemplateSpec | undefined, path = 'spec'): StatusCause[] {
  if (!selector) return [fieldErrors.required(`${path}.selector`)];
  let reqs: ReturnType<typeof fromObjectSelector>;
  try {
    reqs = fromObjectSelector(selector);
  } catch (err) {
    if (err instanceof SelectorParseError) return [fieldErrors.invalid(`${path}.selector`, selector, err.message)];
    throw err;
  }
  if (reqs.length === 0) return [fieldErrors.invalid(`${path}.selector`, selector, 'empty selector is invalid for deployment')];
  if (template && !matchesLabels(reqs, template.metadata?.labels)) {
    return [fieldErrors.invalid(`${path}.template.metadata.labels`, template.metadata?.labels ?? {}, '`selector` does not match template `labels`')];
  }
  return [];
}

/** The selector in string form, or '' when it cannot be read. */
export function selectorText(selector: ObjectLabelSelector | undefined): string {
  try {
    return selector ? selectorString(fromObjectSelector(selector)) : '';
  } catch {
    return '';
  }
}

/** Containers and Images cells, as `kubectl get -o wide` shows them for workloads. */
export function templateCells(spec: PodSpec | undefined): [string, string] {
  const cs = spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}
