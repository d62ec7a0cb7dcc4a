/**
 * The ELEX reward shape: the user's rating clamped to [−1, 1], +0.5 when the query was resolved, minus a
 * latency penalty (0.1 per second, at most 0.3) and a consultation penalty (0.05 per peer consulted, at most
 * 0.2). Every reward therefore lies in [REWARD_MIN, REWARD_MAX], which bounds every legitimate Q value.
 */
export interface Outcome {
  /** User rating; clamped to [−1, 1]. Non-finite ratings count as 0. */
  rating: number;
  resolved: boolean;
  latencyMs: number;
  consultations: number;
}

export const REWARD_MIN = -1.5;
export const REWARD_MAX = 1.5;

export function reward(o: Outcome): number {
  const rating = Number.isFinite(o.rating) ? Math.max(-1, Math.min(1, o.rating)) : 0;
  // A NaN latency or consultation count costs nothing; +∞ costs the cap (as any large value does).
  const latency = o.latencyMs > 0 ? Math.min(0.3, o.latencyMs / 10_000) : 0;
  const consult = o.consultations > 0 ? Math.min(0.2, 0.05 * o.consultations) : 0;
  return rating + (o.resolved ? 0.5 : 0) - latency - consult;
}

/** Q bounds implied by a reward range and γ: [min(0, r_min)/(1−γ), max(0, r_max)/(1−γ)]. */
export interface QBounds {
  min: number;
  max: number;
}

export function qBounds(rMin: number, rMax: number, gamma: number): QBounds {
  return { min: Math.min(0, rMin) / (1 - gamma), max: Math.max(0, rMax) / (1 - gamma) };
}
