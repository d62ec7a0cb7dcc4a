import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { encode, MsgType } from '../../src/gossip/index.js';
import { GossipMember } from '../../src/node/gossip-member.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';

const running: GossipMember[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

describe('a member named by an address no datagram can be sent to', () => {
  it('one JOIN from a stranger named "127.0.0.1:0" does not make the member throw on its next tick', async () => {
    // The member's own timer is stopped: the test ticks it by hand, so a throw is seen here instead of
    // escaping as an uncaught exception from setInterval (which kills an `elex coordinator`).
    const m = await GossipMember.start({ listen: { host: '127.0.0.1', port: 0 }, config: FAST });
    clearInterval((m as unknown as { timer: NodeJS.Timeout }).timer);
    running.push(m);
    const port = Number(m.name.split(':')[1]);
    const raw = createSocket('udp4');
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
    // No cluster key: anyone who can send a datagram can join (docs/gossip.md, "Not built").
    const join = encode({ type: MsgType.join, sender: '127.0.0.1:0', gen: 1, inc: 0 });
    await new Promise<void>((r) => raw.send(join, port, '127.0.0.1', () => r()));
    raw.close();
    await waitUntil(() => m.members().some((x) => x.name === '127.0.0.1:0'), 5_000);
    const driver = (m as unknown as { driver: { tick(): void } }).driver;
    // Its gossip round (and rumor flush) now addresses the stranger: socket.send throws ERR_SOCKET_BAD_PORT
    // synchronously for port 0, and UdpTransport.send does not catch it.
    expect(() => driver.tick()).not.toThrow();
  });
});
