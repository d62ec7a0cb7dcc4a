import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { AgentMirror } from '../../src/node/agent-mirror.js';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { parseBody } from '../../src/node/http-api.js';
import { freePorts } from '../../src/node/processes.js';
import { postSigned } from '../../src/node/signed-request.js';
import { agentState, type ControlView, FeatureAgent, OWN_STATES } from '../../src/swarm/agent/index.js';
import { ask, catalog, cleanup, coordinators, featureOf, query, stopApi } from './coordinators.js';

const post = async (base: string, path: string, body: unknown) => {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
type Mirror = {
  sent: number;
  failed: number;
  entries: number;
  received: number;
  applied: number;
  refused: number;
};
const mirrorStats = async (base: string) =>
  ((await (await fetch(`${base}/agents`)).json()) as { mirror: Mirror }).mirror;
const STATE = agentState('troubleshoot', 'simple', true);

/** `n` answers of coordinator 2's agent about `feature`, each rated good (it learns from them). */
async function teach(url: (id: number) => string, feature: string, first: number, n: number) {
  for (let q = first; q < first + n; q++) {
    expect((await query(url(2), ask(q, [feature]))).status).toBe(200);
    const f = await post(url(1), '/feedback', { queryId: q, feature, rating: 1, resolved: true });
    expect(f.status).toBe(200);
  }
}

describe("the primary mirrors its agents' tables to the category's standby", () => {
  it('a failover answers with what the primary had learned, not like an unlearned agent', async () => {
    const { url, servers, services } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await teach(url, a.id, 100, 8);
    const learned = await query(url(2), ask(108, [a.id]));
    expect(learned.body.answers[0]).toMatchObject({ agent: `agent-${a.id}` });
    await services[1].federation.round();
    await stopApi(servers, 1);
    const failover = await query(url(1), ask(109, [a.id]));
    expect([failover.status, failover.body.standby]).toEqual([200, [a.id]]);
    expect(failover.body.answers[0]).toMatchObject({ agent: `standby-agent-${a.id}` });
    // An unlearned agent answers 0.45; the primary, after eight rated answers in this state, 0.63.
    expect(failover.body.answers[0].confidence).toBe(learned.body.answers[0].confidence);
    const standby = services[2].standby.agents.get(a.id)!;
    const primary = services[1].hostedAgent(a.id)!;
    expect(standby.strictBest(STATE)).toBeGreaterThanOrEqual(0);
    expect(standby.strictBest(STATE)).toBe(primary.strictBest(STATE));
    expect(await mirrorStats(url(3))).toMatchObject({ refused: 0 });
    expect((await mirrorStats(url(3))).received).toBeGreaterThan(0);
    expect(await mirrorStats(url(1))).toMatchObject({ received: 0, refused: 0 });
    // Coordinator 3's own round: the mirrored knowledge is not published as its standby agent's pattern, and
    // its mirror to coordinator 1 (its standby) carries its hosted agents only.
    await services[2].federation.round();
    expect(services[2].federation.stats.patternsFound).toBe(0);
    expect(await mirrorStats(url(1))).toMatchObject({ refused: 0 });
    // Prometheus: the failover and the mirror.
    const metrics = async (id: number) => (await fetch(`${url(id)}/metrics`)).text();
    expect(await metrics(1)).toMatch(/^elex_query_failover_parts_total\{kind="coordinator"\} 1$/m);
    const sent = services[1].mirror.stats.entries;
    expect(await metrics(3)).toMatch(
      new RegExp(
        `^elex_agents_mirror_entries_total\\{direction="applied",kind="coordinator"\\} ${sent}$`,
        'm',
      ),
    );
    expect(await metrics(3)).toMatch(/^elex_query_standby_answers_total\{kind="coordinator"\} 1$/m);
  });
});

describe('mirrors the standby refuses', () => {
  const entry = [1, 2, 0, 0.5, 3];
  it('a mirror for a feature this coordinator is not the standby of is refused, and counted', async () => {
    const { url } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    for (const id of [1, 2]) {
      const r = await post(url(id), '/agents/mirror', { agents: [{ feature: a.id, entries: [entry] }] });
      expect([id, r.status, r.body.refused]).toEqual([id, 409, [{ feature: a.id, reason: 'NOT_STANDBY' }]]);
      expect(await mirrorStats(url(id))).toMatchObject({ received: 1, applied: 0, refused: 1 });
    }
    const ok = await post(url(3), '/agents/mirror', { agents: [{ feature: a.id, entries: [entry] }] });
    expect([ok.status, ok.body.applied, ok.body.refused]).toEqual([200, 1, []]);
  });

  it('invalid entries are refused 400 and change nothing', async () => {
    const { url, services } = await coordinators();
    const a = featureOf(1); // standby coordinator 3
    const standby = services[2].standby.agents.get(a.id)!;
    const clock = standby.table.clock;
    const good = [1, 2, 0, 0.5, 3];
    for (const bad of [
      [1, 2, 0, 'NaN', 3],
      [1, 2, 0, 1e6, 3],
      [1, 2, 0, -2, 3],
      [1, 2, 99, 0.5, 3],
      [1, 2, -1, 0.5, 3],
      [1, 2, 0.5, 0.5, 3],
      [-1, 2, 0, 0.5, 3],
      [1, 2 ** 32, 0, 0.5, 3],
      [1, 2, 0, 0.5, -1],
      [1, 2, 0, 0.5, 2 ** 32],
      [1, 2, 0, 0.5],
    ]) {
      // The good entry first: nothing of a refused request is written.
      const r = await post(url(3), '/agents/mirror', { agents: [{ feature: a.id, entries: [good, bad] }] });
      expect([JSON.stringify(bad), r.status, r.body.code]).toEqual([
        JSON.stringify(bad),
        400,
        'E_BAD_REQUEST',
      ]);
    }
    const raw = `{"agents":[{"feature":"${a.id}","entries":[[1,2,0,NaN,3]]}]}`;
    expect((await post(url(3), '/agents/mirror', raw)).status).toBe(400);
    const unknown = await post(url(3), '/agents/mirror', {
      agents: [{ feature: 'NO-SUCH', entries: [good] }],
    });
    expect(unknown.status).toBe(400);
    const twice = await post(url(3), '/agents/mirror', {
      agents: [{ feature: a.id, entries: [good, good] }],
    });
    expect(twice.status).toBe(400);
    const extra = await post(url(3), '/agents/mirror', {
      agents: [{ feature: a.id, entries: [good] }],
      x: 1,
    });
    expect(extra.status).toBe(400);
    expect(standby.table.clock).toBe(clock);
    expect(await mirrorStats(url(3))).toMatchObject({ received: 0, applied: 0 });
  });

  it('on a keyed cluster an unsigned mirror is 401; the primary signs its own', async () => {
    const ring = ClusterKeyring.of([randomBytes(32)]);
    const { url, services, http } = await coordinators(ring);
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    const body = { agents: [{ feature: a.id, entries: [[1, 2, 0, 0.5, 3]] }] };
    const unsigned = await post(url(3), '/agents/mirror', body);
    expect([unsigned.status, unsigned.body.code]).toEqual([401, 'E_AUTH']);
    const other = await postSigned(
      http.get(3)!,
      '/agents/mirror',
      body,
      ClusterKeyring.of([randomBytes(32)]),
      5000,
    );
    expect(other?.status).toBe(401);
    expect(await mirrorStats(url(3))).toMatchObject({ received: 0 });
    await teach(url, a.id, 200, 3);
    await services[1].federation.round();
    // Several requests: the round's pattern changed every agent coordinator 2 hosts.
    const sent = await mirrorStats(url(2));
    expect([sent.sent > 0, sent.failed]).toEqual([true, 0]);
    expect((await mirrorStats(url(3))).applied).toBeGreaterThan(0);
  });
});

const catalogFeatures = catalog.categories[0].features.slice(0, 3).map((id) => catalog.get(id)!);
const view: ControlView = { active: true, values: [], raftIndex: 1 };
let queryIds = 1;
/** `n` answers of `agent` in the troubleshoot/simple state, each rated good. */
function rate(agent: FeatureAgent, n: number, rating = 1): void {
  for (let i = 0; i < n; i++) {
    const q = queryIds++;
    agent.answer(q, 'troubleshoot', 'simple', agent.feature, view);
    expect(agent.feedback(q, rating, true, 0, agent.feature.id)).toBe(true);
  }
}
const entriesOf = (a: FeatureAgent) =>
  a
    .snapshot()
    .entries.map((e) => e.join(':'))
    .sort();

/**
 * A primary's hosted agents and a standby's agents of the same features, the standby behind an HTTP server
 * that can be taken down (503) and whose mirror receiver can be replaced (a restarted standby).
 */
async function pair(o: { agentsPerPost?: number; entriesPerPost?: number } = {}) {
  const make = (prefix: string) =>
    new Map(
      catalogFeatures.map((f, i) => [f.id, new FeatureAgent(`${prefix}${f.id}`, f, new SeededRng(i + 1))]),
    );
  const hosted = make('agent-');
  const standby = make('standby-agent-');
  const receiver = () =>
    new AgentMirror({ hosted: new Map(), standby, known: (f) => catalog.get(f) !== undefined, to: null });
  const state = {
    up: true,
    receiver: receiver(),
    bodies: [] as Array<{ agents: Array<{ feature: string }> }>,
  };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      if (!state.up) {
        res.writeHead(503).end('{}');
        return;
      }
      state.bodies.push(JSON.parse(text));
      const [status, body] = state.receiver.receive(parseBody(text, state.receiver.schema));
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  const [port] = await freePorts(1);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise((r) => server.close(() => r())));
  const sender = new AgentMirror({
    hosted,
    standby: new Map(),
    known: () => true,
    to: { host: '127.0.0.1', port },
    timeoutMs: 2000,
    ...o,
  });
  return { hosted, standby, sender, state, restart: () => (state.receiver = receiver()) };
}

