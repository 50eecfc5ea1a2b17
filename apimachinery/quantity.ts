// Kubernetes resource quantities ("100m", "64Mi", "1.5G", "2e3").

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

export function isQuantity(s: string): boolean {
  const m = QUANTITY.exec(s);
  return !!m && !Number.isNaN(Number(m[1])) && (m[1] ?? '').split('.').length <= 2;
}

/** The quantity's value as a number (cores for cpu, bytes for memory). Throws on bad syntax. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = QUANTITY.exec(q.trim());
  if (!m || !isQuantity(q.trim())) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return n * (BINARY[suffix] as number);
  if (suffix in DECIMAL) return n * (DECIMAL[suffix] as number);
  return n * 10 ** Number(suffix.slice(1));
}

/** cpu quantity → millicores, rounded up as Kubernetes does. */
export function milliCpu(q: string | number): number {
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

/**
 * A whole number in Kubernetes' canonical quantity form: BinarySI uses the
 * largest power of 1024 that divides it ("100Mi"), DecimalSI the largest
 * power of 1000 ("32k"); otherwise the plain number.
 */
export function formatQuantity(n: number, format: 'BinarySI' | 'DecimalSI'): string {
  const value = Math.trunc(n);
  if (value === 0) return '0';
  const [base, suffixes] = format === 'BinarySI' ? [1024, ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei']] : [1000, ['', 'k', 'M', 'G', 'T', 'P', 'E']];
  let v = value;
  let i = 0;
  while (i < suffixes.length - 1 && v % base === 0) {
    v /= base;
    i++;
  }
  return `${v}${suffixes[i]}`;
}
