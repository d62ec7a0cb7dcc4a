/**
 * ADR-115's visit-weighted merge of a large delta whose keys come in any order, without a chain of dependent
 * cache misses per key.
 *
 * The per-key merge takes, for each key, its index slot, then the entry's key columns, then its value
 * columns: dependent random accesses into a table far larger than the caches (and the TLB). Here the delta
 * goes through three streaming passes over reusable scratch:
 *
 * 1. by slot, in delta order: each key's record (position, action, key, q, visits, hash) is appended to the
 *    bucket of its home slot's stretch of the index (2^12 slots, 16 KB);
 * 2. probe, bucket by bucket: the bucket's stretch of the index is read in address order first (so it streams
 *    in), then each key walks it from its home slot to the first slot whose hash tag matches (see `QTable`);
 *    the record is appended to the bucket of the entry found (2^12 entries, about 85 KB of entry columns);
 * 3. merge, bucket by bucket: the bucket's entry columns are read in address order first, then each key is
 *    checked against its entry and the formula applied.
 *
 * Buckets have fixed capacities (slot buckets: the expected share plus a margin; entry buckets: the entries
 * they cover, which distinct keys cannot exceed), so no counting pass is needed. A key whose bucket is full,
 * that is absent, or whose tag matched another key's slot is left pending, and pending keys are looked up or
 * inserted by `QTable.slot` afterwards, in delta order (so absent keys get entry indices in order of first
 * appearance, as `locate` gives them).
 *
 * The result is the per-key merge's, bit for bit: buckets are filled in order and a full bucket stays full,
 * so the occurrences of one key are applied in delta order; each changed entry gets version `clock + rank of
 * its last change among the delta's changes` (`clock + 1 + position` unless some keys changed nothing, which
 * is fixed up at the end).
 *
 * Scratch (kept in a `SlotOrderScratch`, reused across merges): about 27 bytes per key of the chunk for the
 * slot buckets (24 plus the margin) and 24 per entry of the table for the entry buckets: 51 MB for 1,000,000
 * keys into a 1,000,000-entry table. The 1M-into-1M merge spends about 13, 16 and 12 ms in passes 1 to 3
 * (2-core VM, shared): mostly the scattered appends and the first reads of each stretch.
 */
import type { Delta } from './delta-codec.js';
import { hashKey, type QTable } from './q-table.js';

const U32_MAX = 0xffffffff;
/** Words per slot-bucket record: [position | action << 24, hi, lo, q (f32 bits), visits, hash]. */
const W1 = 6;
/** Words per entry-bucket record: [entry, position | action << 24, hi, lo, q (f32 bits), visits]. */
const W2 = 6;
/** Delta positions within a chunk must fit 24 bits (the action takes the top 8 of the packed word). */
const MAX_CHUNK = 1 << 24;

export interface SlotOrderOptions {
  /** Keys per chunk (at most 2^24). */
  chunk?: number;
  /** log2 of index slots per slot bucket. */
  slotBucketLog?: number;
  /** log2 of entries per entry bucket. */
  entryBucketLog?: number;
}

const DEFAULTS: Required<SlotOrderOptions> = { chunk: 1 << 20, slotBucketLog: 12, entryBucketLog: 12 };

/** Reusable scratch for `mergeVisitWeightedOrdered`; grows to the largest chunk and table seen. */
export class SlotOrderScratch {
  rec1 = new Uint32Array(0);
  rec2 = new Uint32Array(0);
  rec2F = new Float32Array(0);
  /** Per bucket, the word offset in `rec1` / `rec2` where its next record goes. */
  head1 = new Int32Array(0);
  head2 = new Int32Array(0);
  /** A bit per position of the chunk, set for the keys left for `QTable.slot`. */
  pending = new Int32Array(0);
  pendingCount = 0;
  /** Delta positions whose merge changed nothing (n = 0 or a non-finite result); rare. */
  skipped = new Int32Array(16);
  skippedCount = 0;
  /** XOR of the reads that pull a stretch of the index or of the columns into the cache (so they are kept). */
  touched = 0;

  ensure(records1: number, records2: number, buckets1: number, buckets2: number, chunk: number): void {
    if (this.rec1.length < records1 * W1) this.rec1 = new Uint32Array(records1 * W1);
    if (this.rec2.length < records2 * W2) {
      const buf = new ArrayBuffer(records2 * W2 * 4);
      this.rec2 = new Uint32Array(buf);
      this.rec2F = new Float32Array(buf);
    }
    if (this.head1.length < buckets1) this.head1 = new Int32Array(buckets1);
    if (this.head2.length < buckets2) this.head2 = new Int32Array(buckets2);
    if (this.pending.length < (chunk + 31) >>> 5) this.pending = new Int32Array((chunk + 31) >>> 5);
  }

