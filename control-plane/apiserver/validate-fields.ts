import { fieldErrors, type StatusCause } from '../../apimachinery/index.ts';

// Field checks many resources share, worded as kube-apiserver words them.

export function nonNegative(value: unknown, field: string): StatusCause[] {
  if (value === undefined) return [];
  if (!Number.isInteger(value)) return [fieldErrors.invalid(field, value, 'must be an integer')];
  return (value as number) < 0 ? [fieldErrors.invalid(field, value, 'must be greater than or equal to 0')] : [];
}

export function immutable(next: unknown, old: unknown, field: string): StatusCause[] {
  return JSON.stringify(next) === JSON.stringify(old) ? [] : [fieldErrors.invalid(field, next, 'field is immutable')];
}
