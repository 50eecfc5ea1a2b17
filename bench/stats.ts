/** The nearest-rank percentile of unsorted samples. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/** Count, p50, p99, min and max of millisecond samples, rounded to `digits` decimals (whole milliseconds unless asked). */
export function summary(xs: number[], digits = 0) {
  const round = (x: number) => +x.toFixed(digits);
  return {
    n: xs.length,
    p50_ms: round(percentile(xs, 50)),
    p99_ms: round(percentile(xs, 99)),
    min_ms: round(Math.min(...xs)),
    max_ms: round(Math.max(...xs)),
  };
}
