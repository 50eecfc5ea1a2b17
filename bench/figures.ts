// The figures of record (bench/figures.json) and a run's figures set against
// them. A scenario prints one JSON object per case; a case is named by its
// scenario (or name), its string fields and the parameters that set it up
// (clients, pods …); every other number in it, nested ones by dotted path, is
// a figure.

/** Numbers that set a case up rather than measure it. */
const PARAMETERS = new Set([
  'n',
  'clients',
  'nodes',
  'pods',
  'watchers',
  'objects',
  'services',
  'endpoints_per_service',
  'downMinutes',
  'minutes',
  'window',
  'cores',
]);
/** Strings that describe the machine, not the case. */
const MACHINE = new Set(['node', 'cpu']);
/** Figures where more is better; for all others (times, sizes, ratios to a floor) less is. */
const HIGHER_IS_BETTER = /(PerSec|per_second|share)$/;
/** A change smaller than this is noise on this machine, not a regression. */
export const NOISE = 0.1;

export type Figures = Record<string, Record<string, number>>;

export interface FiguresOfRecord {
  machine: { cpu: string; cores: number; memoryGiB: number; node: string };
  date: string;
  commit: string;
  figures: Figures;
}

/** The cases of one scenario's output (JSON lines), keyed `file: identity`, with their figures. */
export function figuresOf(file: string, output: string): Figures {
  const out: Figures = {};
  for (const line of output.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    const identity: string[] = [];
    const figures: Record<string, number> = {};
    const walk = (value: unknown, path: string) => {
      if (typeof value === 'number') figures[path] = value;
      else if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    };
    for (const [k, v] of Object.entries(record)) {
      if (MACHINE.has(k)) continue;
      if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && PARAMETERS.has(k))) identity.push(`${k}=${v}`);
      else walk(v, k);
    }
    let key = `${file}: ${identity.join(' ')}`;
    for (let n = 2; key in out; n++) key = `${file}: ${identity.join(' ')} #${n}`;
    out[key] = figures;
  }
  return out;
}

export interface Comparison {
  key: string;
  figure: string;
  record: number | undefined;
  now: number;
  /** (now − record) / record; undefined without a record */
  change: number | undefined;
  verdict: 'better' | 'worse' | 'same' | 'new';
}

/** Each figure of a run beside its record: how far it moved, and whether that is a regression beyond the noise. */
export function compareFigures(record: Figures, now: Figures): Comparison[] {
  const rows: Comparison[] = [];
  for (const [key, figures] of Object.entries(now)) {
    for (const [figure, value] of Object.entries(figures)) {
      const was = record[key]?.[figure];
      if (was === undefined || was === 0) {
        rows.push({ key, figure, record: was, now: value, change: undefined, verdict: was === value ? 'same' : 'new' });
        continue;
      }
      const change = (value - was) / Math.abs(was);
      const improved = HIGHER_IS_BETTER.test(figure) ? change > 0 : change < 0;
      rows.push({ key, figure, record: was, now: value, change, verdict: Math.abs(change) <= NOISE ? 'same' : improved ? 'better' : 'worse' });
    }
  }
  return rows;
}

/** The comparison as a plain table, worst first within each case. */
export function renderComparison(rows: Comparison[]): string {
  const pct = (c: number | undefined) => (c === undefined ? '' : `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`);
  const lines = rows.map((r) => [r.key, r.figure, r.record === undefined ? '-' : String(r.record), String(r.now), pct(r.change), r.verdict.toUpperCase()]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...lines.map((l) => (l[i] as string).length), 0));
  return lines.map((l) => l.map((cell, i) => (i < 5 ? cell.padEnd(widths[i] as number) : cell)).join('  ')).join('\n');
}
