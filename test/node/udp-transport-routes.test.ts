import type { Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { MAX_ROUTES, UdpTransport } from '../../src/node/gossip-member.js';

describe('UdpTransport', () => {
  it('keeps a bounded route cache however many member names it is asked to reach', () => {
    const sent: string[] = [];
    const socket = {
      send: (_d: Uint8Array, port: number, host: string, cb: () => void) => {
        sent.push(`${host}:${port}`);
        cb();
      },
    } as unknown as Socket;
    const t = new UdpTransport(socket, undefined);
    const names = 3 * MAX_ROUTES;
    for (let i = 0; i < names; i++)
      t.send(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7000`, new Uint8Array(1));
    expect(t.routeCount).toBeLessThanOrEqual(MAX_ROUTES);
    expect(sent).toHaveLength(names); // starting the cache over loses no datagram
    expect(sent.at(-1)).toBe(`10.0.${((names - 1) >> 8) & 255}.${(names - 1) & 255}:7000`);
  });
});
