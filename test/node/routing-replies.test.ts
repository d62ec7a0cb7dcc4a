/**
 * what an entry coordinator accepts as another coordinator's part of a query (`Failover.part`,
 * `checkPartReply`). A fake hosting coordinator answers `/query/part` with a canned body.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { PART_PATH } from '../../src/node/query-replies.js';
import type { PartBody } from '../../src/node/query-service.js';
import { Failover } from '../../src/node/standby.js';

const catalog = defaultCatalog();
const a = catalog.get(catalog.categories[1].features[0])!;
const other = catalog.get(catalog.categories[2].features[0])!;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(() => r(null)));
});

/** A hosting coordinator that answers every part with `body` (200). */
async function fakeHost(body: unknown): Promise<number> {
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.url === PART_PATH ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

function failover(port: number) {
  let standbyAsked = 0;
  const f = new Failover({
    self: 1,
    http: new Map([
      [1, { host: '127.0.0.1', port: 1 }],
      [2, { host: '127.0.0.1', port }],
    ]),
    timeoutMs: 2000,
    standbyPart: async () => {
      standbyAsked++;
      return { reason: 'NOT_STANDBY' };
    },
    hostedFeedback: () => ({ accepted: false }),
    standbyFeedback: () => ({ accepted: false }),
  });
  return { f, standbyAsked: () => standbyAsked };
}

const answer = (over: Record<string, unknown> = {}) => ({
  queryId: 7,
  feature: a.id,
  agent: `agent-${a.id}`,
  action: 'DirectAnswer',
  confidence: 0.5,
  raftIndex: 40,
  content: {
    feature: a.id,
    name: a.name,
    category: a.category,
    activationOrder: [],
    conflicts: [],
    parameters: [],
    safeZones: [],
    active: false,
  },
  ...over,
});

const part: PartBody = {
  queryId: 7,
  type: 'kpi',
  complexity: 'simple',
  features: [a.id],
  barrier: 40,
};

describe("another coordinator's part of a query", () => {
  it('answers computed below the barrier the part carried are not accepted as its answer', async () => {
    // The host answers from index 12, the query's linearizable read was at 40.
    const { f } = failover(await fakeHost({ answers: [answer({ raftIndex: 12 })] }));
    const r = await f.part(2, part);
    expect('answers' in r.reply).toBe(false);
  }, 10_000);

  it("an answer about the asked feature given by another category's agent is not accepted", async () => {
    // About the asked feature, but from the agent of a feature of another category (and its content says so).
    const wrong = answer({
      agent: `agent-${other.id}`,
      content: { ...answer().content, category: other.category },
    });
    const { f } = failover(await fakeHost({ answers: [wrong] }));
    const r = await f.part(2, part);
    expect('answers' in r.reply).toBe(false);
  }, 10_000);
});
