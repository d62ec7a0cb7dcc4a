/** Injected time, in milliseconds. The simulator gives virtual time; the real runtime gives a monotonic clock. */
export interface Clock {
  now(): number;
}

/** The longest delay a Node timer holds (setTimeout, setInterval, AbortSignal.timeout): 2^31 − 1 ms, ~24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A clock whose time is set by its owner (tests, the simulator's per-node view). */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
