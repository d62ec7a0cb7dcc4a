/**
 * The first frame of every outbound Raft connection on a keyed cluster: who speaks to whom, when, and a random
 * nonce, sealed with the cluster key (context `raft-hello`). A receiver takes a connection as a peer's only
 * after a hello it has not seen before, from within `HELLO_SKEW_MS` of its own clock.
 *
 * Why: frames are sealed without a nonce and travel in the clear, so before session 25 anyone who had seen one
 * frame (a captured App) could send those bytes on connections of its own without the key. Each became a known
 * peer's connection: it could fill every inbound slot (the real peer was refused, E_TOO_MANY_CONNECTIONS) and was
 * lifted to the full frame limit (64 MiB per connection, not a stranger's 4 MiB). A replayed hello is refused,
 * and a replayed Raft frame is not a hello.
 */
import { randomBytes } from 'node:crypto';
import { ByteReader, ByteWriter, ElexError, encodeFrame } from '../core/index.js';
import type { ClusterKeyring } from './cluster-key.js';

/** How far a hello's time may be from the receiver's clock (nodes' clocks may disagree this much). */
export const HELLO_SKEW_MS = 5 * 60_000;
/** Nonces remembered at most (genuine connects are rare; only holders of the key can add one). */
const MAX_REMEMBERED = 4096;
const NONCE_BYTES = 16;

export interface Hello {
  from: number;
  to: number;
  atMs: number;
  nonce: string;
}

/** The framed, sealed hello `from` opens a connection to `to` with. */
export function helloFrame(auth: ClusterKeyring, from: number, to: number, nowMs: number): Uint8Array {
  const w = new ByteWriter(48)
    .u8(1)
    .varint(from + 1)
    .varint(to + 1)
    .varint(Math.max(0, Math.floor(nowMs)))
    .raw(randomBytes(NONCE_BYTES));
  return encodeFrame(auth.seal('raft-hello', w.finish()));
}

/** The hello in `payload` (already opened), or E_DECODE. */
export function decodeHello(payload: Uint8Array): Hello {
  const r = new ByteReader(payload);
  if (r.u8() !== 1) throw new ElexError('E_DECODE', 'unknown hello version');
  const from = r.varint() - 1;
  const to = r.varint() - 1;
  const atMs = r.varint();
  const nonce = Buffer.from(r.raw(NONCE_BYTES)).toString('hex');
  r.end();
  return { from, to, atMs, nonce };
}

/** The hellos a receiver has taken, so that none is taken twice. */
export class HelloGuard {
  private readonly seen = new Map<string, number>();

  /** Why `h` must be refused at `nowMs` (a code), or null: it is fresh, and is now remembered. */
  refusal(h: Hello, nowMs: number): string | null {
    if (Math.abs(nowMs - h.atMs) > HELLO_SKEW_MS) return 'E_HELLO_STALE';
    // Remembered for as long as a hello could still pass the time check.
    for (const [n, at] of this.seen) {
      if (at >= nowMs - 2 * HELLO_SKEW_MS && this.seen.size < MAX_REMEMBERED) break;
      this.seen.delete(n);
    }
    if (this.seen.has(h.nonce)) return 'E_REPLAY';
    this.seen.set(h.nonce, nowMs);
    return null;
  }
}
