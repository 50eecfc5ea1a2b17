import type { Event } from 'kubernetes-types/core/v1.js';
import { fieldErrors } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';

const asEvent = (o: Obj) => o as unknown as Event;

export const eventStrategy: Strategy = {
  validate(obj) {
    const e = asEvent(obj);
    const causes = [];
    if (!e.involvedObject) causes.push(fieldErrors.required('involvedObject'));
    if (e.type && e.type !== 'Normal' && e.type !== 'Warning') causes.push(fieldErrors.notSupported('type', e.type, ['Normal', 'Warning']));
    return causes;
  },
  selectableFields: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  columns: [
    { name: 'Last Seen', type: 'string', description: 'Time the event was last seen', priority: 0 },
    { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning), new types could be added in the future.', priority: 0 },
    { name: 'Reason', type: 'string', description: 'A machine-readable description of the cause of the event.', priority: 0 },
    { name: 'Object', type: 'string', description: 'The object this Event is about.', priority: 0 },
    { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.', priority: 0 },
  ],
  cells(obj) {
    const e = asEvent(obj);
    const last = e.lastTimestamp ?? e.eventTime ?? obj.metadata.creationTimestamp;
    const count = (e.count ?? 1) > 1 ? ` (x${e.count} over ${age(e.firstTimestamp)})` : '';
    return [
      `${age(last)}${count}`,
      e.type ?? '',
      e.reason ?? '',
      `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name ?? ''}`,
      e.message ?? '',
    ];
  },
};