  /** Bytes held (kept across merges). */
  bytesInMemory(): number {
    return (
      this.rec1.byteLength +
      this.rec2.byteLength +
      this.head1.byteLength +
      this.head2.byteLength +
      this.pending.byteLength +
      this.skipped.byteLength
    );
  }

  addPending(j: number): void {
    this.pending[j >>> 5] |= 1 << (j & 31);
    this.pendingCount++;
  }

  addSkipped(i: number): void {
    if (this.skippedCount === this.skipped.length) this.skipped = grown(this.skipped);
    this.skipped[this.skippedCount++] = i;
  }
}

function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The scratch shared by merges that do not pass their own (merges run to completion one at a time). */
export const sharedSlotOrderScratch = new SlotOrderScratch();

/** Deltas of at least this many keys into tables of at least `ORDERED_MIN_CAPACITY` go the bucketed way. */
export const ORDERED_MIN_KEYS = 4096;
/** 2^18 entries: about 8 MB of table, past the caches a random access would hit. */
export const ORDERED_MIN_CAPACITY = 1 << 18;

/**
 * ADR-115's merge of one delta: the bucketed merge for large deltas into large tables, unless the delta's keys
 * follow the table's entry order (a full-table sync, or a delta of entries that two tables got in the same
 * order), which the per-key merge walks sequentially (`QTable.locate` follows runs). Small merges stay in cache
 * and take the per-key merge too. Same result on every path.
 */
export function mergeVisitWeighted(
  table: QTable,
  d: Delta,
  ws: SlotOrderScratch = sharedSlotOrderScratch,
): number {
  if (
    d.count >= ORDERED_MIN_KEYS &&
    table.hi.length >= ORDERED_MIN_CAPACITY &&
    !followsEntryOrder(table, d)
  ) {
    return mergeVisitWeightedOrdered(table, d, ws);
  }
  return mergeVisitWeightedDirect(table, d);
}

/** Samples of adjacent delta keys checked by `followsEntryOrder`. */
const RUN_SAMPLES = 64;

/**
 * Whether the delta's keys mostly come in the table's entry order: of `RUN_SAMPLES` adjacent pairs spread over
 * the delta, at least 7 in 8 are adjacent entries of the table. A heuristic for speed only.
 */
export function followsEntryOrder(table: QTable, d: Delta): boolean {
  if (d.count < 2) return false;
  const step = (d.count - 1) / RUN_SAMPLES;
  let runs = 0;
  for (let k = 0; k < RUN_SAMPLES; k++) {
    const i = Math.floor(k * step);
    const e = table.find(d.hi[i], d.lo[i], d.action[i]);
    if (e < 0 || e + 1 >= table.size) continue;
    if (
      table.hi[e + 1] === d.hi[i + 1] &&
      table.lo[e + 1] === d.lo[i + 1] &&
      table.action[e + 1] === d.action[i + 1]
    ) {
      runs++;
    }
  }
  return runs * 8 >= RUN_SAMPLES * 7;
}

/**
 * The per-key merge in delta order: q = (q_l·n_l + q_p·n_p)/(n_l + n_p), n = n_l + n_p (saturating at
 * 2³²−1), one new version per changed entry. Returns the number of changes.
 */
export function mergeVisitWeightedDirect(table: QTable, d: Delta): number {
  let changed = 0;
  // Insert missing keys first so the hot loop below sees stable arrays.
  const ix = table.locate(d.hi, d.lo, d.action, d.count, new Int32Array(d.count), true);
  const q = table.q;
  const visits = table.visits;
  table.reserveVersions(d.count);
  const version = table.version;
  let clock = table.clock;
  for (let i = 0; i < d.count; i++) {
    const e = ix[i];
    const nl = visits[e];
    const np = d.visits[i];
    const n = nl + np;
    if (n === 0) continue;
    const v = (q[e] * nl + d.q[i] * np) / n;
    if (!Number.isFinite(v)) continue;
    q[e] = v;
    visits[e] = n > U32_MAX ? U32_MAX : n;
    version[e] = ++clock;
    changed++;
  }
  table.clock = clock;
  return changed;
}

