import type { IncomingMessage } from 'node:http';
import {
  ApiError,
  errors,
  fieldErrors,
  parseFieldSelector,
  parseLabelSelector,
  queryBool,
  queryInt,
  FieldSelectorParseError,
  SelectorParseError,
  type FieldSelector,
} from '../../apimachinery/index.ts';
import { readBody } from './http-util.ts';
import { listReadOf } from './list-read.ts';
import type { ListOptions, Registry } from './registry.ts';
import type { PropagationPolicy } from './resource-info.ts';

// What a request on a resource URL asks for in its query and body: list, dry-run and delete options, and the patch types it takes.

export function listOptions(reg: Registry, namespace: string | undefined, q: URLSearchParams): ListOptions {
  let fields: FieldSelector;
  try {
    fields = parseFieldSelector(q.get('fieldSelector'));
  } catch (err) {
    if (err instanceof FieldSelectorParseError) throw errors.badRequest(err.message);
    throw err;
  }
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(reg.info.strategy?.selectableFields ?? [])]);
  for (const f of fields) {
    if (!allowed.has(f.field)) throw errors.badRequest(`field label not supported: ${f.field}`);
  }
  const limit = queryInt(q, 'limit');
  // read by the watch; checked for a list too, as the decoder of ListOptions does
  queryInt(q, 'timeoutSeconds');
  try {
    return {
      namespace,
      labels: parseLabelSelector(q.get('labelSelector')),
      fields,
      limit,
      continue: q.get('continue') ?? undefined,
      // a watch reads resourceVersion its own way
      read: queryBool(q.get('watch')) ? undefined : listReadOf(q, limit),
    };
  } catch (err) {
    if (err instanceof SelectorParseError) throw errors.badRequest(`unable to parse requirement: ${err.message}`);
    throw err;
  }
}

export function dryRun(q: URLSearchParams): boolean {
  const v = q.get('dryRun');
  if (v && v !== 'All') throw errors.badRequest(`Invalid dry run value: ${v}. Valid values: All`);
  return v === 'All';
}

interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  orphanDependents?: boolean;
}

const POLICIES: readonly PropagationPolicy[] = ['Orphan', 'Background', 'Foreground'];

/** The propagation policy of a delete, from the query or DeleteOptions (orphanDependents is its older spelling). */
function propagationPolicy(q: URLSearchParams, body: DeleteOptions): PropagationPolicy | undefined {
  const policy = q.get('propagationPolicy') ?? body.propagationPolicy;
  const orphan = q.get('orphanDependents') ?? body.orphanDependents;
  if (policy !== undefined && orphan !== undefined && orphan !== null) {
    throw errors.invalid('DeleteOptions', '', '', [
      fieldErrors.invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'),
    ]);
  }
  if (policy !== undefined && policy !== null) {
    if (!POLICIES.includes(policy as PropagationPolicy))
      throw errors.invalid('DeleteOptions', '', '', [fieldErrors.notSupported('propagationPolicy', policy, [...POLICIES])]);
    return policy as PropagationPolicy;
  }
  if (orphan === undefined || orphan === null) return undefined;
  return orphan === true || (typeof orphan === 'string' && queryBool(orphan)) ? 'Orphan' : 'Background';
}

/** A delete's options, from its DeleteOptions body and the query (the query wins). */
export async function deleteOptions(req: IncomingMessage, q: URLSearchParams) {
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  const body = ((hasBody ? await readBody(req, { allowEmpty: true }) : undefined) ?? {}) as DeleteOptions;
  if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null && !Number.isInteger(body.gracePeriodSeconds)) {
    throw errors.badRequest(`json: cannot unmarshal ${typeof body.gracePeriodSeconds} into field "gracePeriodSeconds" of type integer`);
  }
  return {
    gracePeriodSeconds: queryInt(q, 'gracePeriodSeconds') ?? body.gracePeriodSeconds ?? undefined,
    preconditions: body.preconditions,
    propagationPolicy: propagationPolicy(q, body),
    dryRun: dryRun(q),
  };
}

/** A patch of a type the URL does not take (scale takes no apply). */
export function unsupportedPatch(opts: { apply: boolean; strategic: boolean }): ApiError {
  const types = [
    'application/json-patch+json',
    'application/merge-patch+json',
    ...(opts.strategic ? ['application/strategic-merge-patch+json'] : []),
    ...(opts.apply ? ['application/apply-patch+yaml'] : []),
  ];
  return new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${types.join(', ')}`);
}
