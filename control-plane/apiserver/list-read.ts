import { ApiError, errors, fieldErrors, queryBool, type StatusCause } from '../../apimachinery/index.ts';

/**
 * Which state of the store a list reads, as resourceVersion and
 * resourceVersionMatch ask: the newest, one not older than a revision, or
 * exactly one revision (a snapshot, which may be compacted away).
 */
export type ListRead = { match: 'Latest' } | { match: 'NotOlderThan'; revision: number } | { match: 'Exact'; revision: number };

export const LATEST: ListRead = { match: 'Latest' };
/** resourceVersion "0": whatever state is at hand, the watch cache's included */
export const ANY: ListRead = { match: 'NotOlderThan', revision: 0 };

/**
 * The read a list's query asks for, after the checks kube-apiserver makes
 * on ListOptions. Without resourceVersionMatch a revision with a limit is an
 * exact read (the legacy paging meaning), without a limit a minimum.
 */
export function listReadOf(q: URLSearchParams, limit: number | undefined): ListRead {
  const rv = q.get('resourceVersion') ?? '';
  const match = q.get('resourceVersionMatch') ?? '';
  const cont = q.get('continue') ?? '';
  const causes: StatusCause[] = [];
  if (match) {
    if (!rv) causes.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (cont) causes.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') causes.push(fieldErrors.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && rv === '0')
      causes.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (q.has('sendInitialEvents')) causes.push(fieldErrors.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  if (causes.length > 0) throw errors.invalid('ListOptions', 'meta.k8s.io', '', causes);
  if (!rv) return LATEST;
  if (!/^\d+$/.test(rv))
    throw errors.badRequest(`invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(rv)}: must be a non-negative integer`);
  // "0" asks for any state at all (a continue token, if any, pins its own snapshot)
  if (rv === '0') return ANY;
  if (cont) throw errors.badRequest('specifying resource version is not allowed when using continue');
  const revision = Number(rv);
  if (match === 'Exact' || (!match && limit)) return { match: 'Exact', revision };
  return { match: 'NotOlderThan', revision };
}

/**
 * The checks kube-apiserver makes on a watch's ListOptions: resourceVersionMatch
 * only with sendInitialEvents (a streaming list), and then NotOlderThan; the
 * stream's end bookmark needs bookmarks allowed.
 */
export function checkWatchOptions(q: URLSearchParams): void {
  const match = q.get('resourceVersionMatch') ?? '';
  const initialEvents = q.has('sendInitialEvents');
  const causes: StatusCause[] = [];
  if (initialEvents && match !== 'NotOlderThan')
    causes.push(fieldErrors.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
  if (match) {
    if (!initialEvents)
      causes.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    if (match !== 'NotOlderThan') causes.push(fieldErrors.notSupported('resourceVersionMatch', match, ['NotOlderThan']));
    if (q.get('continue')) causes.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
  }
  if (initialEvents && !queryBool(q.get('allowWatchBookmarks')))
    causes.push(fieldErrors.forbidden('allowWatchBookmarks', 'sendInitialEvents requires allowWatchBookmarks to be true'));
  if (causes.length > 0) throw errors.invalid('ListOptions', 'meta.k8s.io', '', causes);
}

/** What kube-apiserver answers when a list asks for a revision the store has not reached. */
export function tooLargeResourceVersion(asked: number, current: number): ApiError {
  return new ApiError('Timeout', `Too large resource version: ${asked}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

export const LIST_TOO_OLD = 'The resourceVersion for the provided list is too old.';
export const CONTINUE_TOO_OLD =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';
