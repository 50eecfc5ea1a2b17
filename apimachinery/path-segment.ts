import { errors } from './status.ts';

/**
 * The text of one URL path segment, as Go's url.PathUnescape reads it: a
 * malformed escape (`%ZZ`, a lone `%`) is refused with 400, and escaped
 * bytes that are no UTF-8 (`%ff`) become U+FFFD instead of failing.
 */
export function unescapePathSegment(segment: string): string {
  const bad = /%(?![0-9a-fA-F]{2})/.exec(segment);
  if (bad) throw errors.badRequest(`invalid URL escape ${JSON.stringify(segment.slice(bad.index, bad.index + 3))}`);
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    const bytes = Buffer.from(
      segment.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      'latin1',
    );
    return bytes.toString('utf8');
  }
}
