/**
 * Lifeguard's suspicion timeout (Dadgar et al. 2018, memberlist's suspicion.go): a suspicion starts with a
 * long timeout that shrinks as independent confirmations arrive,
 *
 *   timeout(C) = max(min, max - (max - min) * log(C) / log(K + 1))
 *
 * C = distinct monitors that suspect the member (the first one included, so one suspicion alone gives max),
 * K = confirmations expected. memberlist writes the same as log(c + 1) with c the confirmations after the first.
 */
export function suspicionTimeout(
  confirmations: number,
  expected: number,
  minMs: number,
  maxMs: number,
): number {
  const c = Math.max(0, confirmations - 1);
  const frac = Math.log(c + 1) / Math.log(expected + 1);
  return Math.max(minMs, Math.floor(maxMs - (maxMs - minMs) * frac));
}

/** One suspicion of one incarnation of a member, as this member sees it. */
export interface Suspicion {
  gen: number;
  inc: number;
  /** Local time this member first learned of it. */
  startedAt: number;
  /** Monitors that independently suspect it. */
  origins: Set<string>;
}
