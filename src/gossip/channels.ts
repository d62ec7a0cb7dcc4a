import { ByteReader, ByteWriter, ElexError } from '../core/index.js';
import type { GossipEvent } from './events.js';
import { Channel, type ChannelName } from './member.js';
import type { GossipNode } from './node.js';

export interface ChannelUpdate {
  member: string;
  key: string;
  value: Uint8Array;
  version: number;
}

/**
 * The three typed channels the swarm uses, over one node's per-member keys:
 * - `health`: one small status blob per member (load, epoch...), disseminated when it changes. Liveness
 *   itself is not here: it comes from the direct heartbeats and phi (`node.liveness`).
 * - `state`: opaque per-key payloads, e.g. Q-table deltas keyed by table shard; each ≤ maxValueBytes,
 *   larger tables are split across keys by the caller.
 * - `pattern`: broadcasts, kept in a ring of `patternSlots` keys per member (newest overwrite oldest).
 */
export class GossipChannels {
  constructor(readonly core: GossipNode) {}

  setHealth(value: Uint8Array): void {
    this.core.set(Channel.health, '', value);
  }

  health(member: string): Uint8Array | undefined {
    return this.core.get(member, Channel.health, '');
  }

  setState(key: string, value: Uint8Array): void {
    this.core.set(Channel.state, key, value);
  }

  state(member: string, key: string): Uint8Array | undefined {
    return this.core.get(member, Channel.state, key);
  }

  /**
   * A value larger than one datagram, split into `key#0..n-1` chunks written first and a manifest `key#`
   * written last. Versions are consecutive per writer and deltas are applied as prefixes, so a reader that
   * has the manifest has every chunk of that write unless a later write overwrote some; the manifest records
   * the first chunk's version and `stateChunked` checks each one, so a mixed read is impossible.
   */
  setStateChunked(key: string, value: Uint8Array): number {
    // Checked before anything is written: a write refused half-way would leave no complete value at all.
    // Chunk size for chunk keys `key#i` of at most `digits` digits (longer keys leave less room per chunk).
    let max = 0;
    let n = 1;
    for (let digits = 1; ; digits++) {
      max = this.core.maxValueFor(`${key}#${'9'.repeat(digits)}`);
      if (max < 1)
        throw new ElexError('E_TOO_LARGE', `chunk keys of "${key}" leave no room for a value in a datagram`);
      n = Math.max(1, Math.ceil(value.length / max));
      if (String(n - 1).length <= digits) break;
    }
    let first = -1;
    for (let i = 0; i < n; i++) {
      this.core.set(Channel.state, `${key}#${i}`, value.subarray(i * max, (i + 1) * max));
      if (i === 0) first = this.core.getEntry(this.core.name, Channel.state, `${key}#0`)!.version;
    }
    this.core.set(
      Channel.state,
      `${key}#`,
      new ByteWriter(16).varint(n).varint(value.length).varint(first).finish(),
    );
    return n;
  }

  /** The complete chunked value as of the member's last finished write, or undefined if not all here yet. */
  stateChunked(member: string, key: string): Uint8Array | undefined {
    const manifest = this.core.get(member, Channel.state, `${key}#`);
    if (!manifest) return undefined;
    // Any member can write any bytes under `key#`: what does not parse, or does not match its chunks, is no
    // complete value (and allocates nothing before the chunks are found).
    let n: number;
    let length: number;
    let first: number;
    try {
      const r = new ByteReader(manifest);
      n = r.varint();
      length = r.varint();
      first = r.varint();
    } catch {
      return undefined;
    }
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (let i = 0; i < n; i++) {
      const c = this.core.getEntry(member, Channel.state, `${key}#${i}`);
      if (!c || c.version !== first + i || at + c.value.length > length) return undefined;
      chunks.push(c.value);
      at += c.value.length;
    }
    if (at !== length) return undefined;
    const out = new Uint8Array(length);
    at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Returns the broadcast's sequence number (per member). */
  broadcastPattern(value: Uint8Array): number {
    return this.core.broadcastPattern(value);
  }

  /** The member's retained patterns, oldest first. */
  patterns(member: string): Uint8Array[] {
    return this.core.entries(member, Channel.pattern).map((e) => e.value);
  }

  /** Calls `fn` for every update of `channel` (own writes included). Returns the unsubscribe function. */
  on(channel: ChannelName, fn: (u: ChannelUpdate) => void): () => void {
    return this.core.subscribe((e: GossipEvent) => {
      if (e.kind === 'key' && e.channel === channel)
        fn({ member: e.member, key: e.key, value: e.value, version: e.version });
    });
  }
}
