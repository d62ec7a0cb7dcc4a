/**
 * Content checks run on every decoded delta before any merge rule sees it: every value finite and within the
 * Q bounds, fresh visits plausible for the interactions the delta covers, and those interactions at most a
 * fixed per-delta maximum (`max_interactions_per_delta`; not scaled by the time since the sender's previous
 * delta). A delta failing any check is refused whole: an agent that sends one bad entry is not trusted for the
 * others.
 */
import { ElexError } from '../core/index.js';
import type { Delta } from './delta-codec.js';
import type { QBounds } from './reward.js';

export interface ValidationLimits {
  bounds: QBounds;
  /** The most interactions a sender can plausibly have had since its previous delta. */
  maxInteractions: number;
}

export type Verdict = { ok: true } | { ok: false; code: string; reason: string };

export function checkDelta(d: Delta, limits: ValidationLimits): Verdict {
  // f32 rounding of a value on the bound must not refuse it.
  const slack = 1e-5 * (limits.bounds.max - limits.bounds.min);
  const min = limits.bounds.min - slack;
  const max = limits.bounds.max + slack;
  if (d.interactions > limits.maxInteractions) {
    return {
      ok: false,
      code: 'E_IMPLAUSIBLE',
      reason: `${d.interactions} interactions claimed, at most ${limits.maxInteractions} plausible`,
    };
  }
  let fresh = 0;
  for (let i = 0; i < d.count; i++) {
    const q = d.q[i];
    if (!Number.isFinite(q)) return { ok: false, code: 'E_NON_FINITE', reason: `entry ${i} has q = ${q}` };
    if (q < min || q > max) {
      return {
        ok: false,
        code: 'E_OUT_OF_BOUNDS',
        reason: `entry ${i} has q = ${q} outside [${min}, ${max}]`,
      };
    }
    fresh += d.fresh[i];
  }
  if (d.kind === 'peer' && fresh > d.interactions) {
    return {
      ok: false,
      code: 'E_IMPLAUSIBLE',
      reason: `${fresh} fresh visits reported for ${d.interactions} interactions`,
    };
  }
  return { ok: true };
}

export function validateDelta(d: Delta, limits: ValidationLimits): void {
  const v = checkDelta(d, limits);
  if (!v.ok) throw new ElexError(v.code, v.reason);
}

/**
 * TD reachability: an honest report for an entry is the consensus value g after at most `steps` Q-learning
 * updates whose targets lie in [tMin, tMax], so it lies in
 * [(1−α)^k·g + (1−(1−α)^k)·tMin, (1−α)^k·g + (1−(1−α)^k)·tMax] with k = steps. A report outside cannot come
 * from learning; it is refused. tMin/tMax are r_min + γ·min(0, V_min) and r_max + γ·max(0, V_max) over the
 * consensus table (plus a small slack), far tighter than the Q bounds.
 */
export function tdReachable(
  g: number,
  q: number,
  steps: number,
  alpha: number,
  tMin: number,
  tMax: number,
  slack = 1e-6,
): boolean {
  const keep = (1 - alpha) ** Math.max(0, steps);
  const lo = keep * g + (1 - keep) * Math.min(tMin, g);
  const hi = keep * g + (1 - keep) * Math.max(tMax, g);
  return q >= lo - slack && q <= hi + slack;
}

/**
 * The TD-target range [tMin, tMax] for `tdReachable` over a consensus table whose values span [vMin, vMax]
 * (both taken with 0 included): r + γ·V(s′) over the reward range and the table's values, widened by one TD
 * step of V itself, because a member's own updates within the round can move next-state values that far.
 */
export function tdTargetRange(
  vMin: number,
  vMax: number,
  rMin: number,
  rMax: number,
  gamma: number,
  alpha: number,
): { tMin: number; tMax: number } {
  return {
    tMin: rMin + gamma * (vMin - alpha * Math.max(0, vMin - rMin - gamma * vMin)),
    tMax: rMax + gamma * (vMax + alpha * Math.max(0, rMax + gamma * vMax - vMax)),
  };
}
