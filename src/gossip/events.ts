import type { ChannelName, Liveness } from './member.js';

/** What subscribers of a `GossipNode` are told, synchronously, as the node's view changes. */
export type GossipEvent =
  | {
      kind: 'member';
      name: string;
      status: Liveness;
      previous: Liveness;
      gen: number;
      inc: number;
    }
  | {
      kind: 'key';
      member: string;
      channel: ChannelName;
      key: string;
      value: Uint8Array;
      version: number;
    }
  | {
      /** A user message (`sendUser`) from a live member of the current generation. */
      kind: 'user';
      member: string;
      value: Uint8Array;
    };

export type GossipListener = (e: GossipEvent) => void;

/** A datagram the driver must deliver to the member named `to` (`kind` is for accounting only). */
export interface Outbound {
  to: string;
  data: Uint8Array;
  kind: string;
}

/**
 * The transport a real driver plugs the core into: datagrams up to `maxDatagramBytes`, addressed by member
 * name. The simulator's driver (src/sim/gossip/cluster.ts) is one implementation; UDP is another (not built).
 */
export interface GossipTransport {
  send(to: string, data: Uint8Array, kind: string): void;
}
