/**
 * The peer deltas a member has already taken in, to refuse a replay: a delta's bytes are signed, not secret, so
 * anyone who saw one can send it again, and taken twice its samples would count twice.
 *
 * Each delta carries its origin's life (`epoch`, kept durably by the origin and larger after every restart) and
 * its place in that life (`seq`, from 1). Per origin the guard keeps the latest life it has seen, the highest
 * seq taken in it, and which of the `REPLAY_WINDOW` seqs below that were taken: IPsec's anti-replay window
 * (RFC 4303 §3.4.3), which lets datagrams arrive out of order. Refused: a seq already taken, one older than the
 * window, and any delta of an earlier life. State per origin is constant, so a replay is refused however many
 * deltas came after it (a window of remembered hashes forgot it after 256).
 *
 * The guard lives in memory: a member that restarts takes again, once each, every delta of an origin's current
 * life within `REPLAY_WINDOW` of the highest seq it then receives (its own table, which counted the originals,
 * is gone with the restart, but what it relayed or aggregated from them is not). Not only the first, as this
 * said until session 25: a replay of a peer's captured deltas after a restart counts their samples again.
 */

/** Seqs below an origin's highest that may still arrive (reordered); older ones are refused. */
export const REPLAY_WINDOW = 64;

interface OriginLife {
  epoch: number;
  top: number;
  /** slot[seq % REPLAY_WINDOW] === seq: that seq was taken. */
  slot: Float64Array;
}

export class ReplayGuard {
  private readonly origins = new Map<string, OriginLife>();

  /**
   * Why the delta (`epoch`, `seq`) from `origin` must be refused, or null: it is new, and is now remembered.
   * Call it only for a delta whose signature verified, so nobody else can move an origin's window.
   */
  refusal(origin: string, epoch: number, seq: number): string | null {
    if (!(seq >= 1)) return `delta from '${origin}' carries no seq`;
    let o = this.origins.get(origin);
    if (o === undefined || epoch > o.epoch) {
      o = { epoch, top: 0, slot: new Float64Array(REPLAY_WINDOW).fill(-1) };
      this.origins.set(origin, o);
    } else if (epoch < o.epoch) {
      return `delta from '${origin}' is from its life ${epoch}, before its current life ${o.epoch}`;
    }
    if (seq + REPLAY_WINDOW <= o.top)
      return `delta ${seq} from '${origin}' is older than the window (its latest is ${o.top})`;
    const i = seq % REPLAY_WINDOW;
    if (o.slot[i] === seq) return `delta ${seq} from '${origin}' already received`;
    o.slot[i] = seq;
    if (seq > o.top) o.top = seq;
    return null;
  }
}
