import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { dns1123Label, dns1123Subdomain } from '../validate-meta.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';

/** An APIService (apiregistration.k8s.io/v1): a group version served here (Local, no service) or by an extension API server behind a Service. */
export interface ApiService {
  metadata: Obj['metadata'];
  spec: {
    group?: string;
    version?: string;
    service?: { namespace?: string; name?: string; port?: number } | null;
    caBundle?: string;
    insecureSkipTLSVerify?: boolean;
    groupPriorityMinimum?: number;
    versionPriority?: number;
  };
  status?: { conditions?: { type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string }[] };
}

export const asApiService = (o: Obj) => o as unknown as ApiService;

/** The name an APIService must have: `<version>.<group>` (`v1.` for the core group). */
export const apiServiceName = (group: string, version: string) => `${version}.${group}`;

/** Its Available condition: "True", or "False (Reason)", as kubectl shows it. */
function available(s: ApiService): string {
  const c = s.status?.conditions?.find((x) => x.type === 'Available');
  if (!c) return 'Unknown';
  return c.status === 'True' ? 'True' : `${c.status} (${c.reason ?? ''})`;
}

/** As kube-aggregator validates them. */
export const apiServiceStrategy: Strategy = {
  // `v1.` (the core group) is no DNS name: validate() holds the name to version and group instead
  nameRule: () => [],
  defaults(obj) {
    const spec = (obj.spec ??= {}) as ApiService['spec'];
    if (spec.service) spec.service.port ??= 443;
  },
  validate(obj) {
    const { spec } = asApiService(obj);
    const causes: StatusCause[] = [];
    const { group = '', version = '', service } = spec ?? {};
    if (obj.metadata.name !== apiServiceName(group, version))
      causes.push(fieldErrors.invalid('metadata.name', obj.metadata.name, 'must be `spec.version+"."+spec.group`'));
    if (!version) causes.push(fieldErrors.required('spec.version'));
    else for (const m of dns1123Label(version)) causes.push(fieldErrors.invalid('spec.version', version, m));
    if (group) for (const m of dns1123Subdomain(group)) causes.push(fieldErrors.invalid('spec.group', group, m));
    const priority = (field: 'groupPriorityMinimum' | 'versionPriority', max: number) => {
      const value = spec?.[field];
      if (value === undefined || value <= 0 || value > max)
        causes.push(fieldErrors.invalid(`spec.${field}`, value ?? 0, `must be positive and less than ${max}`));
    };
    priority('groupPriorityMinimum', 20000);
    priority('versionPriority', 1000);
    if (service) {
      if (!service.namespace) causes.push(fieldErrors.required('spec.service.namespace'));
      if (!service.name) causes.push(fieldErrors.required('spec.service.name'));
      if (service.port !== undefined && (service.port < 1 || service.port > 65535))
        causes.push(fieldErrors.invalid('spec.service.port', service.port, 'must be a valid port number'));
      if (spec.insecureSkipTLSVerify && spec.caBundle)
        causes.push(fieldErrors.invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
    } else {
      if (spec?.caBundle) causes.push(fieldErrors.invalid('spec.caBundle', spec.caBundle, 'local APIServices may not have a caBundle'));
      if (spec?.insecureSkipTLSVerify)
        causes.push(fieldErrors.invalid('spec.insecureSkipTLSVerify', true, 'local APIServices may not have insecureSkipTLSVerify'));
    }
    return causes;
  },
  columns: [
    NAME_COLUMN,
    column('Service', 'The reference to the service that hosts this API endpoint.'),
    column('Available', 'Whether this service is available.'),
    AGE_COLUMN,
  ],
  cells(obj) {
    const s = asApiService(obj);
    const service = s.spec?.service ? `${s.spec.service.namespace}/${s.spec.service.name}` : 'Local';
    return [obj.metadata.name, service, available(s), age(obj.metadata.creationTimestamp)];
  },
};
