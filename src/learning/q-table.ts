/**
 * A Q-table on typed arrays. Entries live in dense columns (state hi/lo halves, action, q as f32, visits as
 * u32, and the table version at which the entry last changed) and an open-addressing index of i32 slots
 * (linear probing, load ≤ 1/2) points into them. No per-entry objects: 1,000,000 entries take about 30 MB
 * (21 bytes per entry column slot + 8 bytes of index per entry).
 *
 * An index slot holds `entry | tag << b` (entries < 2^b = capacity; the tag is the key hash's top 31 − b
 * bits, which the slot number does not use), or −1 when empty: a probe skips slots whose tag differs without
 * reading the entry's key, so a lookup reads the entry columns about once instead of about 1.5 times, and
 * batch lookups (slot-order.ts) can check keys later, in entry order.
 *
 * Versions: every write stamps the entry with a fresh table version, so "entries changed since version v"
 * (what a peer acknowledged) is a scan of one u32 column. Before the clock would pass 2^32 − 1, every version
 * moves down by `VERSION_REBASE` (a rebase, `reserveVersions`); whoever keeps a version from before it reads
 * it back through `sinceNow`, which may only make it smaller, so a change is never skipped.
 */
import { ElexError } from '../core/index.js';

const EMPTY = -1;
const MAX_ENTRIES = 1 << 26;

const U32_MAX = 0xffffffff;

/**
 * How far a rebase moves versions down: half the u32 range, so the last 2^31 changes keep their order (a peer
 * that acknowledged one of them still gets only what is newer) and older ones all become version 1.
 */
export const VERSION_REBASE = 0x80000000;

