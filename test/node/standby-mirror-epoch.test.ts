/**
 * A restarted standby (a new epoch) gets its primary's tables again while the primary is idle: an epoch probe
 * each idle round (fixed in session 25).
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { AgentMirror } from '../../src/node/agent-mirror.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { parseBody } from '../../src/node/http-api.js';
import { type ControlView, FeatureAgent } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const features = catalog.categories[0].features.slice(0, 2).map((id) => catalog.get(id)!);
const view: ControlView = { active: true, values: [], raftIndex: 1 };
const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
const agentsOf = (prefix: string) =>
  new Map(features.map((f, i) => [f.id, new FeatureAgent(`${prefix}${f.id}`, f, new SeededRng(i + 1))]));
const entriesOf = (a: FeatureAgent) =>
  a
    .snapshot()
    .entries.map((e) => e.join(':'))
    .sort();
let qid = 1;
function rate(agent: FeatureAgent, n: number): void {
  for (let i = 0; i < n; i++) {
    const q = qid++;
    agent.answer(q, 'troubleshoot', 'simple', agent.feature, view);
    expect(agent.feedback(q, 1, true, 0, agent.feature.id)).toBe(true);
  }
}

describe("the standby's mirrored agents", () => {
  it('a standby that restarted (new epoch) gets the primary tables again even when nothing changed on the primary since', async () => {
    const hosted = agentsOf('agent-');
    let standby = agentsOf('standby-agent-');
    const receiver = () =>
      new AgentMirror({ hosted: new Map(), standby, known: (f) => catalog.get(f) !== undefined, to: null });
    let rx = receiver();
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => {
        const [status, body] = rx.receive(parseBody(text, rx.schema));
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const sender = new AgentMirror({
      hosted,
      standby: new Map(),
      known: () => true,
      to: { host: '127.0.0.1', port: (server.address() as { port: number }).port },
      timeoutMs: 2000,
    });
    const a = [...hosted.values()][0];
    rate(a, 5);
    await sender.round();
    expect(entriesOf(standby.get(a.feature.id)!)).toEqual(entriesOf(a));
    // The standby crashes before its standby-agents.json save (every 10 s) and restarts empty, in a new epoch.
    standby = agentsOf('standby-agent-');
    rx = receiver();
    // The primary learns nothing more for a while; its federation rounds go on.
    for (let i = 0; i < 3; i++) await sender.round();
    // Before session 25: [] — nothing changed on the primary, so no mirror is sent, the new epoch is never seen, and
    // a failover of this category answers like an unlearned agent for as long as the primary stays idle.
    expect(entriesOf(standby.get(a.feature.id)!)).toEqual(entriesOf(a));
  });
});
