import { hashString } from '../core/index.js';
import type { Member } from './member.js';

/** 53-bit hash of a digest entry split into 32 + 21 bits (summed per bucket, order-free). */
export function entryHash(
  m: Pick<Member, 'name' | 'gen' | 'inc' | 'status' | 'maxVersion'>,
): [number, number] {
  const h = hashString(`${m.name}\u0000${m.gen}\u0000${m.inc}\u0000${m.status}\u0000${m.maxVersion}`);
  return [(h % 4294967296) >>> 0, Math.floor(h / 4294967296)];
}

/**
 * The digest summarized: additive hashes of every member's digest entry `(name, gen, inc, status, maxVersion)`,
 * per bucket and in total, updated in O(1) per change. Two members whose totals match hold the same digest
 * (up to a 2^-53 collision); buckets whose hashes differ are where their digests differ.
 */
export class DigestIndex {
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  totalLo = 0;
  totalHi = 0;

  constructor(readonly buckets: number) {
    this.lo = new Uint32Array(buckets);
    this.hi = new Uint32Array(buckets);
  }

  /** Removes the member's current entry hash (call before changing the entry). */
  remove(m: Member): void {
    this.lo[m.bucket] = (this.lo[m.bucket] - m.hashLo) >>> 0;
    this.hi[m.bucket] = (this.hi[m.bucket] - m.hashHi) >>> 0;
    this.totalLo = (this.totalLo - m.hashLo) >>> 0;
    this.totalHi = (this.totalHi - m.hashHi) >>> 0;
  }

  /** Hashes the member's entry as it is now and adds it. */
  add(m: Member): void {
    const [lo, hi] = entryHash(m);
    m.hashLo = lo;
    m.hashHi = hi;
    this.lo[m.bucket] = (this.lo[m.bucket] + lo) >>> 0;
    this.hi[m.bucket] = (this.hi[m.bucket] + hi) >>> 0;
    this.totalLo = (this.totalLo + lo) >>> 0;
    this.totalHi = (this.totalHi + hi) >>> 0;
  }

  /** The 32-bit fold of one bucket's hash, as it travels in exchanges. */
  bucketHash(b: number): number {
    return (this.lo[b] ^ Math.imul(this.hi[b], 0x9e3779b1)) >>> 0;
  }

  matches(hash: readonly [number, number]): boolean {
    return hash[0] === this.totalLo && hash[1] === this.totalHi;
  }

  toString(): string {
    return `${this.totalHi.toString(16)}:${this.totalLo.toString(16)}`;
  }
}