/** The index hash of a key (its home slot is `hashKey(…) & mask`). */
export function hashKey(hi: number, lo: number, action: number): number {
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(hi ^ (h >>> 15), 0xc2b2ae35);
  h ^= Math.imul(action + 0x27d4eb2f, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

export class QTable {
  /** Number of entries. Entry indices are 0..size−1 and stable for the table's life. */
  size = 0;
  hi: Uint32Array;
  lo: Uint32Array;
  action: Uint8Array;
  q: Float32Array;
  visits: Uint32Array;
  version: Uint32Array;
  /** The latest version stamped; 0 means never written. */
  clock = 0;
  /** Rebases so far (`reserveVersions`): a version kept from an earlier one is read through `sinceNow`. */
  generation = 0;
  private index: Int32Array;
  /** Index slots − 1 (slots = 2 · capacity). */
  private mask: number;
  /** log2 of the capacity: entry bits of an index slot; the tag is the hash's bits above the slot's. */
  private entryBits: number;

  constructor(expectedEntries = 1024) {
    let cap = 16;
    while (cap < expectedEntries) cap *= 2;
    if (cap > MAX_ENTRIES) throw new ElexError('E_CAPACITY', `QTable would exceed ${MAX_ENTRIES} entries`);
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.action = new Uint8Array(cap);
    this.q = new Float32Array(cap);
    this.visits = new Uint32Array(cap);
    this.version = new Uint32Array(cap);
    this.index = new Int32Array(cap * 2).fill(EMPTY);
    this.mask = cap * 2 - 1;
    this.entryBits = 31 - Math.clz32(cap);
  }

  /** Index of the entry, or −1. Halves are taken modulo 2^32, as `slot` takes them. */
  find(hi: number, lo: number, action: number): number {
    hi >>>= 0;
    lo >>>= 0;
    const mask = this.mask;
    const index = this.index;
    const bits = this.entryBits;
    const h = hashKey(hi, lo, action);
    const tag = h >>> (bits + 1);
    let s = h & mask;
    for (;;) {
      const v = index[s];
      if (v === EMPTY) return -1;
      if (v >>> bits === tag) {
        const e = v & (mask >>> 1);
        if (this.lo[e] === lo && this.hi[e] === hi && this.action[e] === action) return e;
      }
      s = (s + 1) & mask;
    }
  }

  /** Index of the entry, inserting it (q = 0, visits = 0, version 0) when absent. */
  slot(hi: number, lo: number, action: number): number {
    hi >>>= 0;
    lo >>>= 0;
    if (!Number.isInteger(action) || action < 0 || action > 255) {
      throw new ElexError('E_RANGE', `action must be a u8, got ${action}`);
    }
    const mask = this.mask;
    const bits = this.entryBits;
    const h = hashKey(hi, lo, action);
    const tag = h >>> (bits + 1);
    let s = h & mask;
    for (;;) {
      const v = this.index[s];
      if (v === EMPTY) break;
      if (v >>> bits === tag) {
        const e = v & (mask >>> 1);
        if (this.lo[e] === lo && this.hi[e] === hi && this.action[e] === action) return e;
      }
      s = (s + 1) & mask;
    }
    if (this.size === this.hi.length) {
      this.grow();
      return this.slot(hi, lo, action);
    }
    const e = this.size++;
    this.hi[e] = hi;
    this.lo[e] = lo;
    this.action[e] = action;
    this.index[s] = e | (tag << bits);
    return e;
  }

  /**
   * Entry indices of n keys at once (`out[i]` for key i), inserting absent keys when `insert`, else −1.
   * Keys that arrive in the table's own entry order (a peer's `deltaSince` of entries both tables got from
   * the same aggregates, a full-table sync) are matched against the entry after the previous match first:
   * a sequential scan instead of one random index probe per key. Other keys take the hash index.
   */
  locate(
    hi: ArrayLike<number>,
    lo: ArrayLike<number>,
    action: ArrayLike<number>,
    n: number,
    out: Int32Array,
    insert: boolean,
  ): Int32Array {
    let next = 0;
    for (let i = 0; i < n; i++) {
      const h = hi[i] >>> 0;
      const l = lo[i] >>> 0;
      const a = action[i];
      let e = next;
      if (!(e < this.size && this.lo[e] === l && this.hi[e] === h && this.action[e] === a)) {
        e = this.find(h, l, a);
        if (e < 0 && insert) e = this.slot(h, l, a);
      }
      out[i] = e;
      next = e + 1;
    }
    return out;
  }

  /**
   * The open-addressing index for batch lookups (slot-order.ts): for h = hashKey(key), the probe run starts at
   * slot `h & mask` (linear probing); a slot holds −1 (empty) or `entry | (h >>> (entryBits + 1)) << entryBits`
   * where mask = 2^(entryBits+1) − 1. Read-only for callers; replaced when the table grows.
   */
  indexView(): { readonly index: Int32Array; readonly mask: number; readonly entryBits: number } {
    return { index: this.index, mask: this.mask, entryBits: this.entryBits };
  }

  getQ(hi: number, lo: number, action: number): number {
    const e = this.find(hi, lo, action);
    return e < 0 ? 0 : this.q[e];
  }

  getVisits(hi: number, lo: number, action: number): number {
    const e = this.find(hi, lo, action);
    return e < 0 ? 0 : this.visits[e];
  }

  /** Writes an entry's value and visit count and stamps a new version. Refuses non-finite values. */
  write(e: number, q: number, visits: number): void {
    if (!Number.isFinite(q)) throw new ElexError('E_NON_FINITE', `refusing to store q = ${q}`);
    const f = Math.fround(q);
    if (!Number.isFinite(f)) throw new ElexError('E_NON_FINITE', `q = ${q} overflows f32`);
    this.q[e] = f;
    this.visits[e] = visits >= U32_MAX ? U32_MAX : visits < 0 ? 0 : Math.floor(visits);
    if (this.clock === U32_MAX) this.reserveVersions(1);
    this.version[e] = ++this.clock;
  }

  /**
   * Room for `n` more versions: when the clock would pass 2^32 − 1 (the column would wrap, and "changed since"
   * would miss every later change), every written entry's version moves down by `VERSION_REBASE`, to 1 at
   * least, and the clock with them. O(size), once per 2^31 versions.
   */
  reserveVersions(n: number): void {
    if (this.clock + n <= U32_MAX) return;
    if (n > VERSION_REBASE / 2) throw new ElexError('E_CAPACITY', `${n} versions at once`);
    const version = this.version;
    for (let e = 0; e < this.size; e++) {
      const v = version[e];
      if (v > 0) version[e] = v > VERSION_REBASE ? v - VERSION_REBASE : 1;
    }
    this.clock = Math.max(1, this.clock - VERSION_REBASE);
    this.generation++;
  }

  /**
   * `since`, a version read when the table's generation was `generation`, in today's versions: every entry
   * changed after it then still has a larger version now (older ones may too: they are sent again).
   */
  sinceNow(since: number, generation: number): number {
    let v = since;
    for (let g = generation; g < this.generation && v > 0; g++)
      v = v > VERSION_REBASE ? v - VERSION_REBASE : 0;
    return v;
  }

  /** Bytes held by the table's arrays. */
  bytesInMemory(): number {
    return (
      this.hi.byteLength +
      this.lo.byteLength +
      this.action.byteLength +
      this.q.byteLength +
      this.visits.byteLength +
      this.version.byteLength +
      this.index.byteLength
    );
  }

  /** A deep copy (same entry indices). */
  clone(): QTable {
    const t = new QTable(16);
    t.size = this.size;
    t.clock = this.clock;
    t.generation = this.generation;
    t.hi = this.hi.slice();
    t.lo = this.lo.slice();
    t.action = this.action.slice();
    t.q = this.q.slice();
    t.visits = this.visits.slice();
    t.version = this.version.slice();
    t.index = this.index.slice();
    t.mask = this.mask;
    t.entryBits = this.entryBits;
    return t;
  }

  private grow(): void {
    const cap = this.hi.length * 2;
    if (cap > MAX_ENTRIES) throw new ElexError('E_CAPACITY', `QTable would exceed ${MAX_ENTRIES} entries`);
    const widen = <T extends Uint32Array | Uint8Array | Float32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.hi = widen(this.hi, (n) => new Uint32Array(n));
    this.lo = widen(this.lo, (n) => new Uint32Array(n));
    this.action = widen(this.action, (n) => new Uint8Array(n));
    this.q = widen(this.q, (n) => new Float32Array(n));
    this.visits = widen(this.visits, (n) => new Uint32Array(n));
    this.version = widen(this.version, (n) => new Uint32Array(n));
    this.index = new Int32Array(cap * 2).fill(EMPTY);
    this.mask = cap * 2 - 1;
    const bits = 31 - Math.clz32(cap);
    this.entryBits = bits;
    for (let e = 0; e < this.size; e++) {
      const h = hashKey(this.hi[e], this.lo[e], this.action[e]);
      let s = h & this.mask;
      while (this.index[s] !== EMPTY) s = (s + 1) & this.mask;
      this.index[s] = e | ((h >>> (bits + 1)) << bits);
    }
  }
}
