/**
 * The leader's view of one follower (etcd's tracker.Progress).
 *
 * - Probe: we do not know where the follower's log ends; send one App per heartbeat interval and wait.
 * - Replicate: the follower is keeping up; send optimistically (pipelining), bounded by `inflight`.
 * - Snapshot: the follower needs a snapshot; stream it in chunks and send nothing else.
 */
import type { Snapshot } from './types.js';
export const ProgressState = { Probe: 0, Replicate: 1, Snapshot: 2 } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];
export const PROGRESS_NAMES: readonly string[] = ['probe', 'replicate', 'snapshot'];

/** Ring buffer of the last index of each unacknowledged App (the pipelining window). */
export class Inflights {
  private readonly buf: Float64Array;
  private start = 0;
  count = 0;

  constructor(readonly size: number) {
    this.buf = new Float64Array(size);
  }

  full(): boolean {
    return this.count === this.size;
  }

  add(last: number): void {
    this.buf[(this.start + this.count) % this.size] = last;
    this.count++;
  }

  /** Frees every in-flight message whose last index is <= `index` (they are acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.buf[this.start] <= index) {
      this.start = (this.start + 1) % this.size;
      this.count--;
    }
  }

  freeFirst(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.size;
    this.count--;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export class Progress {
  match = 0;
  next = 1;
  state: ProgressState = ProgressState.Probe;
  /** Probe: an App is outstanding; wait for its answer or the next heartbeat before sending another. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  isLearner: boolean;
  readonly inflights: Inflights;
  /** Snapshot state: index of the snapshot being streamed and bytes the follower has acknowledged. */
  pendingSnapshot = 0;
  snapOffset = 0;
  /** Snapshot state: chunks sent since the last ack (bounded like `inflights`). */
  snapSent = 0;
  /**
   * Snapshot state: the snapshot being streamed, pinned while the leader's log still holds the entries after
   * it (a newer one taken meanwhile would restart a slow stream from byte 0 every time).
   */
  streaming: Snapshot | null = null;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.isLearner = isLearner;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapOffset = 0;
    this.snapSent = 0;
    this.streaming = null;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot the follower holds at least the snapshot index.
    const from =
      this.state === ProgressState.Snapshot ? Math.max(this.match, this.pendingSnapshot) : this.match;
    this.reset(ProgressState.Probe);
    this.next = from + 1;
  }

  becomeReplicate(): void {
    this.reset(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snap: Snapshot): void {
    this.reset(ProgressState.Snapshot);
    this.pendingSnapshot = snap.meta.index;
    this.streaming = snap;
  }

  /** An acknowledgement up to `n`. Returns whether it moved `match` forward. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /**
   * A rejection of the App whose previous entry was `rejected`; `hint` is the follower's guess of the
   * highest index where the logs may agree. Returns false for stale rejections (already superseded).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending another App must wait. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }
}
