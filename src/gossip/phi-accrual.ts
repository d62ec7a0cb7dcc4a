/**
 * Phi-accrual failure detection, Akka's "normal" model (Hayashibara et al. 2004 with Akka's parameters):
 *
 *   phi(t) = -log10(1 - F(y)),   y = (t - (mu + acceptablePause)) / max(sigma, minStdDev)
 *
 * t is the time since the last heartbeat, mu and sigma the mean and standard deviation of the last
 * `sampleWindow` inter-arrival times, and F the logistic approximation of the standard normal CDF,
 * F(y) = 1 / (1 + exp(-y (1.5976 + 0.070566 y^2))). With 1 s heartbeats, sigma at its 100 ms floor and a
 * 3 s acceptable pause, phi crosses 8 at t = 4.52 s. (Cassandra's exponential model crosses 8 at 18.4 mu,
 * chitchat's at 8 mu: we chose the normal model because it adapts to jitter and loss, not only to the mean.)
 */

/** phi for a gap of `elapsedMs` given the distribution of inter-arrival times. Pure, always finite. */
export function phi(
  elapsedMs: number,
  meanMs: number,
  stdDevMs: number,
  acceptablePauseMs: number,
  minStdDevMs: number,
): number {
  const sd = Math.max(stdDevMs, minStdDevMs);
  const y = (elapsedMs - (meanMs + acceptablePauseMs)) / sd;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  // Two algebraically equal forms of -log10(1 - F(y)), each used on the side where it keeps precision.
  const p = elapsedMs > meanMs + acceptablePauseMs ? e / (1 + e) : 1 - 1 / (1 + e);
  if (p <= 0) return Number.MAX_VALUE;
  return -Math.log10(p);
}

