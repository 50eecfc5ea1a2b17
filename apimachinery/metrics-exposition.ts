import type { IncomingMessage, ServerResponse } from 'node:http';

// A scrape is answered in the format its Accept header prefers: Prometheus'
// text format 0.0.4, or OpenMetrics 1.0.0 (what Prometheus asks for first).
// Both carry the same series under the same names: a counter whose name has
// no `_total` (kubelet_evictions) is typed `unknown` in OpenMetrics rather
// than have its samples renamed, so a query works whichever format was scraped.

const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const OPENMETRICS_VERSIONS = new Set(['1.0.0', '0.0.1']);

/** One media range of an Accept header: its type, parameters and weight. */
function mediaRanges(accept: string): { type: string; params: Map<string, string>; q: number }[] {
  return accept.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim());
    const params = new Map(
      rest.map((p) => {
        const eq = p.indexOf('=');
        return eq < 0
          ? [p.toLowerCase(), '']
          : [
              p.slice(0, eq).trim().toLowerCase(),
              p
                .slice(eq + 1)
                .trim()
                .replace(/^"|"$/g, ''),
            ];
      }),
    );
    const q = params.has('q') ? Number(params.get('q')) : 1;
    return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
  });
}

/** Whether a scraper's Accept header prefers OpenMetrics (a version we write) to the text format. */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openMetrics = 0;
  let text = 0;
  for (const r of mediaRanges(accept)) {
    const version = r.params.get('version');
    if (r.type === 'application/openmetrics-text' && (version === undefined || OPENMETRICS_VERSIONS.has(version))) openMetrics = Math.max(openMetrics, r.q);
    if (r.type === 'text/plain' || r.type === 'text/*' || r.type === '*/*') text = Math.max(text, r.q);
  }
  return openMetrics > 0 && openMetrics >= text;
}

/** Rewrites text-format 0.0.4 exposition as OpenMetrics 1.0.0. */
export function toOpenMetrics(text: string): string {
  // a family's name as OpenMetrics spells it, by its text-format name
  const renamed = new Map<string, { name: string; type: string }>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type = ''] = m;
    if (type === 'untyped') renamed.set(name, { name, type: 'unknown' });
    if (type === 'counter') renamed.set(name, name.endsWith('_total') ? { name: name.slice(0, -'_total'.length), type } : { name, type: 'unknown' });
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (!line.startsWith('#')) {
      out.push(line);
      continue;
    }
    // OpenMetrics has no free comments: only a family's HELP and TYPE are kept
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (!meta) continue;
    const [, keyword, name = '', rest = ''] = meta;
    const family = renamed.get(name);
    if (keyword === 'TYPE') out.push(`# TYPE ${family?.name ?? name} ${family?.type ?? rest}`);
    // the text format leaves a double quote in help text as it is; OpenMetrics escapes it
    else out.push(`# HELP ${family?.name ?? name} ${rest.replaceAll('"', '\\"')}`);
  }
  return `${out.join('\n')}\n# EOF\n`;
}

/** Answers a scrape with text-format series, converted to OpenMetrics when the scraper prefers it. */
export function serveExposition(req: IncomingMessage, res: ServerResponse, text: string): void {
  if (prefersOpenMetrics(req.headers.accept)) res.writeHead(200, { 'content-type': OPENMETRICS_CONTENT_TYPE }).end(toOpenMetrics(text));
  else res.writeHead(200, { 'content-type': TEXT_CONTENT_TYPE }).end(text);
}
