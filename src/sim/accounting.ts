/** Messages and bytes per node, per directed link and per message type, plus drops by reason. */
export interface Counter {
  messages: number;
  bytes: number;
}

export type DropReason = 'loss' | 'partition' | 'down' | 'paused-overflow';

export class Accounting {
  sentMessages = new Float64Array(0);
  sentBytes = new Float64Array(0);
  recvMessages = new Float64Array(0);
  recvBytes = new Float64Array(0);
  readonly byType = new Map<string, Counter>();
  /** Directed-link counters in an n×n matrix (`stride` = capacity), cheaper than a map on the hot path. */
  linkMessages = new Float64Array(0);
  linkBytes = new Float64Array(0);
  private stride = 0;
  private lastType = '';
  private lastCounter: Counter = { messages: 0, bytes: 0 };
  readonly dropped: Record<DropReason, number> = { loss: 0, partition: 0, down: 0, 'paused-overflow': 0 };
  duplicated = 0;
  delivered = 0;
  perLink = true;

  grow(n: number): void {
    const g = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.sentMessages = g(this.sentMessages);
    this.sentBytes = g(this.sentBytes);
    this.recvMessages = g(this.recvMessages);
    this.recvBytes = g(this.recvBytes);
    if (this.perLink) {
      const lm = new Float64Array(n * n);
      const lb = new Float64Array(n * n);
      for (let a = 0; a < this.stride; a++) {
        lm.set(this.linkMessages.subarray(a * this.stride, (a + 1) * this.stride), a * n);
        lb.set(this.linkBytes.subarray(a * this.stride, (a + 1) * this.stride), a * n);
      }
      this.linkMessages = lm;
      this.linkBytes = lb;
    }
    this.stride = n;
  }

  sent(from: number, to: number, type: string, bytes: number): void {
    this.sentMessages[from]++;
    this.sentBytes[from] += bytes;
    let t = this.lastCounter;
    if (type !== this.lastType) {
      const found = this.byType.get(type);
      if (found === undefined) {
        t = { messages: 0, bytes: 0 };
        this.byType.set(type, t);
      } else t = found;
      this.lastType = type;
      this.lastCounter = t;
    }
    t.messages++;
    t.bytes += bytes;
    if (this.perLink) {
      const i = from * this.stride + to;
      this.linkMessages[i]++;
      this.linkBytes[i] += bytes;
    }
  }

  received(to: number, bytes: number): void {
    this.delivered++;
    this.recvMessages[to]++;
    this.recvBytes[to] += bytes;
  }

  link(from: number, to: number): Counter {
    if (!this.perLink || from >= this.stride || to >= this.stride) return { messages: 0, bytes: 0 };
    const i = from * this.stride + to;
    return { messages: this.linkMessages[i], bytes: this.linkBytes[i] };
  }

  /** A stable, JSON-ready summary (types sorted by name). */
  summary(): {
    messages: number;
    bytes: number;
    delivered: number;
    duplicated: number;
    dropped: Record<DropReason, number>;
    by_type: Record<string, Counter>;
  } {
    let messages = 0;
    let bytes = 0;
    for (let i = 0; i < this.sentMessages.length; i++) {
      messages += this.sentMessages[i];
      bytes += this.sentBytes[i];
    }
    const byType: Record<string, Counter> = {};
    for (const k of [...this.byType.keys()].sort()) byType[k] = { ...this.byType.get(k)! };
    return {
      messages,
      bytes,
      delivered: this.delivered,
      duplicated: this.duplicated,
      dropped: { ...this.dropped },
      by_type: byType,
    };
  }
}
