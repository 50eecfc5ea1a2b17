import type { IncomingMessage } from 'node:http';
import { ApiError, errors, fieldErrors } from '../../../apimachinery/index.ts';
import { checkUnknownFields, type FieldValidation } from '../field-validation.ts';
import { isObject } from '../list-keys.ts';
import type { ModelSchemas } from '../openapi/model-schemas.ts';
import type { Registry } from '../registry.ts';
import type { Obj } from '../resource-info.ts';
import { applyConfiguration } from './managed-fields.ts';

// PATCH with application/apply-patch+yaml: server-side apply of a
// configuration by its field manager, creating the object when it is not there.

const MAX_MANAGER_LENGTH = 128;

/** The manager a write is recorded under: ?fieldManager=, else the client's name from its User-Agent (kubectl/v1.34 → kubectl). */
export function fieldManager(req: IncomingMessage, q: URLSearchParams): string {
  const given = q.get('fieldManager');
  if (given !== null) {
    if (given.length > MAX_MANAGER_LENGTH)
      throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [
        fieldErrors.invalid('fieldManager', given, `must be no more than ${MAX_MANAGER_LENGTH} characters`),
      ]);
    return given;
  }
  return (req.headers['user-agent'] ?? '').split('/')[0]?.slice(0, MAX_MANAGER_LENGTH) ?? '';
}

export interface ApplyTarget {
  namespace: string | undefined;
  name: string;
  /** '' for the main resource */
  subresource: string;
}

/** What the request asks of the apply, read from its query by the handler. */
export interface ApplyOptions {
  /** ?fieldManager=, required for an apply */
  fieldManager: string | null;
  force: boolean;
  dryRun: boolean;
  validation: FieldValidation;
}

export interface ApplyDeps {
  schemas: ModelSchemas;
  /** admission of an object the apply creates */
  admitCreate(obj: Obj): Promise<void>;
  /** checks every object about to be written (RBAC escalation) */
  guard(obj: Obj): void;
}

export async function serverSideApply(
  reg: Registry,
  target: ApplyTarget,
  patch: unknown,
  opts: ApplyOptions,
  deps: ApplyDeps,
): Promise<{ obj: Obj; created: boolean; warnings: string[] }> {
  const manager = opts.fieldManager;
  if (!manager) throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [fieldErrors.required('fieldManager', 'is required for apply patch')]);
  if (!isObject(patch)) throw errors.badRequest('the body of an apply patch must be an object');
  const cfg = patch as Obj;
  // an apply configuration names its type; whether it is this resource's, the registry checks as for any write
  for (const field of ['apiVersion', 'kind'] as const) {
    if (!cfg[field]) throw errors.badRequest(`Object '${field === 'kind' ? 'Kind' : field}' is missing in '${JSON.stringify(cfg)}'`);
  }
  cfg.metadata = isObject(cfg.metadata) ? cfg.metadata : {};
  // the merge would carry another name into the object, where an update quietly keeps the old one
  if (cfg.metadata.name !== undefined && cfg.metadata.name !== target.name)
    throw errors.badRequest(`the name of the object (${cfg.metadata.name}) does not match the name on the URL (${target.name})`);
  cfg.metadata.name = target.name;
  const warnings = checkUnknownFields(deps.schemas, reg.info, cfg, opts.validation);
  const scope = reg.writeScope(manager, target.subresource);
  const { force, dryRun } = opts;
  try {
    const obj = await reg.guaranteedUpdate(
      target.namespace,
      target.name,
      (current) => {
        const next = applyConfiguration(current, cfg, scope, force);
        deps.guard(next);
        return next;
      },
      { subresource: target.subresource || undefined, dryRun },
    );
    return { obj, created: false, warnings };
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404 && err.details?.name === target.name) || target.subresource) throw err;
  }
  const obj = applyConfiguration(undefined, cfg, scope, force);
  await deps.admitCreate(obj);
  deps.guard(obj);
  return { obj: await reg.create(target.namespace, obj, { dryRun }), created: true, warnings };
}
