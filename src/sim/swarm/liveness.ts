import { HeartbeatHistory, type PhiParams } from '../../gossip/index.js';

/**
 * The swarm's lite liveness view (`--gossip lite`, see docs/swarm.md): each coordinator runs the gossip
 * core's phi-accrual detector (same model, same math: src/gossip/phi-accrual.ts) directly over heartbeats from
 * the agents of its category, without the membership protocol around it. A member never heard from is dead.
 */
export interface PhiOptions extends PhiParams {
  threshold: number;
}

/** Heartbeats every second from agents one hop away: a shorter acceptable pause than the gossip default. */
export const DEFAULT_PHI: PhiOptions = {
  threshold: 8,
  minStdDevMs: 100,
  acceptablePauseMs: 1000,
  sampleWindow: 100,
  firstHeartbeatEstimateMs: 1000,
};

/** One monitor's detector over the members it watches (member ids are simulator node ids). */
export class PhiDetector {
  private readonly histories = new Map<number, HeartbeatHistory>();

  constructor(readonly opts: PhiOptions = DEFAULT_PHI) {}

  heartbeat(member: number, now: number): void {
    const h = this.histories.get(member);
    if (h === undefined) this.histories.set(member, new HeartbeatHistory(this.opts, now));
    // An interval that ends above the threshold (a crash, a partition) is not learnt, as in the gossip core:
    // learnt, one minute's gap kept the next crash unseen for ~30 s for a whole sample window.
    else h.arrive(now, this.opts.threshold);
  }

  alive(member: number, now: number): boolean {
    const h = this.histories.get(member);
    return h !== undefined && !h.exceeds(now, this.opts.threshold);
  }

  /** Forget everything (the monitor restarted). */
  clear(): void {
    this.histories.clear();
  }
}

/** Whether coordinator c sees node n alive, at c's local time `now`. */
export interface LivenessView {
  isAlive(c: number, n: number, now: number): boolean;
}

/** The lite view: each coordinator's detector over the heartbeats it hears (its agents, the other coordinators). */
export class LiteLiveness implements LivenessView {
  private readonly detectors: PhiDetector[];

  constructor(coordinators: number) {
    this.detectors = Array.from({ length: coordinators }, () => new PhiDetector());
  }

  heartbeat(c: number, from: number, now: number): void {
    this.detectors[c].heartbeat(from, now);
  }

  isAlive(c: number, n: number, now: number): boolean {
    return this.detectors[c].alive(n, now);
  }

  /** Coordinator c restarted: it has heard nobody yet. */
  clear(c: number): void {
    this.detectors[c].clear();
  }
}
