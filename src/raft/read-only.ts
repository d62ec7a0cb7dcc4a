/**
 * Pending ReadIndex requests on the leader (etcd's readOnly, safe mode only). A request records the commit
 * index at arrival; it is released once a quorum of voters has acknowledged a heartbeat carrying its context,
 * proving that no newer leader existed when the request arrived. Releasing a context also releases every
 * request queued before it: the same quorum round trip confirms leadership for them too.
 */
export interface ReadRequest {
  index: number;
  context: number;
  /** Node that asked (the leader itself, or a follower that forwarded a read). */
  from: number;
  acks: Set<number>;
}

export class ReadOnly {
  private readonly pending = new Map<number, ReadRequest>();
  private queue: number[] = [];

  get size(): number {
    return this.queue.length;
  }

  add(index: number, context: number, from: number): void {
    if (this.pending.has(context)) return;
    this.pending.set(context, { index, context, from, acks: new Set() });
    this.queue.push(context);
  }

  /** Records `from`'s ack of `context`. Returns the set of ackers, or undefined for an unknown context. */
  ack(from: number, context: number): Set<number> | undefined {
    const r = this.pending.get(context);
    if (r === undefined) return undefined;
    r.acks.add(from);
    return r.acks;
  }

  /** Removes and returns every request up to and including `context`, in arrival order. */
  release(context: number): ReadRequest[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const out: ReadRequest[] = [];
    for (let i = 0; i <= at; i++) {
      const r = this.pending.get(this.queue[i]);
      if (r !== undefined) out.push(r);
      this.pending.delete(this.queue[i]);
    }
    this.queue = this.queue.slice(at + 1);
    return out;
  }

  /** Oldest pending context (heartbeats repeat it so lost acks are retried). */
  last(): number {
    return this.queue.length === 0 ? 0 : this.queue[this.queue.length - 1];
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
