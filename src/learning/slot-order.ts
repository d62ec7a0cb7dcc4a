/**
 * ADR-115's visit-weighted merge of a large delta whose keys come in any order, without a chain of dependent
 * cache misses per key.
 *
 * The per-key merge takes, for each key, its index slot, then the entry's key columns, then its value
 * columns: dependent random accesses into a table far larger than the caches (and the TLB). Here the delta
 * goes through three streaming passes over reusable scratch:
 *
 * 1. by slot, in delta order: each key's record (position, action, key, q, visits) is appended to the bucket
 *    of its home slot's stretch of the index (2^12 slots, 16 KB);
 * 2. probe, bucket by bucket: each key walks the index from its home slot to the first slot whose hash tag
 *    matches (see `QTable`), all within a cache-sized stretch; the record is appended to the bucket of the
 *    entry found (2^12 entries, about 85 KB of entry columns: measured ~10 % faster than 2^13 / 2^14);
 * 3. merge, bucket by bucket: check the key against the entry and apply the formula.
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
 * Scratch (kept in a `SlotOrderScratch`, reused across merges): about 20 bytes per key of the chunk for the slot
 * buckets and 24 per key for the entry buckets, plus a flag per key: 47.5 MB for 1,000,000 keys into a
 * 1,000,000-entry table. About 190 bytes of memory traffic per key in all, against two dependent cache and TLB
 * misses per key and column for the per-key merge.
 */
import type { Delta } from './delta-codec.js';
import { hashKey, type QTable } from './q-table.js';

const U32_MAX = 0xffffffff;
/** Words per slot-bucket record: [position | action << 24, hi, lo, q (f32 bits), visits]. */
const W1 = 5;
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
  rec1F = new Float32Array(0);
  rec2 = new Uint32Array(0);
  rec2F = new Float32Array(0);
  fill1 = new Int32Array(0);
  fill2 = new Int32Array(0);
  /** Per record of one slot bucket: its hash and the index value at its home slot. */
  hashes = new Uint32Array(0);
  first = new Int32Array(0);
  /** Per position of the chunk: 1 when left for `QTable.slot`. */
  pending = new Uint8Array(0);
  /** Delta positions whose merge changed nothing (n = 0 or a non-finite result); rare. */
  skipped = new Int32Array(16);
  skippedCount = 0;
  /** Keys of the current chunk left pending. */
  pendingCount = 0;

  ensure(
    records1: number,
    records2: number,
    buckets1: number,
    buckets2: number,
    chunk: number,
    cap1: number,
  ): void {
    if (this.rec1.length < records1 * W1) {
      const buf = new ArrayBuffer(records1 * W1 * 4);
      this.rec1 = new Uint32Array(buf);
      this.rec1F = new Float32Array(buf);
    }
    if (this.rec2.length < records2 * W2) {
      const buf = new ArrayBuffer(records2 * W2 * 4);
      this.rec2 = new Uint32Array(buf);
      this.rec2F = new Float32Array(buf);
    }
    if (this.fill1.length < buckets1) this.fill1 = new Int32Array(buckets1);
    if (this.hashes.length < cap1) {
      this.hashes = new Uint32Array(cap1);
      this.first = new Int32Array(cap1);
    }
    if (this.fill2.length < buckets2) this.fill2 = new Int32Array(buckets2);
    if (this.pending.length < chunk) this.pending = new Uint8Array(chunk);
  }

  /** Bytes held (kept across merges). */
  bytesInMemory(): number {
    return (
      this.rec1.byteLength +
      this.rec2.byteLength +
      this.fill1.byteLength +
      this.hashes.byteLength +
      this.first.byteLength +
      this.fill2.byteLength +
      this.pending.byteLength +
      this.skipped.byteLength
    );
  }

  addSkipped(i: number): void {
    if (this.skippedCount === this.skipped.length) {
      const s = new Int32Array(this.skipped.length * 2);
      s.set(this.skipped);
      this.skipped = s;
    }
    this.skipped[this.skippedCount++] = i;
  }
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
  const clock0 = table.clock;
  // Versions are clock0 + 1 + position before the fix-up: keep them within u32 as the direct merge would.
  if (n === 0 || clock0 + n >= U32_MAX) return mergeVisitWeightedDirect(table, d);
  const chunk = Math.max(1, Math.min(o.chunk, MAX_CHUNK, n));
  ws.skippedCount = 0;
  let changed = 0;
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    // Bucket geometry for the table as it is now (inserts of an earlier chunk may have grown it).
    const { mask } = table.indexView();
    const cap = table.hi.length;
    const slotShift = Math.min(31 - Math.clz32(mask + 1), o.slotBucketLog);
    const buckets1 = (mask >>> slotShift) + 1;
    const expected = m / buckets1;
    const cap1 = Math.ceil(expected + 4 * Math.sqrt(expected) + 16);
    const entryShift = Math.min(31 - Math.clz32(cap), o.entryBucketLog);
    const buckets2 = ((cap - 1) >>> entryShift) + 1;
    ws.ensure(buckets1 * cap1, cap, buckets1, buckets2, m, cap1);
    const base = clock0 + 1 + start;
    ws.pendingCount = 0;
    bySlot(table, d, start, m, slotShift, buckets1, cap1, ws);
    probe(table, buckets1, cap1, entryShift, buckets2, ws);
    changed += mergeRecords(table, entryShift, buckets2, base, start, ws);
    if (ws.pendingCount > 0) changed += mergePending(table, d, start, m, base, ws);
  }
  if (ws.skippedCount > 0) fixVersions(table, clock0, ws);
  table.clock = clock0 + changed;
  return changed;
}

