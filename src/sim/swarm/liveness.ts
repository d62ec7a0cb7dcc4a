/**
 * The swarm's liveness view: a minimal heartbeat + phi-accrual failure detector (Akka's normal model),
 * standing in for the gossip core until it is committed (see docs/swarm.md). Each monitor keeps, per
 * monitored member, the mean and variance of heartbeat inter-arrival times over a sliding window;
 * φ(t) = −log10(1 − F(y)), y = (t − last − (μ + pause)) / max(σ, σmin), F the logistic approximation of the
 * normal CDF. A member is dead when φ ≥ threshold or when it has never been heard from.
 */
export interface PhiOptions {
  threshold: number;
  minStdMs: number;
  acceptablePauseMs: number;
  window: number;
  firstIntervalMs: number;
}

export const DEFAULT_PHI: PhiOptions = {
  threshold: 8,
  minStdMs: 100,
  acceptablePauseMs: 1000,
  window: 100,
  firstIntervalMs: 1000,
};

class History {
  last = -1;
  private readonly xs: Float64Array;
  private n = 0;
  private pos = 0;
  private sum = 0;
  private sumSq = 0;

  constructor(window: number, first: number) {
    this.xs = new Float64Array(window);
    this.add(first);
  }

  add(x: number): void {
    if (this.n === this.xs.length) {
      const old = this.xs[this.pos];
      this.sum -= old;
      this.sumSq -= old * old;
    } else this.n++;
    this.xs[this.pos] = x;
    this.pos = (this.pos + 1) % this.xs.length;
    this.sum += x;
    this.sumSq += x * x;
  }

  mean(): number {
    return this.sum / this.n;
  }

  std(): number {
    const m = this.mean();
    return Math.sqrt(Math.max(0, this.sumSq / this.n - m * m));
  }
}

/** φ for a gap of `elapsed` ms given the inter-arrival mean and standard deviation. */
export function phiOf(elapsed: number, mean: number, std: number): number {
  const y = (elapsed - mean) / std;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  if (elapsed > mean) return -Math.log10(e / (1 + e));
  return -Math.log10(1 - 1 / (1 + e));
}

/** One monitor's detector over the members it watches (member ids are simulator node ids). */
export class PhiDetector {
  private readonly h = new Map<number, History>();

  constructor(readonly opts: PhiOptions = DEFAULT_PHI) {}

  heartbeat(member: number, now: number): void {
    let h = this.h.get(member);
    if (h === undefined) {
      h = new History(this.opts.window, this.opts.firstIntervalMs);
      this.h.set(member, h);
    } else if (h.last >= 0) h.add(now - h.last);
    h.last = now;
  }

  phi(member: number, now: number): number {
    const h = this.h.get(member);
    if (h === undefined || h.last < 0) return Number.POSITIVE_INFINITY;
    const std = Math.max(h.std(), this.opts.minStdMs);
    return phiOf(now - h.last, h.mean() + this.opts.acceptablePauseMs, std);
  }

  alive(member: number, now: number): boolean {
    return this.phi(member, now) < this.opts.threshold;
  }

  /** Forget everything (the monitor restarted). */
  clear(): void {
    this.h.clear();
  }
}
