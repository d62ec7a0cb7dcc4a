/**
 * Byzantine behaviours of the evaluation. Attackers collude: each round they share one target set drawn from
 * the entries honest agents reported in that round (a rushing adversary that sees the round's gossip), and
 * each claims exactly the fresh-visit budget an honest agent has (one visit per target, `syncEvery` in all),
 * so their deltas are plausible. Values per entry e = (s, a), with μ, σ the honest reports' mean and spread
 * and best / worst the consensus greedy and worst actions in s:
 *
 * - visit-inflation: claims 2³²−1 lifetime visits on every available entry (the fresh-visit budget on the
 *                    targets, 0 fresh elsewhere); on the targets q = the lowest value TD reachability
 *                    accepts for the best action, the highest for the others, from the most favourable value
 *                    in the check's window (poison that passes validation); elsewhere, unchecked and of no
 *                    weight under a robust rule, the Q bounds.
 * - visit-inflation-quiet: the same pushing only as far as `fresh` TD steps reach. With the check's slack
 *                    (`--td-slack 1`) the loud variant goes one step further (a pull of 3.5–5 × the median
 *                    reporter against 1.4–2.4, inside reporter trust's partial band); without it (the
 *                    default) the two coincide.
 * - noise:           q uniform in [Q_min, Q_max].
 * - invalid:         NaN, +Inf or 10·Q_max (refused by validation).
 * - sign-flip:       best and worst actions' values swapped.
 * - alie:            μ ∓ z·σ ("a little is enough", Baruch et al. 2019; z from n and f), against the best action.
 * - ipm:             −ε·μ with ε = 0.5 (inner-product manipulation, Xie et al. 2020).
 * - reward-flip:     attackers learn with r′ = r_min + r_max − r and report honestly formatted deltas.
 * - stale-replay:    values of the consensus 50 rounds ago; plus replays of honest signed deltas (refused:
 *                    a (life, seq) its origin used already, E_REPLAY).
 * - equivocation:    sign-flipped values to the aggregator, honest-looking ones to everyone else, every
 *                    round. Each version is signed for its recipient (`Delta.to`), only the aggregator merges
 *                    peer deltas (followers refuse them, E_FOLLOWING) and src/learning has no check that
 *                    compares the versions, so the aggregator's copy meets the same checks as a sign flip.
 * - forged-origin:   a poisoned delta claiming an honest origin, signed with the attacker's key (refused by
 *                    the signature check; exercised through the real codec).
 */
import type { Rng } from '../../core/index.js';
import type { QBounds } from '../../learning/index.js';

export const ATTACK_NAMES = [
  'none',
  'visit-inflation',
  'visit-inflation-quiet',
  'noise',
  'invalid',
  'sign-flip',
  'alie',
  'ipm',
  'reward-flip',
  'stale-replay',
  'equivocation',
  'forged-origin',
] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

/** Inverse standard normal CDF (Acklam's rational approximation; |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** ALIE's z for n reporters of which f are Byzantine: s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − s)/n). */
export function alieZ(n: number, f: number): number {
  const s = Math.floor(n / 2 + 1) - f;
  return Math.max(0, normalQuantile((n - s) / n));
}

/** What a Byzantine reporter sees of one entry e = (s, a) when it forges its value (a rushing adversary). */
export interface EntryView {
  entry: number;
  state: number;
  action: number;
  /** Fresh visits it claims for the entry (0: reported with no weight under a robust rule). */
  fresh: number;
  /** The consensus's greedy and worst actions in `state`. */
  best: number;
  worst: number;
  /** Mean and spread of the honest reports of the entry this round (the consensus and 0 if none). */
  mu: number;
  sd: number;
  /** ALIE's z (`alieZ`). */
  z: number;
  consensus: Float64Array;
  /** The consensus 50 rounds ago (the consensus itself until there is one). */
  stale: Float64Array;
  /** The values entries were published with in the reachability check's window, newest first. */
  bases: readonly Float64Array[];
  /** The TD target range and the steps of slack the check allows. */
  tMin: number;
  tMax: number;
  slack: number;
  actions: number;
  alpha: number;
  bounds: QBounds;
  round: number;
  reporter: number;
  rng: Rng;
}

/** The value an attack reports for one entry (the module comment says what each attack does and why). */
export function poisonedValue(attack: AttackName, x: EntryView): number {
  const isBest = x.action === x.best;
  switch (attack) {
    case 'visit-inflation':
    case 'visit-inflation-quiet': {
      // The most damaging values a TD-reachability check still accepts: the best action as low as reachable,
      // every other one as high, so a worse action becomes greedy. The quiet variant pushes to what `fresh`
      // steps reach (the check may allow `slack` more). Both push from the most favourable value the entry had
      // in the window. Entries without fresh visits are not checked (they weigh nothing under a robust rule):
      // the bounds, for the plain rule's claimed visits.
      if (x.fresh === 0) return isBest ? x.bounds.min : x.bounds.max;
      const keep = (1 - x.alpha) ** (attack === 'visit-inflation' ? x.fresh + x.slack : x.fresh);
      let v = isBest ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      for (const b of x.bases) {
        const g = b[x.entry];
        v = isBest
          ? Math.min(v, keep * g + (1 - keep) * Math.min(x.tMin, g))
          : Math.max(v, keep * g + (1 - keep) * Math.max(x.tMax, g));
      }
      return v;
    }
    case 'noise':
      return x.bounds.min + x.rng.next() * (x.bounds.max - x.bounds.min);
    case 'invalid':
      return [Number.NaN, Number.POSITIVE_INFINITY, x.bounds.max * 10][(x.round + x.reporter) % 3];
    case 'sign-flip':
    case 'equivocation':
    case 'forged-origin': {
      const row = x.state * x.actions;
      if (isBest) return x.consensus[row + x.worst];
      return x.action === x.worst ? x.consensus[row + x.best] : x.mu;
    }
    case 'alie':
      return isBest ? x.mu - x.z * x.sd : x.mu + x.z * x.sd;
    case 'ipm':
      return -0.5 * x.mu;
    case 'stale-replay':
      return x.stale[x.entry];
    default:
      return x.mu;
  }
}
