/**
 * 53-bit non-cryptographic hashing (cyrb53 construction) for trace fingerprints and seed derivation.
 * Incremental: feed numbers and strings into a `TraceHasher`, read a stable hex digest.
 */
export function hashString(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish(h1, h2);
}

/** 32-bit FNV-1a over bytes[from, to): checksums and memo keys. */
export function fnv1a(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

function finish(a: number, b: number): number {
  let h1 = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
  let h2 = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  h1 >>>= 0;
  h2 >>>= 0;
  return 4294967296 * (2097151 & h2) + h1;
}

/** Running hash over a stream of 32-bit words; order-sensitive. */
export class TraceHasher {
  private h1 = 0xdeadbeef;
  private h2 = 0x41c6ce57;
  count = 0;

  word(x: number): void {
    const c = x | 0;
    this.h1 = Math.imul(this.h1 ^ c, 2654435761);
    this.h2 = Math.imul(this.h2 ^ c, 1597334677);
  }

  /** A float (e.g. a simulated time in ms) hashed by its exact bits. */
  float(x: number): void {
    const lo = x >>> 0;
    this.word(lo);
    this.word(Math.floor(x / 4294967296));
    this.word(Math.round((x - Math.floor(x)) * 1e6));
  }

  /** A simulated time in ms, to the nanosecond (two words: cheap enough for every event). */
  time(ms: number): void {
    const whole = Math.floor(ms);
    this.word(whole);
    this.word(Math.round((ms - whole) * 1e6));
  }

  str(s: string): void {
    this.word(hashString(s) >>> 0);
  }

  /** One event of up to three words (fixed arity: no rest-array allocation on the hot path). */
  event(a: number, b = 0, c = 0): void {
    this.count++;
    this.word(a);
    this.word(b);
    this.word(c);
  }

  digest(): string {
    return finish(this.h1, this.h2).toString(16).padStart(14, '0');
  }
}
