import { assert } from '../core/index.js';
import type { Entry } from './types.js';

/**
 * The in-memory Raft log: entries after a compaction point, plus the indexes that track how far they have
 * travelled (stabled → committed → applied). Unlike etcd's raftLog it never reads back from Storage: the
 * whole uncompacted suffix stays in memory (the coordinators' log is small and compacted every 10,000
 * entries), so the core needs no fallible storage reads on its hot path.
 *
 * Invariants (asserted): offset <= applied <= committed <= lastIndex; stabled <= lastIndex.
 */
export class RaftLog {
  /** Index of the entry just before `entries[0]` (the compaction point or snapshot index). */
  offset: number;
  /** Term of the entry at `offset`. */
  offsetTerm: number;
  entries: Entry[] = [];
  committed: number;
  /** Highest index the application has applied (acknowledged through `advance`). */
  applied: number;
  /** Highest index known durable on this node's disk. Entries above it are the unstable tail. */
  stabled: number;

  constructor(offset = 0, offsetTerm = 0) {
    this.offset = offset;
    this.offsetTerm = offsetTerm;
    this.committed = offset;
    this.applied = offset;
    this.stabled = offset;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    const n = this.entries.length;
    return n === 0 ? this.offsetTerm : this.entries[n - 1].term;
  }

  /** Term of entry `i`, or -1 when `i` is compacted away or beyond the end. */
  term(i: number): number {
    if (i === this.offset) return this.offsetTerm;
    if (i < this.offset || i > this.offset + this.entries.length) return -1;
    return this.entries[i - this.offset - 1].term;
  }

  entry(i: number): Entry | undefined {
    return this.entries[i - this.offset - 1];
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Appends `ents`, truncating any suffix that starts at or after `ents[0].index`. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const first = ents[0].index;
    assert(first > this.committed, 'append would overwrite committed entries', {
      first,
      committed: this.committed,
    });
    assert(first <= this.lastIndex() + 1, 'append leaves a gap', { first, last: this.lastIndex() });
    const keep = first - this.offset - 1;
    if (keep < this.entries.length) {
      this.entries.length = keep;
      // The overwritten tail was perhaps durable; it no longer is what the log says.
      if (this.stabled > first - 1) this.stabled = first - 1;
    }
    for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
    return this.lastIndex();
  }

  /** First index in `ents` whose term differs from ours (0 when all match). Compacted entries match. */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i];
      if (e.index <= this.offset) continue;
      if (this.term(e.index) !== e.term) return e.index;
    }
    return 0;
  }

  /**
   * Follower side of AppendEntries. Returns the index of the last new entry, or -1 when the log does not
   * contain (prevIndex, prevTerm) and the leader must back up.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, ents: readonly Entry[]): number {
    if (prevIndex < this.offset) {
      // The prefix is inside our snapshot, hence committed and matching: skip what we already cover.
      let k = 0;
      while (k < ents.length && ents[k].index <= this.offset) k++;
      if (k === ents.length) return -1;
      ents = ents.slice(k);
      prevIndex = this.offset;
      prevTerm = this.offsetTerm;
    }
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    const lastNew = prevIndex + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) this.append(ci === ents[0].index ? ents : ents.slice(ci - ents[0].index));
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  commitTo(c: number): void {
    if (c <= this.committed) return;
    assert(c <= this.lastIndex(), 'commit beyond the last index', { c, last: this.lastIndex() });
    this.committed = c;
  }

  /**
   * Fast backtracking (etcd's findConflictByTerm): the largest index <= `index` whose term is <= `term`.
   * A follower uses it to tell the leader where the logs can possibly agree, skipping a whole term per round
   * trip instead of one entry.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    let i = Math.min(index, this.lastIndex());
    while (i > this.offset) {
      const t = this.term(i);
      if (t <= term) return [i, t];
      i--;
    }
    return [this.offset, this.offsetTerm];
  }

  /** Entries [lo, hi) limited to `maxBytes` (at least one entry). Empty when lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number, maxCount: number): Entry[] {
    if (lo <= this.offset || lo >= hi) return [];
    const start = lo - this.offset - 1;
    let end = Math.min(hi - this.offset - 1, start + maxCount);
    let bytes = 0;
    for (let i = start; i < end; i++) {
      bytes += this.entries[i].data.length + 16;
      if (bytes > maxBytes && i > start) {
        end = i;
        break;
      }
    }
    return this.entries.slice(start, end);
  }

  /** Entries not yet durable. */
  unstableEntries(): Entry[] {
    if (this.stabled >= this.lastIndex()) return [];
    return this.entries.slice(Math.max(0, this.stabled - this.offset));
  }

  hasNextCommitted(): boolean {
    return this.committed > this.applied;
  }

  nextCommitted(maxCount: number): Entry[] {
    const lo = this.applied + 1;
    const hi = Math.min(this.committed, this.applied + maxCount);
    if (hi < lo) return [];
    return this.entries.slice(lo - this.offset - 1, hi - this.offset);
  }

  /** Drops entries up to `index` (which must be applied). Keeps `term(index)` for the consistency check. */
  compact(index: number): void {
    if (index <= this.offset) return;
    assert(index <= this.applied, 'compacting unapplied entries', { index, applied: this.applied });
    const t = this.term(index);
    this.entries.splice(0, index - this.offset);
    this.offset = index;
    this.offsetTerm = t;
    if (this.stabled < index) this.stabled = index;
  }

  /** Replaces the whole log by a snapshot's position (InstallSnapshot on a follower, or restart). */
  restore(index: number, term: number): void {
    this.entries = [];
    this.offset = index;
    this.offsetTerm = term;
    this.committed = index;
    this.applied = index;
    this.stabled = index;
  }
}
