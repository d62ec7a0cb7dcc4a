/** A small counting interface every core reports through (principle 6: measured, not claimed). */
export interface Metrics {
  inc(name: string, by?: number): void;
}

export class CounterMetrics implements Metrics {
  readonly counters = new Map<string, number>();
  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }
  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }
  /** Counters as a plain object with sorted keys (stable for reports). */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.counters.keys()].sort()) out[k] = this.counters.get(k) ?? 0;
    return out;
  }
}

export const noMetrics: Metrics = { inc() {} };