/** The gap after the last heartbeat at which phi reaches `threshold` (for docs and tests: inverts phi). */
export function timeToPhi(
  threshold: number,
  meanMs: number,
  stdDevMs: number,
  acceptablePauseMs: number,
  minStdDevMs: number,
): number {
  let lo = 0;
  let hi = meanMs + acceptablePauseMs + 100 * Math.max(stdDevMs, minStdDevMs);
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (phi(mid, meanMs, stdDevMs, acceptablePauseMs, minStdDevMs) < threshold) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Up to a gap of mean + acceptable pause, y <= 0 and phi <= log10(2) ~ 0.30103: a threshold at least this
 * (log10(2) rounded up) cannot be exceeded there, so the cheap bound applies. Below it, phi is computed.
 */
export const PHI_AT_BOUND = 0.302;

export interface PhiParams {
  sampleWindow: number;
  minStdDevMs: number;
  acceptablePauseMs: number;
  firstHeartbeatEstimateMs: number;
}

/** Heartbeats a duplicate or a reordered datagram may lag behind the last one (see `fresh`). */
const SEQ_WINDOW = 16;

const S_COUNT = 0;
const S_HEAD = 1;
const S_SUM = 2;
const S_SUMSQ = 3;
const S_LAST = 4;
const S_SEQ = 5;
const S_GRACE = 6;
const S_SAMPLES = 7;

/**
 * Inter-arrival history of one monitored member: a ring buffer with running sums, O(1) per heartbeat.
 * It starts with two synthetic samples (estimate ± estimate/4) so that mu = estimate and
 * sigma = estimate/4 before any real sample, and with a synthetic arrival at creation: a member that never
 * answers is suspected after the same delay as one that stopped answering.
 */
export class HeartbeatHistory {
  /**
   * All the state in one array (an arrival touches it and nothing else of the history's but `params`):
   * [count, head, sum, sum of squares, last arrival, highest heartbeat seq, whether the clock was restarted by
   * `grace` since the last arrival, then the ring of `sampleWindow` samples].
   */
  private readonly s: Float64Array;

  constructor(
    private readonly params: PhiParams,
    now: number,
  ) {
    this.s = new Float64Array(S_SAMPLES + Math.max(2, params.sampleWindow));
    const est = params.firstHeartbeatEstimateMs;
    this.add(est - est / 4);
    this.add(est + est / 4);
    this.s[S_LAST] = now;
    this.s[S_SEQ] = -1;
  }

  /**
   * Whether heartbeat `seq` is a new one, recording it. A datagram the network duplicated or reordered (a seq
   * at most `SEQ_WINDOW` below the last one, or equal) is no new heartbeat: counted, it would record a ~0 ms
   * interval. A seq further below is taken as new: heartbeats are not authenticated per member, and one
   * datagram claiming a huge seq must not make every later real heartbeat look like a duplicate.
   */
  fresh(seq: number): boolean {
    const last = this.s[S_SEQ];
    if (seq <= last && seq >= last - SEQ_WINDOW) return false;
    this.s[S_SEQ] = seq;
    return true;
  }

  /** When the last heartbeat arrived (or the history was created or given grace). */
  get lastArrival(): number {
    return this.s[S_LAST];
  }

  private add(x: number): void {
    const s = this.s;
    const window = s.length - S_SAMPLES;
    const head = s[S_HEAD];
    if (s[S_COUNT] === window) {
      const old = s[S_SAMPLES + head];
      s[S_SUM] -= old;
      s[S_SUMSQ] -= old * old;
    } else s[S_COUNT]++;
    s[S_SAMPLES + head] = x;
    s[S_HEAD] = (head + 1) % window;
    s[S_SUM] += x;
    s[S_SUMSQ] += x * x;
  }

  /**
   * Records a heartbeat arriving at `now`; arrivals out of order (now < last) are ignored. An interval that
   * ends with phi above `threshold` restarts the clock but is not learnt (Akka's rule: one long pause, the
   * member suspected meanwhile, would skew mu and sigma for a whole window).
   */
  arrive(now: number, threshold = Number.POSITIVE_INFINITY): void {
    const last = this.s[S_LAST];
    if (now < last) return;
    // After `grace` the time since `last` is no interval between two heartbeats: not learnt either.
    if (this.s[S_GRACE] === 1) this.s[S_GRACE] = 0;
    else if (!this.exceeds(now, threshold)) this.add(now - last);
    this.s[S_LAST] = now;
  }

  /**
   * Restarts the clock without recording a sample (the monitor itself was stalled, or the member refuted a
   * suspicion: no evidence either way); the next arrival restarts it again without recording one.
   */
  grace(now: number): void {
    if (now > this.s[S_LAST]) this.s[S_LAST] = now;
    this.s[S_GRACE] = 1;
  }

  get mean(): number {
    return this.s[S_SUM] / this.s[S_COUNT];
  }

  get stdDev(): number {
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.s[S_SUMSQ] / this.s[S_COUNT] - m * m));
  }

  /** phi > threshold, cheaply: phi stays below 1 until the gap passes mean + acceptable pause. */
  exceeds(now: number, threshold: number): boolean {
    const s = this.s;
    const gap = now - s[S_LAST];
    if (gap <= s[S_SUM] / s[S_COUNT] + this.params.acceptablePauseMs && threshold >= PHI_AT_BOUND)
      return false;
    return this.phi(now) > threshold;
  }

  /**
   * The earliest time at which `exceeds(t, threshold)` can hold if no heartbeat arrives (a driver ticks then):
   * the cheap bound while the gap is below mean + acceptable pause, the exact crossing (bisection) past it.
   * Arrivals only move it later, so a value computed earlier is always a safe lower bound.
   */
  nextCheck(now: number, threshold: number): number {
    const s = this.s;
    const mean = s[S_SUM] / s[S_COUNT];
    const bound = s[S_LAST] + mean + this.params.acceptablePauseMs;
    if (now < bound && threshold >= PHI_AT_BOUND) return bound;
    const t =
      s[S_LAST] +
      timeToPhi(threshold, mean, this.stdDev, this.params.acceptablePauseMs, this.params.minStdDevMs) +
      0.01;
    return t > now ? t : now + 1;
  }

  /**
   * The last arrival plus the mean interval and the acceptable pause: before it `exceeds` is false for any
   * threshold ≥ PHI_AT_BOUND and `nextCheck` returns at least it.
   */
  bound(): number {
    const s = this.s;
    return s[S_LAST] + s[S_SUM] / s[S_COUNT] + this.params.acceptablePauseMs;
  }

  phi(now: number): number {
    return phi(
      now - this.s[S_LAST],
      this.mean,
      this.stdDev,
      this.params.acceptablePauseMs,
      this.params.minStdDevMs,
    );
  }
}
