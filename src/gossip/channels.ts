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
