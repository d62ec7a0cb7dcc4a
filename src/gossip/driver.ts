import type { Clock } from '../core/index.js';
import type { GossipTransport, Outbound } from './events.js';
import type { GossipNode } from './node.js';

/**
 * The glue every driver repeats: read the clock, call the core, hand what it returns to the transport.
 * Call `tick()` every 100–250 ms (at most every second: longer gaps are taken for a stall of this member)
 * and `receive()` per datagram.
 */
export class GossipDriver {
  constructor(
    readonly core: GossipNode,
    private readonly transport: GossipTransport,
    private readonly clock: Clock,
  ) {}

  tick(): void {
    this.flush(this.core.tick(this.clock.now()));
  }

  receive(datagram: Uint8Array): void {
    this.flush(this.core.handle(datagram, this.clock.now()));
  }

  leave(): void {
    this.flush(this.core.leave(this.clock.now()));
  }

  /** `core.sendUser`, sent at once. */
  sendUser(payload: Uint8Array, fanout: number, accept?: (member: string) => boolean): void {
    this.flush(this.core.sendUser(payload, fanout, accept));
  }

  private flush(out: Outbound[]): void {
    for (let i = 0; i < out.length; i++) this.transport.send(out[i].to, out[i].data, out[i].kind);
  }
}
