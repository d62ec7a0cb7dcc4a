import { afterEach, describe, expect, it } from 'vitest';
import { CoordinatorGossip } from '../../src/node/coordinator-gossip.js';
import { GossipMember } from '../../src/node/gossip-member.js';
import { freePorts } from '../../src/node/processes.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { encodePatterns, type Pattern } from '../../src/swarm/agent/index.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';
import { coordinators, featureOf, query } from './coordinators.js';

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop().catch(() => {})));
});

async function pair(): Promise<[CoordinatorGossip, CoordinatorGossip, Map<number, Address>]> {
  const ports = await freePorts(2);
  const http = new Map(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
  const gs = [1, 2].map((self) => CoordinatorGossip.start({ self, http, config: FAST, tickMs: 10 }));
  const [g1, g2] = await Promise.all(gs);
  running.push(g1, g2);
  await waitUntil(() => g1.view()[2] === 'alive' && g2.view()[1] === 'alive', 15_000);
  return [g1, g2, http];
}

const patterns = (n: number): Pattern[] =>
  Array.from({ length: n }, (_, i) => ({ origin: 'agent-x', hi: 0, lo: i, action: i % 5, q: i / 1000 }));

describe("the agents' patterns on the coordinators' gossip", () => {
  it('every pattern published reaches the other coordinator, paced so the ring of 8 broadcasts never laps', async () => {
    const [g1, g2] = await pair();
    const got: Pattern[] = [];
    g2.patterns.listen((ps) => got.push(...ps));
    g1.patterns.publish(patterns(500));
    // 40 patterns a broadcast, two broadcasts a gossip interval: the first two go at once, the rest wait.
    expect([g1.patterns.stats.broadcasts, g1.patterns.stats.sent, g1.patterns.pending]).toEqual([2, 80, 420]);
    await waitUntil(() => got.length === 500, 20_000);
    // In order, each once, named after the coordinator that broadcast them.
    expect(got.map((p) => p.lo)).toEqual(patterns(500).map((p) => p.lo));
    expect(new Set(got.map((p) => p.origin))).toEqual(new Set([g1.member.name]));
    expect(g1.patterns.stats).toMatchObject({ queued: 500, broadcasts: 13, sent: 500, dropped: 0 });
    expect(g2.patterns.stats).toMatchObject({ heard: 13, received: 500, refused: 0 });
  });

  it('beyond the queue bound the oldest patterns are dropped, and counted', async () => {
    const [g1] = await pair();
    g1.patterns.publish(patterns(4096 + 200));
    // The first 80 went out before the bound was applied to what waits.
    expect(g1.patterns.stats.dropped + g1.patterns.pending + g1.patterns.stats.sent).toBe(4296);
    expect(g1.patterns.pending).toBeLessThanOrEqual(4096);
    expect(g1.patterns.stats.dropped).toBeGreaterThan(0);
  });

  it('a member that is not a coordinator, and bytes that are not patterns, are refused and reach no agent', async () => {
    const [g1, g2, http] = await pair();
    const got: Pattern[] = [];
    g2.patterns.listen((ps) => got.push(...ps));
    // A stranger joins the (unkeyed) gossip and broadcasts well-formed patterns: not one of the coordinators.
    const [port] = await freePorts(1);
    const stranger = await GossipMember.start({
      listen: { host: '127.0.0.1', port },
      seeds: [`127.0.0.1:${http.get(1)!.port}`],
      config: FAST,
      tickMs: 10,
    });
    running.push(stranger);
    stranger.core.broadcastPattern(encodePatterns(patterns(3)));
    // A coordinator broadcasting bytes that do not decode.
    g1.member.core.broadcastPattern(new Uint8Array([9, 9, 9]));
    await waitUntil(() => g2.patterns.stats.refused === 2, 15_000);
    // Then a good broadcast from the coordinator still arrives.
    g1.patterns.publish(patterns(1));
    await waitUntil(() => got.length === 1, 15_000);
    expect(g2.patterns.stats).toMatchObject({ heard: 1, received: 1, refused: 2 });
  });

  it("a confident answer's pattern reaches every coordinator's agents through gossip, with no POST", async () => {
    const { url, services } = await coordinators(undefined, 0, {}, true);
    const a = featureOf(1); // hosted by coordinator 2
    const agents = async (id: number) =>
      (await (await fetch(`${url(id)}/agents`)).json()) as {
        hosted: number;
        standby: { agents: number };
        federation: Record<string, number>;
        pattern_gossip: Record<string, number> | null;
      };
    for (let q = 100; q < 106; q++) {
      const r = await query(url(2), {
        id: q,
        type: 'troubleshoot',
        text: '',
        features: [a.id],
        complexity: 'simple',
      });
      expect(r.status).toBe(200);
      const f = await fetch(`${url(2)}/feedback`, {
        method: 'POST',
        body: JSON.stringify({ queryId: q, feature: a.id, rating: 1, resolved: true }),
      });
      expect(f.status).toBe(200);
    }
    await services[1].federation.round();
    const host = await agents(2);
    expect(host.federation.patternsFound).toBeGreaterThanOrEqual(1);
    expect(host.federation).toMatchObject({
      patternsGossiped: host.federation.patternsFound,
      patternPosts: 0,
      patternPostsFailed: 0,
    });
    expect(host.pattern_gossip).toMatchObject({ sent: host.federation.patternsFound, dropped: 0 });
    for (const id of [1, 3]) {
      let other = await agents(id);
      for (const end = Date.now() + 15_000; other.federation.patternsReceived === 0 && Date.now() < end; )
        other = await new Promise((r) => setTimeout(r, 50)).then(() => agents(id));
      expect(other.federation.patternsReceived).toBe(host.federation.patternsFound);
      const all = (other.hosted + other.standby.agents) * host.federation.patternsFound;
      if (id === 1) expect(other.federation.patternsApplied).toBe(all);
      else {
        // Coordinator 3 is coordinator 2's standby host, and the round mirrors the category's tables there while
        // the gossip carries the pattern: a standby agent that already holds its primary's experience of the
        // state takes no pattern for it (FeatureAgent.applyPattern); every other agent does.
        expect(other.federation.patternsApplied).toBeGreaterThanOrEqual(
          other.hosted * host.federation.patternsFound,
        );
        expect(other.federation.patternsApplied).toBeLessThanOrEqual(all);
      }
      expect(other.pattern_gossip).toMatchObject({ received: host.federation.patternsFound, refused: 0 });
    }
  });
});
