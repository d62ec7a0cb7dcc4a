/**
 * A binary min-heap of simulator events ordered by (time, seq). `seq` is a global insertion counter, so
 * events at equal times fire in the order they were scheduled: the stable order determinism depends on.
 *
 * The keys live in typed arrays beside the heap of events (`ts[i]`, `seqs[i]` are `heap[i]`'s): sifting
 * compares contiguous numbers instead of loading an event object per comparison (cache misses: the queue
 * holds thousands of events in a large simulation). (time, seq) is a total order, so the pop order is the
 * same whatever the heap's shape.
 */
export interface SimEvent {
  t: number;
  seq: number;
  kind: number;
  node: number;
  epoch: number;
  from: number;
  bytes: number;
  type: string;
  payload: unknown;
  fn: (() => void) | null;
  /** The heap key of its first deferral (NaN: never deferred); a pause extended re-defers it under the same key. */
  deferKey: number;
}

/** Heap keys of deferred events sit this far below ordinary seqs (insertion counters stay far below it). */
const DEFERRED_OFFSET = 2 ** 52;

export class EventQueue {
  private heap: SimEvent[] = [];
  private ts = new Float64Array(256);
  private seqs = new Float64Array(256);
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  peekTime(): number {
    return this.n > 0 ? this.ts[0] : Number.POSITIVE_INFINITY;
  }

  private grow(): void {
    const cap = this.ts.length * 2;
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    this.ts = ts;
    this.seqs = seqs;
  }

  push(ev: SimEvent): void {
    const seq = this.nextSeq++;
    ev.seq = seq;
    this.insert(ev, seq);
  }

  /**
   * Re-queues an event deferred to `ev.t` (a pause ended): it runs before the events scheduled for exactly that
   * time in the ordinary way, which were due no earlier, and after earlier-deferred ones. Plain `push` put it
   * behind them, so a timer due at the pause's end overtook timers and messages due during the pause.
   * `ev.seq` is still drawn from the insertion counter (the trace hash sees the same numbers); only the heap
   * key is moved below every ordinary seq.
   */
  pushDeferred(ev: SimEvent): void {
    const seq = this.nextSeq++;
    ev.seq = seq;
    // Deferred again (the pause was extended while it waited): it keeps its first key, so what waited longer
    // still runs first. A new key put everything held back during the extension ahead of it (session 23).
    if (Number.isNaN(ev.deferKey)) ev.deferKey = seq - DEFERRED_OFFSET;
    this.insert(ev, ev.deferKey);
  }

  /** Sifts `ev` up from the end of the heap to its place by (time, key). */
  private insert(ev: SimEvent, key: number): void {
    const t = ev.t;
    if (this.n === this.ts.length) this.grow();
    const h = this.heap;
    const ts = this.ts;
    const seqs = this.seqs;
    let i = this.n++;
    // An ordinary push has the largest key so far: it moves up only past strictly later times.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ts[p] < t || (ts[p] === t && seqs[p] < key)) break;
      h[i] = h[p];
      ts[i] = ts[p];
      seqs[i] = seqs[p];
      i = p;
    }
    h[i] = ev;
    ts[i] = t;
    seqs[i] = key;
  }

  pop(): SimEvent | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    const h = this.heap;
    const top = h[0];
    const size = n - 1;
    this.n = size;
    const last = h.pop()!;
    if (size > 0) {
      const ts = this.ts;
      const seqs = this.seqs;
      const lt = ts[size];
      const ls = seqs[size];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        let c = l;
        let ct = ts[l];
        let cs = seqs[l];
        const r = l + 1;
        if (r < size) {
          const rt = ts[r];
          if (rt < ct || (rt === ct && seqs[r] < cs)) {
            c = r;
            ct = rt;
            cs = seqs[r];
          }
        }
        if (lt < ct || (lt === ct && ls < cs)) break;
        h[i] = h[c];
        ts[i] = ct;
        seqs[i] = cs;
        i = c;
      }
      h[i] = last;
      ts[i] = lt;
      seqs[i] = ls;
    }
    return top;
  }
}