/** Same result as `mergeVisitWeightedDirect`; scales to large tables and deltas in any key order. */
export function mergeVisitWeightedOrdered(
  table: QTable,
  d: Delta,
  ws: SlotOrderScratch = sharedSlotOrderScratch,
  options: SlotOrderOptions = {},
): number {
  const o = { ...DEFAULTS, ...options };
  const n = d.count;
  if (n === 0) return 0;
  // Versions are clock0 + 1 + position before the fix-up: room for them, as the direct merge makes.
  table.reserveVersions(n);
  const clock0 = table.clock;
  const chunk = Math.max(1, Math.min(o.chunk, MAX_CHUNK, n));
  // q travels as its f32 bits: integer copies, no f32 -> f64 -> f32 round trip.
  const dq = new Uint32Array(d.q.buffer, d.q.byteOffset, d.q.length);
  ws.skippedCount = 0;
  let changed = 0;
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    // Bucket geometry for the table as it is now (inserts of an earlier chunk may have grown it).
    const { index, mask, entryBits } = table.indexView();
    const cap = table.hi.length;
    const slotShift = Math.min(31 - Math.clz32(mask + 1), o.slotBucketLog);
    const buckets1 = (mask >>> slotShift) + 1;
    const expected = m / buckets1;
    const cap1 = Math.ceil(expected + 4 * Math.sqrt(expected) + 16);
    const entryShift = Math.min(31 - Math.clz32(cap), o.entryBucketLog);
    const buckets2 = ((cap - 1) >>> entryShift) + 1;
    ws.ensure(buckets1 * cap1, cap, buckets1, buckets2, m);
    const { rec1, rec2, rec2F, head1, head2 } = ws;
    for (let b = 0; b < buckets1; b++) head1[b] = b * cap1 * W1;
    for (let b = 0; b < buckets2; b++) head2[b] = (b << entryShift) * W2;
    ws.pending.fill(0, 0, (m + 31) >>> 5);
    ws.pendingCount = 0;
    // The passes take arrays and numbers only (see the note above `bySlot`).
    bySlot(d.hi, d.lo, d.action, dq, d.visits, start, m, mask, slotShift, cap1 * W1, head1, rec1, ws);
    probe(index, mask, entryBits, slotShift, buckets1, cap1, entryShift, head1, rec1, head2, rec2, ws);
    const base = clock0 + 1 + start;
    changed += mergeRecords(
      table.hi,
      table.lo,
      table.action,
      table.q,
      table.visits,
      table.version,
      entryShift,
      buckets2,
      head2,
      rec2,
      rec2F,
      base,
      start,
      ws,
    );
    if (ws.pendingCount > 0) changed += mergePending(table, d, start, ws.pending, (m + 31) >>> 5, base, ws);
  }
  if (ws.skippedCount > 0) fixVersions(table, clock0, ws);
  table.clock = clock0 + changed;
  return changed;
}

/*
 * The passes take what they read before their loop as arguments and do all their work in the loop. A pass runs
 * once per merge, so V8 first runs it before it has a feedback vector: any property read or arithmetic ahead
 * of the loop would have no type feedback, and the optimized pass would deoptimize on entry at the next merge
 * and run interpreted until recompiled (measured: 1 to 3 slow merges after the warm-up ones).
 */

/** Pass 1, in delta order: each key's record appended to its home slot's bucket (or pending when full). */
function bySlot(
  dhi: Uint32Array,
  dlo: Uint32Array,
  da: Uint8Array,
  dq: Uint32Array,
  dv: Uint32Array,
  start: number,
  m: number,
  mask: number,
  slotShift: number,
  stride: number,
  head: Int32Array,
  rec: Uint32Array,
  ws: SlotOrderScratch,
): void {
  for (let j = 0; j < m; j++) {
    const i = start + j;
    const hi = dhi[i];
    const lo = dlo[i];
    const a = da[i];
    const h = hashKey(hi, lo, a);
    const b = (h & mask) >>> slotShift;
    const p = head[b];
    if (p === (b + 1) * stride) {
      ws.addPending(j);
      continue;
    }
    head[b] = p + W1;
    rec[p] = j | (a << 24);
    rec[p + 1] = hi;
    rec[p + 2] = lo;
    rec[p + 3] = dq[i];
    rec[p + 4] = dv[i];
    // The hash rides along: pass 2 would otherwise recompute it (measured: a word more to move is cheaper).
    rec[p + 5] = h;
  }
}

/**
 * Pass 2, slot bucket by slot bucket: the entry at the first slot of each key's probe run whose tag matches;
 * the record is appended to that entry's bucket. Absent keys, and keys whose entry bucket is full, are left
 * pending.
 */
function probe(
  index: Int32Array,
  mask: number,
  entryBits: number,
  slotShift: number,
  buckets1: number,
  cap1: number,
  entryShift: number,
  head1: Int32Array,
  src: Uint32Array,
  head2: Int32Array,
  dst: Uint32Array,
  ws: SlotOrderScratch,
): void {
  for (let b = 0; b < buckets1; b++) {
    // The bucket's stretch of the index, one load per cache line in address order, so the hardware
    // prefetcher streams it in: the probes below then hit the cache instead of missing in random order.
    let t = 0;
    for (let s = b << slotShift, s1 = Math.min(s + (1 << slotShift), mask + 1); s < s1; s += 16)
      t |= index[s];
    ws.touched ^= t;
    for (let p = b * cap1 * W1, pe = head1[b]; p < pe; p += W1) {
      const packed = src[p];
      const h = src[p + 5];
      const tag = h >>> (entryBits + 1);
      let s = h & mask;
      let v = index[s];
      while (v >= 0 && v >>> entryBits !== tag) {
        s = (s + 1) & mask;
        v = index[s];
      }
      if (v < 0) {
        ws.addPending(packed & 0xffffff);
        continue;
      }
      const e = v & (mask >>> 1);
      const eb = e >>> entryShift;
      const r = head2[eb];
      if (r === ((eb + 1) << entryShift) * W2) {
        ws.addPending(packed & 0xffffff);
        continue;
      }
      head2[eb] = r + W2;
      dst[r] = e;
      dst[r + 1] = packed;
      dst[r + 2] = src[p + 1];
      dst[r + 3] = src[p + 2];
      dst[r + 4] = src[p + 3];
      dst[r + 5] = src[p + 4];
    }
  }
}

