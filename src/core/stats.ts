/** Order statistics for reports: nearest-rank percentiles over a copy of the samples. */
export interface Summary {
  p50: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  // p × n first: p / 100 is inexact (0.999 is stored a hair high), and the ceiling then took the next sample.
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(samples: readonly number[], digits = 3): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Number(x.toFixed(digits));
  return { p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s.length ? s[s.length - 1] : 0) };
}

/** The upper median (for an even count, the larger middle value): what the benchmarks report over repeats. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let t = 0;
  for (const x of xs) t += x;
  return t / xs.length;
}
