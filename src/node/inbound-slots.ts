/**
 * Which inbound connections `TcpTransport` holds: strangers (not yet delivered a message) and known ones
 * (delivered one). Pure bookkeeping, no sockets: the transport closes what `admit` evicts.
 */
import { ElexError } from '../core/index.js';

export type Admission<T> =
  | { admitted: true; evicted: T | null }
  /** Every slot is held by a known connection: the newcomer is refused. */
  | { admitted: false };

export class InboundSlots<T> {
  /** In admission order, oldest first (a Set iterates in insertion order). */
  private readonly strangers = new Set<T>();
  private readonly known = new Set<T>();

  /**
   * `maxConnections`: connections held at once, strangers and known. `maxStrangers`: strangers held at once,
   * so what they make us buffer before authentication (each up to the first-frame limit) does not grow with
   * the connection cap.
   */
  constructor(
    readonly maxConnections: number,
    readonly maxStrangers: number,
  ) {
    for (const [name, v] of [
      ['maxInboundConnections', maxConnections],
      ['maxStrangers', maxStrangers],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new ElexError('E_CONFIG', `${name} must be an integer ≥ 1, got ${v}`);
    }
  }

  /**
   * Takes `c` as a stranger. At either bound, the oldest stranger is evicted to make room: a flood of silent
   * connections then only ever displaces itself, and a peer gets in at once instead of after their deadline.
   * Known connections are never evicted; when they hold every slot, `c` is refused.
   */
  admit(c: T): Admission<T> {
    const full = this.strangers.size >= this.maxStrangers || this.size >= this.maxConnections;
    let evicted: T | null = null;
    if (full) {
      const oldest = this.strangers.values().next();
      if (oldest.done) return { admitted: false };
      evicted = oldest.value;
      this.strangers.delete(evicted);
    }
    this.strangers.add(c);
    return { admitted: true, evicted };
  }

  /** `c` delivered a message: it is known from now on, and no newcomer can evict it. */
  promote(c: T): void {
    if (this.strangers.delete(c)) this.known.add(c);
  }

  /** `c` closed (or was evicted: then this does nothing). */
  remove(c: T): void {
    this.strangers.delete(c);
    this.known.delete(c);
  }

  get size(): number {
    return this.strangers.size + this.known.size;
  }

  get strangerCount(): number {
    return this.strangers.size;
  }

  get knownCount(): number {
    return this.known.size;
  }

  /** Every connection held, strangers first. */
  all(): T[] {
    return [...this.strangers, ...this.known];
  }
}
