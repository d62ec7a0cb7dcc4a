import { createSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GossipMember } from '../../src/node/gossip-member.js';

const openFds = () => readdirSync('/proc/self/fd').length;

describe('GossipMember.start on a UDP port already in use', () => {
  it('refuses with E_LISTEN and gives the socket it created back (no file descriptor left open per failed start)', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    const port = holder.address().port;
    try {
      const codes = new Set<string>();
      const before = openFds();
      for (let i = 0; i < 20; i++) {
        try {
          const m = await GossipMember.start({ listen: { host: '127.0.0.1', port } });
          await m.stop();
          codes.add('started');
        } catch (e) {
          codes.add((e as { code?: string }).code ?? String(e));
        }
      }
      await new Promise((r) => setTimeout(r, 100));
      const leaked = openFds() - before;
      expect([...codes]).toEqual(['E_LISTEN']);
      // bindUdp (src/node/udp-socket.ts) rejects on the socket's 'error' without closing it: one fd per attempt.
      expect(leaked, `${leaked} descriptors still open after 20 failed starts`).toBeLessThan(3);
    } finally {
      holder.close();
    }
  });
});
