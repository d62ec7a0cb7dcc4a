/**
 * Paired comparison of an attack's runs with the baseline's on the same seeds. Both federate the same honest
 * agents with the same random streams, so a seed's difference isolates what the attack changed; its spread
 * across seeds is the trajectory spread the worst-agent criterion also sees.
 */
import { normalQuantile } from './attacks.js';

export interface PairedDiff {
  /** Mean over seeds of (attack − baseline) honest mean ρ. */
  mean_diff: number;
  /** Half-width of the 95 % t interval of that mean (0 with fewer than 2 seeds). */
  ci95: number;
  /** Seeds on which the attack's honest mean ρ is below the baseline's. */
  worse_seeds: number;
  /** Seeds on which it is exactly the baseline's (same greedy policies' values; on elex-query ρ saturates). */
  equal_seeds: number;
}

/** Student's t quantiles at 0.975 for 1–30 degrees of freedom (the standard table, 3 decimals). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Student's t quantile at 0.975: the table up to 30 degrees of freedom, Cornish–Fisher above (error < 1e-4). */
export function t975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be at least 1, got ${df}`);
  if (df <= 30) return T975[Math.floor(df) - 1];
  const z = normalQuantile(0.975);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}

export function pairedDiff(attack: readonly number[], baseline: readonly number[]): PairedDiff {
  if (attack.length !== baseline.length) throw new RangeError('paired samples differ in length');
  const n = attack.length;
  const d = attack.map((a, i) => a - baseline[i]);
  const mean = n > 0 ? d.reduce((s, x) => s + x, 0) / n : 0;
  const sd = n > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  const r4 = (x: number) => Number(x.toFixed(4));
  return {
    mean_diff: r4(mean),
    ci95: n > 1 ? r4((t975(n - 1) * sd) / Math.sqrt(n)) : 0,
    worse_seeds: d.filter((x) => x < 0).length,
    equal_seeds: d.filter((x) => x === 0).length,
  };
}