/** Pass 3, entry bucket by entry bucket: the merge of each record whose entry holds its key; others pending. */
function mergeRecords(
  thi: Uint32Array,
  tlo: Uint32Array,
  ta: Uint8Array,
  q: Float32Array,
  visits: Uint32Array,
  version: Uint32Array,
  entryShift: number,
  buckets2: number,
  head2: Int32Array,
  rec: Uint32Array,
  recF: Float32Array,
  base: number,
  start: number,
  ws: SlotOrderScratch,
): number {
  let changed = 0;
  for (let b = 0; b < buckets2; b++) {
    // The bucket's entries, column by column in address order (see `probe`).
    let t = 0;
    const e0 = b << entryShift;
    const e1 = Math.min(e0 + (1 << entryShift), thi.length);
    for (let e = e0; e < e1; e += 16) t |= thi[e] | tlo[e] | visits[e] | version[e] | (q[e] > 0 ? 1 : 0);
    for (let e = e0; e < e1; e += 64) t |= ta[e];
    ws.touched ^= t;
    for (let p = e0 * W2, end = head2[b]; p < end; p += W2) {
      const e = rec[p];
      const packed = rec[p + 1];
      const j = packed & 0xffffff;
      if (tlo[e] !== rec[p + 3] || thi[e] !== rec[p + 2] || ta[e] !== packed >>> 24) {
        ws.addPending(j);
        continue;
      }
      const nl = visits[e];
      const np = rec[p + 5];
      const n = nl + np;
      const v = n === 0 ? Number.NaN : (q[e] * nl + recF[p + 4] * np) / n;
      if (!Number.isFinite(v)) {
        ws.addSkipped(start + j);
        continue;
      }
      q[e] = v;
      visits[e] = n > U32_MAX ? U32_MAX : n;
      version[e] = base + j;
      changed++;
    }
  }
  return changed;
}

/**
 * Pass 4, in delta order: keys left pending, looked up or inserted by `QTable.slot` (so absent keys get entry
 * indices in order of first appearance, as `locate` gives them) and merged. Insertion may grow the table.
 */
function mergePending(
  table: QTable,
  d: Delta,
  start: number,
  pending: Int32Array,
  words: number,
  base: number,
  ws: SlotOrderScratch,
): number {
  // A bitmap, not a list: passes 2 and 3 leave keys pending out of delta order, and sorting a list of them
  // takes about 70 ms for 1M keys (a delta of new keys).
  let changed = 0;
  for (let w = 0; w < words; w++) {
    for (let bits = pending[w]; bits !== 0; bits &= bits - 1) {
      const j = (w << 5) | (31 - Math.clz32(bits & -bits));
      const i = start + j;
      const e = table.slot(d.hi[i], d.lo[i], d.action[i]);
      const q = table.q;
      const visits = table.visits;
      const nl = visits[e];
      const np = d.visits[i];
      const n = nl + np;
      const v = n === 0 ? Number.NaN : (q[e] * nl + d.q[i] * np) / n;
      if (!Number.isFinite(v)) {
        ws.addSkipped(i);
        continue;
      }
      q[e] = v;
      visits[e] = n > U32_MAX ? U32_MAX : n;
      table.version[e] = base + j;
      changed++;
    }
  }
  return changed;
}

/**
 * Some keys changed nothing: a changed entry's version must be its rank among the changes, not its position.
 * Version v > clock0 was stamped by position v − clock0 − 1; subtract the skipped positions before it.
 */
function fixVersions(table: QTable, clock0: number, ws: SlotOrderScratch): void {
  const skipped = ws.skipped.subarray(0, ws.skippedCount).sort();
  const version = table.version;
  for (let e = 0; e < table.size; e++) {
    const v = version[e];
    if (v <= clock0) continue;
    const i = v - clock0 - 1;
    let lo = 0;
    let hi = skipped.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (skipped[mid] < i) lo = mid + 1;
      else hi = mid;
    }
    version[e] = v - lo;
  }
}
