/**
 * The peer deltas a member has already taken in, to refuse a replay: the same signed delta twice (a replay,
 * or a resend after a lost ack) would count its samples twice.
 */
import { fnv1a } from '../core/index.js';

/** Peer deltas remembered per origin to refuse replays (Ed25519 signatures are deterministic: same bytes). */
const REPLAY_WINDOW = 256;

export class ReplayGuard {
  private readonly recent = new Map<string, number[]>();

  /** Remembers the last `REPLAY_WINDOW` peer deltas per origin (by a hash of their signed bytes). */
  seenBefore(origin: string, signed: Uint8Array): boolean {
    const hash = fnv1a(signed);
    let ring = this.recent.get(origin);
    if (!ring) {
      ring = [];
      this.recent.set(origin, ring);
    }
    if (ring.includes(hash)) return true;
    ring.push(hash);
    if (ring.length > REPLAY_WINDOW) ring.shift();
    return false;
  }
}
