import type { Socket } from 'node:dgram';
import { ElexError, type Rng } from '../core/index.js';
import type { FederationNetwork } from '../learning/index.js';
import type { Address } from './tcp-transport.js';
import { bindUdp } from './udp-socket.js';

/** The largest UDP payload over IPv4; a member's deltas must be split below it (`max_delta_bytes`). */
export const MAX_DATAGRAM = 65_507;

export interface UdpFederationOptions {
  /** The member this network carries messages for. */
  id: string;
  listen: Address;
  /** Where each other member is reached (more with `route`). */
  routes?: ReadonlyMap<string, Address>;
  /** Fraction of outgoing datagrams dropped on purpose, drawn from `rng` (to run the protocol under loss). */
  loss?: number;
  rng?: Rng;
  /** Datagrams kept for the next `drain` (default 4096); past it the oldest go: newer deltas supersede them. */
  inboxLimit?: number;
  /**
   * Bytes kept for the next `drain` (default 16 MiB), past it the oldest go too: 4096 datagrams of 64 KB were
   * 268 MB that anyone reaching the socket could make a member hold before its decoders see a byte.
   */
  inboxBytes?: number;
}

export interface UdpFederationStats {
  datagramsOut: number;
  bytesOut: number;
  datagramsIn: number;
  bytesIn: number;
  /** Dropped on purpose (`loss`). */
  dropped: number;
  /** Not sent: no route to the recipient. */
  unroutable: number;
  /** Not sent: larger than one datagram. */
  oversize: number;
  /** Received but pushed out of a full inbox before the member drained it. */
  overflowed: number;
}

export function zeroStats(): UdpFederationStats {
  return {
    datagramsOut: 0,
    bytesOut: 0,
    datagramsIn: 0,
    bytesIn: 0,
    dropped: 0,
    unroutable: 0,
    oversize: 0,
    overflowed: 0,
  };
}

/**
 * A `FederationNetwork` for one member on a UDP socket: each message is one datagram, addressed by member id
 * through a route table. It is as lossy as UDP, which the federation tolerates (acks, resends, anti-entropy).
 * It reads nothing in the bytes: every message is signed and checked by the member's decoders, which count
 * what they refuse.
 */
export class UdpFederationNetwork implements FederationNetwork {
  readonly stats = zeroStats();
  private readonly routes: Map<string, Address>;
  private inbox: Uint8Array[] = [];
  private inboxSize = 0;
  private closed = false;

  private constructor(
    readonly id: string,
    readonly address: Address,
    private readonly socket: Socket,
    private readonly o: UdpFederationOptions,
  ) {
    this.routes = new Map(o.routes ?? []);
    const limit = o.inboxLimit ?? 4096;
    const bytes = o.inboxBytes ?? 16 * 1024 * 1024;
    socket.on('message', (data) => {
      this.stats.datagramsIn++;
      this.stats.bytesIn += data.length;
      if (data.length > bytes) {
        this.stats.overflowed++;
        return;
      }
      while (this.inbox.length > 0 && (this.inbox.length >= limit || this.inboxSize + data.length > bytes)) {
        this.inboxSize -= this.inbox.shift()!.length;
        this.stats.overflowed++;
      }
      this.inbox.push(new Uint8Array(data));
      this.inboxSize += data.length;
    });
    socket.on('error', () => {}); // ICMP unreachable and the like: a lost datagram, which the protocol expects
  }

  static async bind(o: UdpFederationOptions): Promise<UdpFederationNetwork> {
    const loss = o.loss ?? 0;
    if (!(loss >= 0 && loss < 1)) throw new ElexError('E_CONFIG', 'loss must be in [0, 1)');
    if (loss > 0 && o.rng === undefined) throw new ElexError('E_CONFIG', 'loss needs an rng to draw from');
    const { socket, address } = await bindUdp(o.listen);
    return new UdpFederationNetwork(o.id, address, socket, o);
  }

  route(id: string, at: Address): void {
    this.routes.set(id, at);
  }

  send(from: string, to: string, message: Uint8Array): void {
    if (from !== this.id) throw new ElexError('E_CONFIG', `this network sends for ${this.id}, not ${from}`);
    if (this.closed) return;
    const at = this.routes.get(to);
    if (at === undefined) {
      this.stats.unroutable++;
      return;
    }
    if (message.length > MAX_DATAGRAM) {
      this.stats.oversize++;
      return;
    }
    if ((this.o.loss ?? 0) > 0 && (this.o.rng as Rng).next() < (this.o.loss ?? 0)) {
      this.stats.dropped++;
      return;
    }
    this.stats.datagramsOut++;
    this.stats.bytesOut += message.length;
    this.socket.send(message, at.port, at.host);
  }

  drain(id: string): Uint8Array[] {
    if (id !== this.id || this.inbox.length === 0) return [];
    const out = this.inbox;
    this.inbox = [];
    this.inboxSize = 0;
    return out;
  }

  /** Closes the socket; what was not drained is lost, as in a crash. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.inbox = [];
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
