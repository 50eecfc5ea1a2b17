import { isIP } from 'node:net';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { immutable } from '../validate-fields.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';

// ServiceCIDR and IPAddress (networking.k8s.io/v1): the ranges ClusterIPs
// come from (the server publishes its --service-cluster-ip-range as the
// `kubernetes` one) and single addresses, each named by its canonical form.

interface ServiceCidrSpec {
  cidrs?: string[];
}
interface IpAddressSpec {
  parentRef?: { group?: string; resource?: string; namespace?: string; name?: string };
}

/** Whether `cidr` is an address/prefix of one family with no bits set past the prefix. */
function cidrErrors(cidr: string): string[] {
  const [ip = '', bits = '', ...rest] = cidr.split('/');
  const family = isIP(ip);
  const prefix = Number(bits);
  if (rest.length || !family || !/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128))
    return ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'];
  return [];
}

export const serviceCidrStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    const cidrs = (obj.spec as ServiceCidrSpec | undefined)?.cidrs ?? [];
    const causes: StatusCause[] = [];
    if (!cidrs.length) causes.push(fieldErrors.required('spec.cidrs'));
    if (cidrs.length > 2) causes.push(fieldErrors.tooMany('spec.cidrs', cidrs.length, 2));
    cidrs.forEach((c, i) => {
      for (const message of cidrErrors(c)) causes.push(fieldErrors.invalid(`spec.cidrs[${i}]`, c, message));
    });
    if (cidrs.length === 2 && isIP(cidrs[0]?.split('/')[0] ?? '') === isIP(cidrs[1]?.split('/')[0] ?? ''))
      causes.push(fieldErrors.invalid('spec.cidrs', cidrs, 'may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64'));
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...(serviceCidrStrategy.validate?.(obj) ?? []),
    ...immutable((obj.spec as ServiceCidrSpec | undefined)?.cidrs, (old.spec as ServiceCidrSpec | undefined)?.cidrs, 'spec.cidrs'),
  ],
  columns: [NAME_COLUMN, column('CIDRs', 'list of IP address ranges in CIDR notation'), AGE_COLUMN],
  cells: (obj) => [obj.metadata.name, ((obj.spec as ServiceCidrSpec | undefined)?.cidrs ?? []).join(','), age(obj.metadata.creationTimestamp)],
};

export const ipAddressStrategy: Strategy = {
  validate(obj) {
    const name = obj.metadata.name ?? '';
    const causes: StatusCause[] = [];
    // the name is the address, written as it is read back (no leading zeros, IPv6 compressed and lower case)
    if (!isIP(name) || (isIP(name) === 4 && name.split('.').some((p) => p.length > 1 && p.startsWith('0'))))
      causes.push(fieldErrors.invalid('metadata.name', name, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    const ref = (obj.spec as IpAddressSpec | undefined)?.parentRef;
    if (!ref) causes.push(fieldErrors.required('spec.parentRef'));
    else {
      if (!ref.resource) causes.push(fieldErrors.required('spec.parentRef.resource'));
      if (!ref.name) causes.push(fieldErrors.required('spec.parentRef.name'));
    }
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...(ipAddressStrategy.validate?.(obj) ?? []),
    ...immutable((obj.spec as IpAddressSpec | undefined)?.parentRef, (old.spec as IpAddressSpec | undefined)?.parentRef, 'spec.parentRef'),
  ],
};

/** The ServiceCIDR the server's --service-cluster-ip-range is published as. */
export function defaultServiceCidr(cidr: string): Obj {
  return { metadata: { name: 'kubernetes' }, spec: { cidrs: [cidr] } };
}
