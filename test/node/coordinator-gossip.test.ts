import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { CoordinatorGossip } from '../../src/node/coordinator-gossip.js';
import { freePorts } from '../../src/node/processes.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';

const running = new Set<CoordinatorGossip>();
afterEach(async () => {
  await Promise.all([...running].map((g) => g.stop().catch(() => {})));
  running.clear();
});

async function book(n: number): Promise<Map<number, Address>> {
  const ports = await freePorts(n);
  return new Map(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
}

async function start(self: number, http: Map<number, Address>, keyring?: ClusterKeyring) {
  const g = await CoordinatorGossip.start({ self, http, keyring, config: FAST, tickMs: 10 });
  running.add(g);
  return g;
}

const until = (cond: () => boolean) => waitUntil(cond, 15_000);

describe("coordinators' gossip: the failure detector behind the failover", () => {
  it('a crashed coordinator becomes suspected by the others; one that left, at once; a restart clears it', async () => {
    const http = await book(3);
    const [g1, g2, g3] = [await start(1, http), await start(2, http), await start(3, http)];
    await until(() => g1.view()[2] === 'alive' && g1.view()[3] === 'alive' && g3.view()[2] === 'alive');
    expect([g1.suspected(2), g1.suspected(3), g3.suspected(1)]).toEqual([false, false, false]);
    await g2.stop(); // a crash: no word to anyone
    running.delete(g2);
    await until(() => g1.suspected(2) && g3.suspected(2));
    expect(['suspect', 'dead']).toContain(g1.view()[2]);
    await g3.leave();
    running.delete(g3);
    await until(() => g1.view()[3] === 'left');
    expect(g1.suspected(3)).toBe(true);
    // Coordinator 2 back on the same address: a new generation, alive again, asked again.
    await start(2, http);
    await until(() => g1.view()[2] === 'alive');
    expect(g1.suspected(2)).toBe(false);
  });

  it('coordinators named by host name, as --http-peers may name them, are mapped and suspected too', async () => {
    const http = new Map([...(await book(2))].map(([id, a]) => [id, { host: 'localhost', port: a.port }]));
    const [g1, g2] = [await start(1, http), await start(2, http)];
    expect(g1.member.name).toBe(`localhost:${http.get(1)!.port}`);
    await until(() => g1.view()[2] === 'alive' && g2.view()[1] === 'alive');
    await g2.stop();
    running.delete(g2);
    await until(() => g1.suspected(2));
  });

  it('coordinators started with different coordinator lists find out through gossip, and say which', async () => {
    const http = await book(3);
    const [g1, g2] = [await start(1, http), await start(2, http)];
    // Coordinator 3 was given a list without coordinator 2 (a typo in one --http-peers): categories would be
    // assigned differently there, so parts and ratings would be refused or go astray.
    const g3 = await start(3, new Map([...http].filter(([id]) => id !== 2)));
    const heard = (g: CoordinatorGossip, id: number) => g.mismatch().coordinators.includes(id);
    await until(() => heard(g1, 3) && heard(g2, 3) && heard(g3, 1));
    expect(g1.mismatch()).toEqual({ coordinators: [3], unknown: [] });
    expect(g2.mismatch()).toEqual({ coordinators: [3], unknown: [] });
    // Coordinator 3 hears coordinator 2 (through the others, or from it), which its list does not name.
    await until(() => g3.mismatch().unknown.length === 1);
    expect(g3.mismatch()).toEqual({ coordinators: [1], unknown: [`127.0.0.1:${http.get(2)!.port}`] });
  });

  it('names map to ids by HTTP address; an id never heard of is not suspected', async () => {
    const http = await book(2);
    const g1 = await start(1, http);
    expect(g1.view()).toEqual({ 2: 'unknown' });
    expect([g1.suspected(2), g1.suspected(9)]).toEqual([false, false]);
    expect(g1.member.name).toBe(`127.0.0.1:${http.get(1)!.port}`);
  });

  it('an address it cannot listen on is a typed error that says how to run without gossip', async () => {
    const http = await book(2);
    await start(1, http);
    await expect(start(1, http)).rejects.toMatchObject({
      code: 'E_LISTEN',
      message: expect.stringMatching(/--http-peers address; --no-gossip runs without it/),
    });
  });

  it('the harness picks ports free for UDP as for TCP, all different (a coordinator gossips at its HTTP port)', async () => {
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      const udp = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((r) => udp.close(() => r()));
    }
  });

  it('on a keyed cluster a coordinator with another key is never heard, so never taken for alive', async () => {
    const http = await book(2);
    const g1 = await start(1, http, ClusterKeyring.of([randomBytes(32)]));
    const g2 = await start(2, http, ClusterKeyring.of([randomBytes(32)]));
    await new Promise((r) => setTimeout(r, 500));
    expect([g1.view()[2], g2.view()[1]]).toEqual(['unknown', 'unknown']);
    expect(g1.member.stats.unauthenticated).toBeGreaterThan(0);
  });
});
