/**
 * What goes into a delta a member sends: its table's changes since the recipient acknowledged (all of them
 * when they fit one delta, else one part of them: docs/federation.md, "Protocol notes"), and, from an
 * aggregator, the consensus of the entries that recipient sent unreachable. Pure: the member keeps the acks,
 * the keys to resend and its limits; these decide what one delta holds.
 */
import {
  DELTA_FRAME_BYTES,
  DELTA_STATE_BYTES,
  type Delta,
  deltaEntryBytes,
  emptyDelta,
  encodedDeltaBytesBound,
} from './delta-codec.js';
import { QTable } from './q-table.js';

/** Most entries and bytes of one delta (`max_delta_entries`, `max_delta_bytes`), or what they leave. */
export interface DeltaLimits {
  entries: number;
  bytes: number;
}

/** A table entry's key: its state (hi, lo) and action. */
export type EntryKey = [hi: number, lo: number, action: number];

/** The entries changed after `sinceVersion` as a delta (fresh visits from `fresh`, entry index → count). */
export function deltaSince(
  table: QTable,
  sinceVersion: number,
  fresh: ReadonlyMap<number, number>,
  into: { origin: string; kind: 'peer' | 'aggregate' },
): Delta {
  let n = 0;
  for (let e = 0; e < table.size; e++) if (table.version[e] > sinceVersion) n++;
  const d = emptyDelta(into.kind, into.origin, n);
  let i = 0;
  for (let e = 0; e < table.size; e++) if (table.version[e] > sinceVersion) putEntry(d, i++, table, e, fresh);
  return d;
}

/** Row `i` of `d` := entry `e` of `table`, with its fresh visits from `fresh` (entry index → count). */
function putEntry(d: Delta, i: number, table: QTable, e: number, fresh: ReadonlyMap<number, number>): void {
  d.hi[i] = table.hi[e];
  d.lo[i] = table.lo[e];
  d.action[i] = table.action[e];
  d.q[i] = table.q[e];
  d.visits[i] = table.visits[e];
  d.fresh[i] = fresh.get(e) ?? 0;
}

/** What goes out to one recipient, before it is addressed and stamped (`outgoingDelta`). */
export interface OutgoingDelta {
  d: Delta;
  /** Every change up to this version is in `d` (what the recipient's ack of it acknowledges). */
  cut: number;
  /** Whether `d` holds table entry `e`. */
  inPart: (e: number) => boolean;
  /** What the limits leave after `d`. */
  room: DeltaLimits;
}

/**
 * What goes out of the changes of `t` after version `since`: all of them when they fit one delta (`cut` is
 * the clock), else one part of them (`boundedPart`; `cut`: every change up to it is in the part). `counts`:
 * fresh visits per entry; `urgent`: the entries a part takes first.
 */
export function outgoingDelta(
  t: QTable,
  since: number,
  counts: ReadonlyMap<number, number>,
  urgent: (e: number) => boolean,
  from: { origin: string; kind: 'peer' | 'aggregate'; limits: DeltaLimits },
): OutgoingDelta {
  const limits = from.limits;
  const all = deltaSince(t, since, counts, from);
  const bytes = encodedBytesWithin(all, limits);
  if (bytes !== null) {
    return {
      d: all,
      cut: t.clock,
      inPart: (e) => t.version[e] > since,
      room: { entries: limits.entries - all.count, bytes: limits.bytes - bytes },
    };
  }
  const part = boundedPart(t, since, counts, urgent, limits);
  const n = part.entries.length;
  const d = emptyDelta(from.kind, from.origin, n);
  for (let i = 0; i < n; i++) putEntry(d, i, t, part.entries[i], counts);
  return {
    d,
    cut: part.cut,
    inPart: (e) => part.mark[e] === 1,
    room: { entries: limits.entries - n, bytes: limits.bytes - part.bytes },
  };
}

/** Bytes `d` may take at most when it fits one delta within `limits`, else null. */
function encodedBytesWithin(d: Delta, limits: DeltaLimits): number | null {
  const { entries, bytes } = limits;
  if (d.count > entries) return null;
  const quick = encodedDeltaBytesBound(d);
  if (quick <= bytes) return quick;
  const exact = encodedDeltaBytesBound(d, true);
  return exact <= bytes ? exact : null;
}

/**
 * One part of the changes of `t` after version `since` when they do not fit one delta (`limits`): first the
 * `urgent` changed entries, oldest version first, as long as they take at most half of the limits; then the
 * other changed entries, oldest version first, up to the limits. Every changed entry with a version up to
 * `cut` is in the part, so an ack of `cut` acknowledges only what it carried, and each part moves `cut` on by
 * at least one entry. Urgent entries past `cut` go out again in a later part. `entries` in table order,
 * `mark` 1 for them, `bytes` an upper bound of the encoded part.
 */