/** Pass 1, in delta order: each key's record appended to its home slot's bucket (or pending when full). */
function bySlot(
  table: QTable,
  d: Delta,
  start: number,
  m: number,
  slotShift: number,
  buckets: number,
  cap1: number,
  ws: SlotOrderScratch,
): void {
  const { mask } = table.indexView();
  const dhi = d.hi;
  const dlo = d.lo;
  const da = d.action;
  const dq = d.q;
  const dv = d.visits;
  const fill = ws.fill1;
  const rec = ws.rec1;
  const recF = ws.rec1F;
  const pending = ws.pending;
  fill.fill(0, 0, buckets);
  for (let j = 0; j < m; j++) {
    const i = start + j;
    const hi = dhi[i];
    const lo = dlo[i];
    const a = da[i];
    const b = (hashKey(hi, lo, a) & mask) >>> slotShift;
    const f = fill[b];
    if (f === cap1) {
      pending[j] = 1;
      ws.pendingCount++;
      continue;
    }
    fill[b] = f + 1;
    const p = (b * cap1 + f) * W1;
    rec[p] = j | (a << 24);
    rec[p + 1] = hi;
    rec[p + 2] = lo;
    recF[p + 3] = dq[i];
    rec[p + 4] = dv[i];
  }
}

/**
 * Pass 2, slot bucket by slot bucket (index reads stay within the bucket's stretch of the index): the entry at
 * the first slot of each key's probe run whose tag matches; the record is appended to that entry's bucket.
 * Absent keys, and keys whose entry bucket is full, are left pending.
 */
function probe(
  table: QTable,
  buckets1: number,
  cap1: number,
  entryShift: number,
  buckets2: number,
  ws: SlotOrderScratch,
): void {
  const { index, mask, entryBits } = table.indexView();
  const tagShift = entryBits + 1;
  const entryMask = mask >>> 1;
  const cap2 = 1 << entryShift;
  const src = ws.rec1;
  const dst = ws.rec2;
  const fill1 = ws.fill1;
  const fill2 = ws.fill2;
  const pending = ws.pending;
  fill2.fill(0, 0, buckets2);
  const hashes = ws.hashes;
  const first = ws.first;
  for (let b = 0; b < buckets1; b++) {
    const p0 = b * cap1 * W1;
    const count = fill1[b];
    // Every record's home slot first, with no branch on the loaded value: the misses overlap.
    for (let k = 0, p = p0; k < count; k++, p += W1) {
      const h = hashKey(src[p + 1], src[p + 2], src[p] >>> 24);
      hashes[k] = h;
      first[k] = index[h & mask];
    }
    // Then the probe runs, from cache.
    for (let k = 0, p = p0; k < count; k++, p += W1) {
      const h = hashes[k];
      const tag = h >>> tagShift;
      let v = first[k];
      if (v >>> entryBits !== tag) {
        let s = h & mask;
        while (v >= 0 && v >>> entryBits !== tag) {
          s = (s + 1) & mask;
          v = index[s];
        }
      }
      const packed = src[p];
      if (v < 0) {
        pending[packed & 0xffffff] = 1;
        ws.pendingCount++;
        continue;
      }
      const e = v & entryMask;
      const eb = e >>> entryShift;
      const f = fill2[eb];
      if (f === cap2) {
        pending[packed & 0xffffff] = 1;
        ws.pendingCount++;
        continue;
      }
      fill2[eb] = f + 1;
      const r = ((eb << entryShift) + f) * W2;
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
  table: QTable,
  entryShift: number,
  buckets2: number,
  base: number,
  start: number,
  ws: SlotOrderScratch,
): number {
  const rec = ws.rec2;
  const recF = ws.rec2F;
  const fill2 = ws.fill2;
  const pending = ws.pending;
  const thi = table.hi;
  const tlo = table.lo;
  const ta = table.action;
  const q = table.q;
  const visits = table.visits;
  const version = table.version;
  let changed = 0;
  for (let b = 0; b < buckets2; b++) {
    const end = ((b << entryShift) + fill2[b]) * W2;
    for (let p = (b << entryShift) * W2; p < end; p += W2) {
      const e = rec[p];
      const packed = rec[p + 1];
      const j = packed & 0xffffff;
      if (tlo[e] !== rec[p + 3] || thi[e] !== rec[p + 2] || ta[e] !== packed >>> 24) {
        pending[j] = 1;
        ws.pendingCount++;
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
function mergePending(table: QTable, d: Delta, start: number, m: number, base: number, ws: SlotOrderScratch) {
  const pending = ws.pending;
  let changed = 0;
  for (let j = 0; j < m; j++) {
    if (pending[j] === 0) continue;
    pending[j] = 0;
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