describe('AgentMirror', () => {
  it('writes the changed entries into the standby agents; a round with no change sends nothing', async () => {
    const { hosted, standby, sender, state } = await pair();
    const [a, b] = [...hosted.values()];
    rate(a, 4);
    rate(b, 2, -1);
    await sender.round();
    for (const [f, agent] of hosted) expect(entriesOf(standby.get(f)!)).toEqual(entriesOf(agent));
    expect(state.bodies).toHaveLength(1);
    expect(state.bodies[0].agents.map((x) => x.feature).sort()).toEqual([a.feature.id, b.feature.id].sort());
    expect(sender.stats).toMatchObject({ sent: 1, failed: 0, entries: a.table.size + b.table.size });
    expect(state.receiver.stats).toMatchObject({
      received: 2,
      applied: a.table.size + b.table.size,
      refused: 0,
    });
    await sender.round();
    expect(state.bodies).toHaveLength(1);
    // Only what changed since the acknowledged mirror goes in the next one.
    rate(a, 1);
    await sender.round();
    expect(state.bodies[1].agents).toEqual([{ feature: a.feature.id, entries: expect.any(Array) }]);
    expect(entriesOf(standby.get(a.feature.id)!)).toEqual(entriesOf(a));
  });

  it('a mirror the standby did not take is sent again at the next round', async () => {
    const { hosted, standby, sender, state } = await pair();
    const a = [...hosted.values()][0];
    rate(a, 3);
    state.up = false;
    await sender.round();
    expect(sender.stats).toMatchObject({ sent: 0, failed: 1, entries: 0 });
    expect(standby.get(a.feature.id)!.table.size).toBe(0);
    // Nothing changed since: what the standby did not take is still owed.
    state.up = true;
    await sender.round();
    expect(sender.stats).toMatchObject({ sent: 1, failed: 1 });
    expect(entriesOf(standby.get(a.feature.id)!)).toEqual(entriesOf(a));
  });

  it('a restarted standby (a new epoch) gets everything again', async () => {
    const { hosted, standby, sender, state, restart } = await pair();
    const [a, b] = [...hosted.values()];
    rate(a, 3);
    rate(b, 3);
    await sender.round();
    // The standby restarts and loses what it had not saved: its next answer names a new epoch.
    for (const s of standby.values()) s.table.write(s.table.slot(0, 0, 0), 0, 0);
    restart();
    rate(a, 1);
    await sender.round();
    await sender.round();
    expect(state.bodies.map((x) => x.agents.length)).toEqual([2, 1, 2]);
    expect(sender.stats.resets).toBe(1);
  });

  it("the marker survives a rebase of the table's versions", async () => {
    const { hosted, standby, sender, state } = await pair();
    const a = [...hosted.values()][0];
    a.table.clock = 2 ** 32 - 3;
    rate(a, 2);
    await sender.round();
    expect(a.table.generation).toBe(0);
    rate(a, 3, -1); // the clock passes 2^32 − 1: every version moves down by 2^31
    expect(a.table.generation).toBe(1);
    await sender.round();
    expect(state.bodies).toHaveLength(2);
    expect(entriesOf(standby.get(a.feature.id)!)).toEqual(entriesOf(a));
    await sender.round();
    expect(state.bodies).toHaveLength(2);
  });

  it('bounded requests: at most so many agents and entries each, and an agent is acknowledged once all of it is', async () => {
    const { hosted, standby, sender, state } = await pair({ agentsPerPost: 2, entriesPerPost: 3 });
    // Five entries per agent: each agent's entries span two requests. (States agents are in: the standby skips
    // others since session 25.)
    for (const a of hosted.values())
      for (let k = 0; k < 5; k++) {
        const st = OWN_STATES[k].state;
        a.table.write(a.table.slot(Number(st >> 32n), Number(st & 0xffffffffn), k % 5), k / 10, k + 1);
      }
    const total = 15;
    await sender.round();
    for (const body of state.bodies) {
      expect(body.agents.length).toBeLessThanOrEqual(2);
      const n = body.agents.reduce((k, x) => k + (x as unknown as { entries: unknown[] }).entries.length, 0);
      expect(n).toBeLessThanOrEqual(3);
    }
    expect(state.bodies).toHaveLength(5);
    for (const [f, agent] of hosted) expect(entriesOf(standby.get(f)!)).toEqual(entriesOf(agent));
    expect(sender.stats).toMatchObject({ failed: 0, entries: total });
  });

  it("mirrored entries are not the standby agent's own learning: no delta, no pattern, no experience", async () => {
    const { hosted, standby, sender } = await pair();
    const a = [...hosted.values()][0];
    rate(a, 6);
    expect(a.newPatterns().length).toBe(1); // the primary's own experience makes a pattern
    await sender.round();
    const s = standby.get(a.feature.id)!;
    expect(entriesOf(s)).toEqual(entriesOf(a));
    expect(s.newPatterns()).toEqual([]);
    expect(s.learner.interactions).toBe(0);
    expect(s.snapshot().own).toEqual([]);
    // Its own learning afterwards (another state) goes out as its own, without the mirrored entries.
    s.answer(9000, 'kpi', 'complex', s.feature, view);
    expect(s.feedback(9000, 1, true, 0, s.feature.id)).toBe(true);
    const d = s.takeDelta();
    expect([d?.count, d?.hi[0], d?.lo[0]]).toEqual([
      1,
      Number(agentState('kpi', 'complex', true) >> 32n),
      Number(agentState('kpi', 'complex', true) & 0xffffffffn),
    ]);
    expect(s.takeDelta()).toBeNull();
  });

  it('a pattern does not overwrite what the mirror brought of a state (the primary had experience of it)', async () => {
    const { hosted, standby, sender } = await pair();
    const a = [...hosted.values()][0];
    rate(a, 6);
    await sender.round();
    const s = standby.get(a.feature.id)!;
    const before = entriesOf(s);
    // Another feature's pattern about the same state: the primary ignores it (own experience), so must the
    // standby, or its answers would differ from the primary's until the primary next changed that entry.
    const hi = Number(STATE >> 32n);
    const lo = Number(STATE & 0xffffffffn);
    const p = { origin: 'agent-other', hi, lo, action: 4, q: -1 };
    expect(a.applyPattern(p)).toBe(false);
    expect(s.applyPattern(p)).toBe(false);
    expect(entriesOf(s)).toEqual(before);
    // A state the mirror brought nothing of still takes patterns.
    const other = agentState('kpi', 'complex', true);
    expect(s.applyPattern({ ...p, hi: Number(other >> 32n), lo: Number(other & 0xffffffffn) })).toBe(true);
  });
});