function boundedPart(
  t: QTable,
  since: number,
  counts: ReadonlyMap<number, number>,
  urgent: (e: number) => boolean,
  limits: DeltaLimits,
): { entries: Int32Array; cut: number; mark: Uint8Array; bytes: number } {
  let changed = 0;
  for (let e = 0; e < t.size; e++) if (t.version[e] > since) changed++;
  const byVersion = new Int32Array(changed);
  changed = 0;
  for (let e = 0; e < t.size; e++) if (t.version[e] > since) byVersion[changed++] = e;
  byVersion.sort((a, b) => t.version[a] - t.version[b]);
  const mark = new Uint8Array(t.size);
  // Distinct states in the part (as keys (hi, lo, 0)): each costs its group header once.
  const states = new QTable(Math.min(changed, limits.entries));
  const budget = limits.bytes - DELTA_FRAME_BYTES;
  let n = 0;
  let bytes = 0;
  const take = (e: number, maxEntries: number, maxBytes: number): boolean => {
    const isNew = states.find(t.hi[e], t.lo[e], 0) < 0;
    const cost = deltaEntryBytes(t.visits[e], counts.get(e) ?? 0) + (isNew ? DELTA_STATE_BYTES : 0);
    if (n + 1 > maxEntries || bytes + cost > maxBytes) return false;
    if (isNew) states.slot(t.hi[e], t.lo[e], 0);
    mark[e] = 1;
    n++;
    bytes += cost;
    return true;
  };
  const halfEntries = Math.floor(limits.entries / 2);
  const halfBytes = Math.floor(budget / 2);
  for (const e of byVersion) if (urgent(e) && !take(e, halfEntries, halfBytes)) break;
  let cut = since;
  for (const e of byVersion) {
    if (mark[e] === 0 && !take(e, limits.entries, budget)) break;
    cut = t.version[e];
  }
  const entries = new Int32Array(n);
  let i = 0;
  for (const e of byVersion) if (mark[e] === 1) entries[i++] = e;
  entries.sort();
  return { entries, cut, mark, bytes: DELTA_FRAME_BYTES + bytes };
}

/**
 * `d` plus the consensus in `t` of the entries `back` its recipient sent unreachable (only to it: no
 * amplification to others), those not already in `d` (`inPart`) and as many as `room` leaves.
 */
export function withResend(
  d: Delta,
  back: readonly EntryKey[] | undefined,
  t: QTable,
  inPart: (e: number) => boolean,
  room: DeltaLimits,
): Delta {
  if (!back) return d;
  const out = emptyDelta(d.kind, d.origin, d.count + Math.min(back.length, Math.max(0, room.entries)));
  let n = 0;
  let bytes = 0;
  const put = (hi: number, lo: number, action: number, q: number, visits: number) => {
    out.hi[n] = hi;
    out.lo[n] = lo;
    out.action[n] = action;
    out.q[n] = q;
    out.visits[n] = visits;
    n++;
  };
  for (let i = 0; i < d.count; i++) put(d.hi[i], d.lo[i], d.action[i], d.q[i], d.visits[i]);
  for (const [hi, lo, action] of back) {
    const e = t.find(hi, lo, action);
    if (e >= 0 && inPart(e)) continue;
    const visits = e < 0 ? 0 : t.visits[e];
    const cost = DELTA_STATE_BYTES + deltaEntryBytes(visits, 0);
    if (n - d.count >= room.entries || bytes + cost > room.bytes) break;
    put(hi, lo, action, e < 0 ? 0 : t.q[e], visits);
    bytes += cost;
  }
  return {
    ...out,
    count: n,
    hi: out.hi.subarray(0, n),
    lo: out.lo.subarray(0, n),
    action: out.action.subarray(0, n),
    q: out.q.subarray(0, n),
    visits: out.visits.subarray(0, n),
    fresh: out.fresh.subarray(0, n),
  };
}

/**
 * The next `n` entries of `t` in table order from slot `from` (wrapping once), none that `skip` holds: an
 * aggregator's anti-entropy slice. `next` is where the following slice starts.
 */
export function sweepSlice(
  t: QTable,
  from: number,
  n: number,
  skip: (e: number) => boolean,
): { keys: EntryKey[]; next: number } {
  const keys: EntryKey[] = [];
  const size = t.size;
  if (size === 0 || n === 0) return { keys, next: 0 };
  let e = from < size ? from : 0;
  for (let seen = 0; seen < size && keys.length < n; seen++) {
    if (!skip(e)) keys.push([t.hi[e], t.lo[e], t.action[e]]);
    e = e + 1 < size ? e + 1 : 0;
  }
  return { keys, next: e };
}

/** The keys to resend to one recipient, then the anti-entropy slice's others (a delta lists an entry once). */
export function withSwept(
  back: readonly EntryKey[] | undefined,
  swept: readonly EntryKey[],
): EntryKey[] | undefined {
  if (swept.length === 0) return back as EntryKey[] | undefined;
  if (!back || back.length === 0) return swept as EntryKey[];
  const seen = new Set(back.map(([hi, lo, a]) => `${hi}:${lo}:${a}`));
  return [...back, ...swept.filter(([hi, lo, a]) => !seen.has(`${hi}:${lo}:${a}`))];
}
