import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { ElexError } from './errors.js';
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
    if (!(n >= 1 && Number.isInteger(n))) return Math.floor(this.next() * n);
    if (n <= TWO_POW_32) {
      // floor(u·n / 2^32), the mapping of floor(next() · n), computed exactly and made uniform by Lemire's
      // rejection: redraw when u·n mod 2^32 < 2^32 mod n (probability < n / 2^32). Without it, n = 3·2^30
      // gave multiples of 3 half the time.
      const t = TWO_POW_32 % n;
      for (;;) {
        const u = this.gen.next() >>> 0;
        const lo = Math.imul(u, n) >>> 0; // u·n mod 2^32 (n = 2^32 wraps to 0: no rejection)
        if (lo >= t) return mulHi32(u, n);
      }
    }
    // n > 2^32: 53 random bits, rejection above the largest multiple of n. Above 2^53 the limit is 0 and
    // nothing would ever be accepted: refused instead of looping forever.
    if (n > TWO_POW_53) throw new ElexError('E_RANGE', `int(n) takes n up to 2^53, got ${n}`);
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    for (;;) {
      const x = (this.gen.next() >>> 11) * TWO_POW_32 + (this.gen.next() >>> 0);
      if (x < limit) return x % n;
    }
  }

  fork(name: string): Rng {
    return new SeededRng(deriveSeed(this.seed, name));
  }
}

const TWO_POW_53 = 9007199254740992;

/** floor(u · n / 2^32) exactly, for u < 2^32 and n <= 2^32 (the product may exceed 2^53). */
function mulHi32(u: number, n: number): number {
  const a = (u >>> 16) * n; // < 2^48: exact
  const b = (u & 0xffff) * n; // < 2^48: exact
  const aLo = a % 65536;
  return (a - aLo) / 65536 + Math.floor((aLo * 65536 + b) / TWO_POW_32);
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
