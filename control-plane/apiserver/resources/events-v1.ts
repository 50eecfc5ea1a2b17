import type { Obj, StorageMapping, Strategy } from '../resource-info.ts';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import { eventStrategy } from './events.ts';

/** events.k8s.io/v1 field ↔ core/v1 field: the two are one stored object. */
const RENAMES: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(obj: Obj, pairs: [string, string][]): Obj {
  const out: Obj = { ...obj };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out;
}

export const eventsV1Storage: StorageMapping = {
  group: '',
  resource: 'events',
  toStorage: (obj) => ({ ...rename(obj, RENAMES), apiVersion: 'v1' }),
  fromStorage: (obj) => ({
    ...rename(
      obj,
      RENAMES.map(([a, b]) => [b, a]),
    ),
    apiVersion: 'events.k8s.io/v1',
  }),
};

export const eventsV1Strategy: Strategy = {
  validate(obj) {
    const causes: StatusCause[] = [];
    if (!obj.regarding && !obj.eventTime) causes.push(fieldErrors.required('regarding'));
    if (obj.eventTime) {
      for (const f of ['reportingController', 'reportingInstance', 'action', 'reason']) {
        if (!obj[f]) causes.push(fieldErrors.required(f));
      }
    }
    if (obj.type && obj.type !== 'Normal' && obj.type !== 'Warning') causes.push(fieldErrors.notSupported('type', obj.type, ['Normal', 'Warning']));
    return causes;
  },
  selectableFields: eventStrategy.selectableFields?.map((f) =>
    f.replace(/^involvedObject\./, 'regarding.').replace(/^reportingComponent$/, 'reportingController'),
  ),
};
