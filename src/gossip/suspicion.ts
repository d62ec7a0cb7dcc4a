/**
 * Lifeguard suspicion (Dadgar et al. 2018, memberlist's suspicion.go): between "phi passed the threshold" and
 * "dead" a member is suspect, so that it can refute (alive at a higher incarnation) and its other monitors can
 * confirm. Each distinct monitor that suspects it is a vote; only a monitor whose own phi still says so
 * declares the death, once the timeout, shorter the more votes, has passed.
 *
 * Why: a lone monitor on a bad link, or paused itself, must not kill a healthy member (the refutation window),
 * while independent confirmations make a real failure final sooner.
 */
import type { CoreState } from './core-state.js';
import { type Member, Status } from './member.js';
import { setClaim } from './membership.js';

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

export function addVote(s: CoreState, m: Member, origin: string, rumor: boolean): void {
  const susp = s.suspicions.get(m.name);
  if (!susp || susp.gen !== m.gen || susp.inc !== m.inc) return;
  if (susp.origins.has(origin)) return;
  susp.origins.add(origin);
  s.metrics.inc('suspicion_confirmations');
  if (rumor) {
    s.rumors.set(m.name, { name: m.name, gen: m.gen, inc: m.inc, status: Status.suspect, origin });
    s.news = true;
  }
}

/** Declares the deaths whose time has come; returns the earliest pending suspicion timeout. */
export function checkSuspicions(s: CoreState): number {
  let due = Number.POSITIVE_INFINITY;
  if (s.suspicions.size === 0) return due;
  const c = s.config;
  for (const [n, susp] of s.suspicions) {
    const m = s.members.get(n);
    if (!m || m.status !== Status.suspect || m.gen !== susp.gen || m.inc !== susp.inc) {
      s.suspicions.delete(n);
      continue;
    }
    const mine = susp.origins.has(s.name);
    const timeout = mine
      ? suspicionTimeout(susp.origins.size, c.suspicionConfirmations, c.suspicionMinMs, c.suspicionMaxMs)
      : 2 * c.suspicionMaxMs; // safety net when every monitor is gone; monitors normally decide
    if (s.now - susp.startedAt < timeout) {
      if (susp.startedAt + timeout < due) due = susp.startedAt + timeout;
      continue;
    }
    if (mine) {
      const h = s.histories.get(n);
      // Only declare while our own evidence still holds (phi may have recovered: wait for the refutation).
      if (h && !h.exceeds(s.now, c.phiThreshold)) continue;
    }
    s.metrics.inc('deaths_declared');
    setClaim(s, m, { name: n, gen: m.gen, inc: m.inc, status: Status.dead, ttlMs: 0 }, s.name);
    s.suspicions.delete(n);
  }
  return due;
}
