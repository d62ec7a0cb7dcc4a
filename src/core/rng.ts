import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { hashString } from './hash.js';

/**
 * Injected randomness. Protocol cores only ever see this interface; the simulator hands each node and
 * component its own named stream so that adding a consumer never shifts another's draws.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** An independent stream derived from this one's seed and `name` (not from its current position). */
  fork(name: string): Rng;
}

const TWO_POW_32 = 4294967296;

/** A seeded stream on pure-rand's xoroshiro128+. Deterministic across platforms. */
export class SeededRng implements Rng {
  private readonly gen: ReturnType<typeof xoroshiro128plus>;

  constructor(readonly seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
  }

  u32(): number {
    return this.gen.next() >>> 0;
  }

  next(): number {
    // One 32-bit draw: 2^-32 resolution is far below any probability or delay the simulator models, and it
    // halves the cost of the hottest call in the simulator.
    return (this.gen.next() >>> 0) / TWO_POW_32;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  fork(name: string): Rng {
    return new SeededRng(deriveSeed(this.seed, name));
  }
}

/** Seed of the named child stream: a hash of the parent seed and the name, stable across runs. */
export function deriveSeed(seed: number, name: string): number {
  return (hashString(`${seed >>> 0}/${name}`) % TWO_POW_32) | 0;
}

/** Exponential draw with the given mean (for jitter and inter-arrival times). */
export function exponential(rng: Rng, mean: number): number {
  return -Math.log(1 - rng.next()) * mean;
}

/** Standard normal draw (Box–Muller). */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fisher–Yates shuffle in place using `rng`. */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}
