/**
 * A binary min-heap of simulator events ordered by (time, seq). `seq` is a global insertion counter, so
 * events at equal times fire in the order they were scheduled: the stable order determinism depends on.
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
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  peekTime(): number {
    return this.heap.length ? this.heap[0].t : Number.POSITIVE_INFINITY;
  }

  push(ev: SimEvent): void {
    ev.seq = this.nextSeq++;
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (parent.t < ev.t || (parent.t === ev.t && parent.seq < ev.seq)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const n = h.length;
    if (n === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (n > 1) {
      const size = n - 1;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const r = l + 1;
        let c = l;
        let child = h[l];
        if (r < size) {
          const rc = h[r];
          if (rc.t < child.t || (rc.t === child.t && rc.seq < child.seq)) {
            c = r;
            child = rc;
          }
        }
        if (last.t < child.t || (last.t === child.t && last.seq < child.seq)) break;
        h[i] = child;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
