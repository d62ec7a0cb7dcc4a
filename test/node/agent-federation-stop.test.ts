/**
 * What an `AgentFederation` does once `stop` was called while a round was in flight (fixed in session 25).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { AgentFederation } from '../../src/node/agent-federation.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { type ControlView, FeatureAgent, OWN_STATES } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const [cat] = catalog.categories;
const view: ControlView = { active: true, values: [], raftIndex: 1 };
const { type, complexity } = OWN_STATES[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function agents(seed: number) {
  return cat.features
    .slice(0, 3)
    .map((id, i) => new FeatureAgent(`agent-${id}`, catalog.get(id)!, new SeededRng(seed + i)));
}

describe('an AgentFederation stopped while a round is in flight', () => {
  it('sends nothing more after stop: the in-flight round does not go on to the mirror (and the returns)', async () => {
    // A peer that holds every POST /patterns until released: the round waits for it.
    const held: ServerResponse[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      req.resume();
      req.on('end', () => held.push(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const port = (server.address() as { port: number }).port;
    const list = agents(1);
    const [a] = list;
    // Three good ratings of one state: a confident pattern for the round to post.
    for (let q = 1; q <= 3; q++) {
      a.answer(q, type, complexity, a.feature, view);
      expect(a.feedback(q, 1, true, 0, a.feature.id)).toBe(true);
    }
    let mirrorRounds = 0;
    const fed = new AgentFederation({
      categories: new Map([[cat.name, list]]),
      peers: [{ host: '127.0.0.1', port }],
      intervalMs: 3_600_000,
      seed: 1,
      mirror: {
        round: async () => {
          mirrorRounds++;
        },
      },
    });
    const round = fed.round();
    for (let i = 0; i < 100 && held.length === 0; i++) await sleep(20);
    expect(held.length).toBe(1); // the round is in flight, waiting for the peer
    fed.stop(); // the coordinator stops (QueryService.stop, server close)
    for (const res of held) res.writeHead(200, { 'content-type': 'application/json' }).end('{"applied":0}');
    await round;
    // Before session 25: 1 — the mirror (and, in QueryService, the standby returns, which also rewrite
    // standby-returns.json) ran after stop.
    expect(mirrorRounds).toBe(0);
  });

  it('stop, start while a round is in flight, then stop: no round runs after the last stop', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let rounds = 0;
    let stopped = false;
    let afterStop = 0;
    const fed = new AgentFederation({
      categories: new Map([[cat.name, agents(7)]]),
      peers: [],
      intervalMs: 40,
      seed: 3,
      mirror: {
        round: async () => {
          rounds++;
          if (stopped) afterStop++;
          if (rounds === 1) await gate; // the first round hangs (a standby that does not answer)
        },
      },
    });
    cleanup.push(() => fed.stop());
    fed.start();
    for (let i = 0; i < 200 && rounds === 0; i++) await sleep(10);
    expect(rounds).toBe(1);
    fed.stop();
    fed.start(); // e.g. the HTTP server is served again
    release();
    await sleep(400);
    fed.stop();
    stopped = true;
    await sleep(400);
    // Before session 25: the old chain's `finally` re-arms a second timer chain next to the new one (two rounds per
    // interval), and `stop` clears only one of the two handles, so a round still runs after it.
    expect(afterStop).toBe(0);
  });
});
