import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Strategy } from '../resource-info.ts';
import { immutable } from '../validate-fields.ts';

// resource.k8s.io/v1 (dynamic resource allocation), served and validated:
// DeviceClasses, ResourceClaims and their templates, and the ResourceSlices
// drivers publish. Nothing in skiff allocates devices yet; a claim's spec is
// fixed once made, as in Kubernetes.

interface SliceSpec {
  driver?: string;
  pool?: { name?: string; generation?: number; resourceSliceCount?: number };
  nodeName?: string;
  nodeSelector?: unknown;
  allNodes?: boolean;
  perDeviceNodeSelection?: boolean;
}

export const resourceClaimStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.status = {};
  },
  validateUpdate: (obj, old) => immutable(obj.spec, old.spec, 'spec'),
};

export const resourceSliceStrategy: Strategy = {
  validate(obj) {
    const spec = (obj.spec ?? {}) as SliceSpec;
    const causes: StatusCause[] = [];
    if (!spec.driver) causes.push(fieldErrors.required('spec.driver'));
    if (!spec.pool?.name) causes.push(fieldErrors.required('spec.pool.name'));
    if (spec.pool && !(Number.isInteger(spec.pool.resourceSliceCount) && (spec.pool.resourceSliceCount ?? 0) > 0))
      causes.push(fieldErrors.invalid('spec.pool.resourceSliceCount', spec.pool.resourceSliceCount ?? 0, 'must be greater than zero'));
    const placements = ['nodeName', 'nodeSelector', 'allNodes', 'perDeviceNodeSelection'].filter((k) => {
      const v = spec[k as keyof SliceSpec];
      return v !== undefined && v !== false && v !== '';
    });
    if (placements.length !== 1)
      causes.push(
        placements.length
          ? fieldErrors.invalid('spec', `{${placements.join(', ')}}`, 'exactly one field must be set, not more')
          : fieldErrors.required('spec', 'exactly one of `nodeName`, `nodeSelector`, `allNodes`, `perDeviceNodeSelection` is required'),
      );
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...(resourceSliceStrategy.validate?.(obj) ?? []),
    ...immutable((obj.spec as SliceSpec | undefined)?.driver, (old.spec as SliceSpec | undefined)?.driver, 'spec.driver'),
  ],
};
