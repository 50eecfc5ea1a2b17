import { errors, fieldErrors, valueAtPath } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';
import type { Obj, ScaleInfo } from './resource-info.ts';

export interface Scale {
  kind: 'Scale';
  apiVersion: 'autoscaling/v1';
  metadata: Obj['metadata'];
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

function write(obj: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys[keys.length - 1] as string] = value;
}

function scaleInfo(reg: Registry): ScaleInfo {
  const info = reg.info.scale;
  if (!info) throw errors.notFound(`${reg.info.resource}/scale`, reg.info.group, '');
  return info;
}

/** The autoscaling/v1 Scale view of a scalable object. */
export function scaleOf(info: ScaleInfo, obj: Obj): Scale {
  const m = obj.metadata;
  const selector = info.selector(obj);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: Number(valueAtPath(obj, info.specReplicasPath) ?? 0) },
    status: { replicas: Number(valueAtPath(obj, info.statusReplicasPath) ?? 0), ...(selector ? { selector } : {}) },
  };
}

export async function getScale(reg: Registry, namespace: string | undefined, name: string): Promise<Scale> {
  return scaleOf(scaleInfo(reg), await reg.get(namespace, name));
}

/**
 * Changes replicas through the Scale view: `change` gets the current Scale
 * and returns the wanted one (a PUT body or a patched copy).
 */
export async function updateScale(
  reg: Registry,
  namespace: string | undefined,
  name: string,
  change: (current: Scale) => Scale,
  opts: { dryRun?: boolean; fieldManager?: string } = {},
): Promise<Scale> {
  const info = scaleInfo(reg);
  const updated = await reg.guaranteedUpdate(
    namespace,
    name,
    (obj) => {
      const current = scaleOf(info, obj);
      const wanted = change(current);
      const replicas = wanted?.spec?.replicas;
      if (!Number.isInteger(replicas) || (replicas as number) < 0) {
        throw errors.invalid('Scale', 'autoscaling', name, [fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
      }
      const precondition = wanted.metadata?.resourceVersion;
      if (precondition && precondition !== obj.metadata.resourceVersion) {
        throw errors.conflict(
          reg.info.resource,
          reg.info.group,
          name,
          'the object has been modified; please apply your changes to the latest version and try again',
        );
      }
      write(obj, info.specReplicasPath, replicas);
      return obj;
    },
    { ...opts, managedSubresource: 'scale' },
  );
  return scaleOf(info, updated);
}
