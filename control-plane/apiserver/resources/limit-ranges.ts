import type { LimitRange, LimitRangeItem } from 'kubernetes-types/core/v1.js';
import { fieldErrors, parseQuantity, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';

type Resources = Record<string, string>;
const TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];
const asLimitRange = (o: Obj) => o as unknown as LimitRange;

/** A Container item's defaults as the API fills them: the limit from max, the request from the limit, then from min. */
function defaultItem(item: LimitRangeItem): void {
  if (item.type !== 'Container') return;
  const fill = (to: Resources, from: Resources | undefined) => {
    for (const [k, v] of Object.entries(from ?? {})) to[k] ??= v;
  };
  const limit = (item.default ??= {}) as Resources;
  fill(limit, item.max as Resources);
  const request = (item.defaultRequest ??= {}) as Resources;
  fill(request, limit);
  fill(request, item.min as Resources);
}

function validateItem(item: LimitRangeItem, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!TYPES.includes(item.type)) causes.push(fieldErrors.notSupported(`${at}.type`, item.type, TYPES));
  if (item.type === 'Pod') {
    for (const f of ['default', 'defaultRequest'] as const)
      if (Object.keys(item[f] ?? {}).length) causes.push(fieldErrors.forbidden(`${at}.${f}`, "may not be specified when `type` is 'Pod'"));
  }
  const get = (f: 'min' | 'max' | 'default' | 'defaultRequest', k: string) => (item[f] as Resources | undefined)?.[k];
  const keys = new Set(['min', 'max', 'default', 'defaultRequest'].flatMap((f) => Object.keys((item[f as 'min'] as Resources | undefined) ?? {})));
  const over = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && parseQuantity(a) > parseQuantity(b);
  for (const k of keys) {
    const [min, max, def, req] = [get('min', k), get('max', k), get('default', k), get('defaultRequest', k)];
    if (over(min, max)) causes.push(fieldErrors.invalid(`${at}.min[${k}]`, min, `min value ${min} is greater than max value ${max}`));
    if (over(min, req)) causes.push(fieldErrors.invalid(`${at}.defaultRequest[${k}]`, req, `min value ${min} is greater than default request value ${req}`));
    if (over(req, max)) causes.push(fieldErrors.invalid(`${at}.defaultRequest[${k}]`, req, `default request value ${req} is greater than max value ${max}`));
    if (over(req, def))
      causes.push(fieldErrors.invalid(`${at}.defaultRequest[${k}]`, req, `default request value ${req} is greater than default limit value ${def}`));
    if (over(min, def)) causes.push(fieldErrors.invalid(`${at}.default[${k}]`, min, `min value ${min} is greater than default value ${def}`));
    if (over(def, max)) causes.push(fieldErrors.invalid(`${at}.default[${k}]`, max, `default value ${def} is greater than max value ${max}`));
  }
  for (const [k, ratio] of Object.entries((item.maxLimitRequestRatio ?? {}) as Resources))
    if (parseQuantity(ratio) < 1) causes.push(fieldErrors.invalid(`${at}.maxLimitRequestRatio[${k}]`, ratio, `ratio ${ratio} is less than 1`));
  return causes;
}

export const limitRangeStrategy: Strategy = {
  defaults: (obj) => (asLimitRange(obj).spec?.limits ?? []).forEach(defaultItem),
  validate: (obj) => (asLimitRange(obj).spec?.limits ?? []).flatMap((item, i) => validateItem(item, `spec.limits[${i}]`)),
};
