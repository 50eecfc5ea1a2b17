import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';
import { immutable } from '../validate-fields.ts';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];
const asSlice = (o: Obj) => o as unknown as EndpointSlice;

export const endpointSliceStrategy: Strategy = {
  validate(obj) {
    const s = asSlice(obj);
    const causes: StatusCause[] = [];
    if (!ADDRESS_TYPES.includes(s.addressType)) causes.push(fieldErrors.notSupported('addressType', s.addressType, ADDRESS_TYPES));
    (s.endpoints ?? []).forEach((e, i) => {
      if (!e.addresses?.length) causes.push(fieldErrors.required(`endpoints[${i}].addresses`));
      if ((e.addresses ?? []).length > 100) causes.push(fieldErrors.invalid(`endpoints[${i}].addresses`, e.addresses, 'must have at most 100 items'));
    });
    if ((s.endpoints ?? []).length > 1000) causes.push(fieldErrors.invalid('endpoints', (s.endpoints ?? []).length, 'must have at most 1000 items'));
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...(endpointSliceStrategy.validate?.(obj) ?? []),
    ...immutable(asSlice(obj).addressType, asSlice(old).addressType, 'addressType'),
  ],
  columns: [
    NAME_COLUMN,
    column('AddressType', 'Type of address carried by this EndpointSlice'),
    column('Ports', 'Ports of the endpoints'),
    column('Endpoints', 'Addresses of the endpoints'),
    AGE_COLUMN,
  ],
  cells(obj) {
    const s = asSlice(obj);
    const ports = (s.ports ?? []).map((p) => String(p.port ?? '')).join(',') || '<unset>';
    return [
      obj.metadata.name,
      s.addressType,
      ports,
      firstFew((s.endpoints ?? []).flatMap((e) => e.addresses)) || '<unset>',
      age(obj.metadata.creationTimestamp),
    ];
  },
};

/** The first three items and how many more, as kubectl's endpoint columns show them. */
function firstFew(items: string[]): string {
  return items.slice(0, 3).join(',') + (items.length > 3 ? ` + ${items.length - 3} more...` : '');
}

/** Table columns of core/v1 Endpoints: every ready address with each port. */
export const endpointsStrategy: Strategy = {
  columns: [NAME_COLUMN, column('Endpoints', 'Endpoints is the list of endpoints'), AGE_COLUMN],
  cells(obj) {
    const subsets = (obj as unknown as Endpoints).subsets ?? [];
    const addresses = subsets.flatMap((ss) =>
      ss.ports?.length ? ss.ports.flatMap((p) => (ss.addresses ?? []).map((a) => `${a.ip}:${p.port}`)) : (ss.addresses ?? []).map((a) => a.ip),
    );
    return [obj.metadata.name, subsets.length ? firstFew(addresses) : '<none>', age(obj.metadata.creationTimestamp)];
  },
};
