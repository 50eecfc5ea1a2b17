/** One entry of a CRI container log: `2026-01-02T03:04:05.123456789Z stdout F hello`. */
export interface LogEntry {
  timestamp: string;
  stream: 'stdout' | 'stderr';
  /** false for a partial line (P): no newline follows it */
  full: boolean;
  content: string;
}

export function parseCriLogLine(line: string): LogEntry | null {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return null;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return { timestamp: line.slice(0, a), stream, full: !tag.split(':').includes('P'), content: c < 0 ? '' : line.slice(c + 1) };
}

export interface LogOptions {
  timestamps?: boolean;
  tailLines?: number;
  sinceMs?: number;
  limitBytes?: number;
}

/** Renders entries the way `kubectl logs` prints them, applying since and tail. */
export function renderLog(entries: LogEntry[], opts: LogOptions): string {
  let selected = opts.sinceMs !== undefined ? entries.filter((e) => Date.parse(e.timestamp) >= (opts.sinceMs as number)) : entries;
  if (opts.tailLines !== undefined) {
    // a line is one full entry plus the partial entries before it
    let lines = 0;
    let i = selected.length;
    while (i > 0) {
      if (selected[i - 1]?.full) {
        if (lines === opts.tailLines) break;
        lines++;
      }
      i--;
    }
    selected = selected.slice(i);
  }
  let out = '';
  for (const e of selected) out += `${opts.timestamps ? `${e.timestamp} ` : ''}${e.content}${e.full ? '\n' : ''}`;
  if (opts.limitBytes !== undefined) out = Buffer.from(out).subarray(0, opts.limitBytes).toString();
  return out;
}

export function parseCriLog(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const e = parseCriLogLine(line);
    if (e) out.push(e);
  }
  return out;
}
