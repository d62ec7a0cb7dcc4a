import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { postSigned, SIGNED_HEADER, signRequest } from '../../src/node/signed-request.js';
import { catalog, cleanup, coordinators, featureOf, query, stopApi } from './coordinators.js';

describe('queries on real coordinators', () => {
  it('a cross-category query is answered by the hosting coordinators at a linearizable point, reading its own activation', async () => {
    const { url } = await coordinators();
    const a = featureOf(1); // hosted by coordinator 2
    const b = featureOf(2); // hosted by coordinator 3
    const act = await fetch(`${url(1)}/commands`, {
      method: 'POST',
      body: JSON.stringify({ op: 'activate', feature: a.id, with_prerequisites: true }),
    });
    expect(act.status).toBe(200);
    const r = await query(url(1), {
      type: 'parameter',
      text: `how do ${a.acronym} and ${b.acronym} interact?`,
      features: [a.id, b.id],
    });
    expect(r.status).toBe(200);
    // Every hosting coordinator answered: no feature was answered by a standby agent.
    expect(r.body).toMatchObject({ ok: true, route: 'cross', standby: [] });
    const byFeature = new Map(r.body.answers.map((x) => [x.feature, x]));
    expect([...byFeature.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(byFeature.get(a.id)).toMatchObject({ agent: `agent-${a.id}`, content: { active: true } });
    expect(byFeature.get(b.id)).toMatchObject({ agent: `agent-${b.id}`, content: { active: false } });
    expect(r.body.raftIndex as number).toBeGreaterThan(0);
  });

  it('an intra-category query, a query with no target, and a part whose coordinator and its standby are down', async () => {
    const { url, servers } = await coordinators();
    const a = featureOf(0); // hosted by coordinator 1
    const intra = await query(url(3), { type: 'kpi', text: a.acronym, features: [a.id] });
    expect(intra.body).toMatchObject({ ok: true, route: 'intra' });
    const none = await query(url(3), { type: 'general', text: 'what is the weather' });
    expect([none.status, none.body.ok, none.body.reason]).toEqual([200, false, 'NO_TARGET']);
    const bad = await query(url(3), { type: 'gossip', text: 'x' });
    expect(bad.status).toBe(400);
    // Coordinator 2's API goes away, and its standby's, 3 (with only 2 down, 3 answers: standby.test.ts).
    await stopApi(servers, 1);
    await stopApi(servers, 2);
    const down = await query(url(1), { type: 'kpi', text: '', features: [featureOf(1).id] });
    expect([down.status, down.body.reason]).toEqual([502, 'COORDINATOR_DOWN']);
  });

  it('a query listing features the catalogue does not know names them in its reply', async () => {
    const { url } = await coordinators();
    const a = featureOf(1); // hosted by coordinator 2
    const b = featureOf(2); // hosted by coordinator 3
    const features = [a.id, 'NO-SUCH-FEATURE', b.id, 'NO-SUCH-FEATURE', 'ALSO-UNKNOWN'];
    const mixed = await query(url(1), { type: 'kpi', text: '', features });
    expect([mixed.status, mixed.body.ok, mixed.body.route, mixed.body.unknownFeatures]).toEqual([
      200,
      true,
      'cross',
      ['ALSO-UNKNOWN', 'NO-SUCH-FEATURE'],
    ]);
    expect(mixed.body.answers.map((x) => x.feature).sort()).toEqual([a.id, b.id].sort());
    // Every reference known, or none listed: the field is there, empty.
    const known = await query(url(1), { type: 'kpi', text: '', features: [a.id] });
    const byText = await query(url(1), { type: 'kpi', text: `${a.acronym} and NOSUCHACRONYM` });
    expect([known.body.unknownFeatures, byText.body.ok, byText.body.unknownFeatures]).toEqual([[], true, []]);
    // None known: no route, the same answer as before, naming them.
    const none = await query(url(1), { type: 'kpi', text: '', features: ['NO-SUCH-FEATURE'] });
    expect([none.status, none.body.ok, none.body.reason, none.body.route, none.body.unknownFeatures]).toEqual(
      [200, false, 'UNKNOWN_FEATURE', null, ['NO-SUCH-FEATURE']],
    );
  });

  it("a text naming more features than a query may ask about is the client's mistake (400) on every coordinator", async () => {
    const { url } = await coordinators();
    const many = catalog.categories[1].features; // 105 features, hosted by coordinator 2
    expect(many.length).toBeGreaterThan(64);
    const text = many.join(' ');
    for (const id of [1, 2]) {
      const r = await query(url(id), { type: 'parameter', text });
      expect([id, r.status, (r.body as { code?: string }).code]).toEqual([id, 400, 'E_BAD_REQUEST']);
    }
    // At most 64: answered, as an explicit list of 64 would be.
    const r = await query(url(1), { type: 'parameter', text: many.slice(0, 64).join(' ') });
    expect([r.status, r.body.ok, r.body.answers.length]).toEqual([200, true, 64]);
  });

  it('a part whose barrier is never applied times out and leaves nothing waiting on the replica', async () => {
    const { url, nodes } = await coordinators();
    const a = featureOf(1); // hosted by coordinator 2
    const waiters = () =>
      (nodes[1] as unknown as { proc: { host: { applyWaiters: unknown[] } } }).proc.host.applyWaiters.length;
    const part = { queryId: 1, type: 'kpi', complexity: 'simple', features: [a.id], barrier: 2 ** 40 };
    const r = await fetch(`${url(2)}/query/part`, { method: 'POST', body: JSON.stringify(part) });
    expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([504, 'E_TIMEOUT']);
    await expect(nodes[1].whenApplied(2 ** 40, 10)).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    expect(waiters()).toBe(0);
  });

  it('feedback sent to any coordinator reaches the agent that answered, which learns from it', async () => {
    const { url } = await coordinators();
    const a = featureOf(1); // hosted by coordinator 2
    const ask = async (id: number) =>
      (await query(url(1), { id, type: 'troubleshoot', text: '', features: [a.id], complexity: 'simple' }))
        .body.answers[0];
    const first = await ask(7);
    const feedback = (body: unknown) =>
      fetch(`${url(3)}/feedback`, { method: 'POST', body: JSON.stringify(body) });
    const r = await feedback({ queryId: 7, feature: a.id, rating: 1, resolved: true });
    expect([r.status, await r.json()]).toEqual([200, { accepted: true }]);
    const again = await feedback({ queryId: 7, feature: a.id, rating: 1 });
    expect([again.status, await again.json()]).toEqual([409, { accepted: false, reason: 'UNKNOWN_ANSWER' }]);
    // One rated experience in that state: the agent answers it with more confidence.
    const second = await ask(8);
    expect(second.confidence as number).toBeGreaterThan(first.confidence as number);
    // What a coordinator forwards is for an agent it hosts: one that does not refuses it, never forwards it on.
    const astray = await fetch(`${url(1)}/feedback/forwarded`, {
      method: 'POST',
      body: JSON.stringify({ queryId: 8, feature: a.id, rating: 1 }),
    });
    expect([astray.status, await astray.json()]).toEqual([409, { accepted: false, reason: 'NOT_HOSTED' }]);
  });

  it('an agent sends its delta after its tenth rated answer, before its timed round (ADR-115)', async () => {
    // Rounds an hour apart (the timer is unref'd): only the interaction count can trigger this sync.
    const { url, services } = await coordinators(undefined, 3_600_000);
    const a = featureOf(1); // hosted by coordinator 2
    const host = services[1].federation.stats;
    for (let q = 1; q <= 10; q++) {
      await query(url(1), { id: q, type: 'troubleshoot', text: '', features: [a.id], complexity: 'simple' });
      const r = await fetch(`${url(3)}/feedback`, {
        method: 'POST',
        body: JSON.stringify({ queryId: q, feature: a.id, rating: 1 }),
      });
      expect(r.status).toBe(200);
      expect(host.earlySyncs, `after ${q} ratings`).toBe(q < 10 ? 0 : 1);
    }
    expect(host.rounds).toBe(0);
    expect(host.deltas).toBeGreaterThan(0);
  });

  it("on a keyed cluster a part or a forwarded feedback must be signed by a coordinator; a client's feedback need not", async () => {
    const ring = ClusterKeyring.of([randomBytes(32)]);
    const { url, http } = await coordinators(ring);
    const a = featureOf(1); // hosted by coordinator 2
    const b = featureOf(2); // hosted by coordinator 3
    const post = async (id: number, path: string, body: string, headers?: Record<string, string>) => {
      const r = await fetch(`${url(id)}${path}`, { method: 'POST', body, headers });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    // Anyone reaching coordinator 2's port, posing as another coordinator: its agents must not run for it.
    const part = JSON.stringify({
      queryId: 5,
      type: 'kpi',
      complexity: 'simple',
      features: [a.id],
      barrier: 0,
    });
    const forged = await post(2, '/query/part', part);
    expect([forged.status, forged.body.code]).toEqual([401, 'E_AUTH']);
    const otherKey = ClusterKeyring.of([randomBytes(32)]);
    expect(await postSigned(http.get(2)!, '/query/part', JSON.parse(part), otherKey, 5000)).toMatchObject({
      status: 401,
      body: { code: 'E_AUTH' },
    });
    // Signed with the cluster key: answered once; the same request again is a replay.
    const sig = { [SIGNED_HEADER]: signRequest(ring, { method: 'POST', path: '/query/part', body: part }) };
    const signed = await post(2, '/query/part', part, sig);
    expect([signed.status, (signed.body.answers as Array<{ feature: string }>)[0].feature]).toEqual([
      200,
      a.id,
    ]);
    const replayed = await post(2, '/query/part', part, sig);
    expect([replayed.status, replayed.body.code]).toEqual([401, 'E_AUTH']);
    // A forged forwarded feedback on that answer is refused, and leaves it pending for the client's rating.
    const rating = JSON.stringify({ queryId: 5, feature: a.id, rating: -1 });
    const forgedFeedback = await post(2, '/feedback/forwarded', rating);
    expect([forgedFeedback.status, forgedFeedback.body.code]).toEqual([401, 'E_AUTH']);
    // The client's own routes stay unsigned: a cross-category query, and feedback through a third coordinator.
    const q = await query(url(1), { id: 6, type: 'kpi', text: '', features: [a.id, b.id] });
    expect([q.status, q.body.ok, q.body.route, q.body.answers.length]).toEqual([200, true, 'cross', 2]);
    for (const [queryId, feature] of [
      [5, a.id],
      [6, a.id],
      [6, b.id],
    ] as const) {
      const f = await post(3, '/feedback', JSON.stringify({ queryId, feature, rating: 1 }));
      expect([queryId, feature, f.status, f.body]).toEqual([queryId, feature, 200, { accepted: true }]);
    }
  });

  it('the hosted agents federate: a confident answer becomes a pattern every coordinator applies to its agents', async () => {
    const { url, services } = await coordinators();
    const a = featureOf(1); // hosted by coordinator 2
    const agents = async (id: number) =>
      (await (await fetch(`${url(id)}/agents`)).json()) as {
        hosted: number;
        standby: { agents: number };
        federation: Record<string, number>;
      };
    // Six answers in one state, each rated good: enough own experience and margin for a pattern.
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
    expect(host.federation).toMatchObject({ rounds: 1, patternPostsFailed: 0 });
    expect(host.federation.patternsFound).toBeGreaterThanOrEqual(1);
    // One POST to each of the two other coordinators per 64 patterns.
    expect(host.federation.patternPosts).toBe(2 * Math.ceil(host.federation.patternsFound / 64));
    for (const id of [1, 3]) {
      const other = await agents(id);
      expect(other.hosted).toBeGreaterThan(0);
      expect(other.federation.patternsReceived).toBe(host.federation.patternsFound);
      // Applied to every agent without experience of that state, standby agents too: all of them here.
      expect(other.federation.patternsApplied).toBe(
        (other.hosted + other.standby.agents) * host.federation.patternsFound,
      );
    }
    // The route validates what it is sent.
    const bad = await fetch(`${url(1)}/patterns`, {
      method: 'POST',
      body: JSON.stringify({ patterns: [{ origin: 'x', hi: 0, lo: 0, action: 9, q: 0 }] }),
    });
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([400, 'E_BAD_REQUEST']);
  });

  it("a hosting coordinator's malformed replies are refused, not passed on to the client", async () => {
    const { url, servers } = await coordinators();
    const a = featureOf(1); // hosted by coordinator 2
    const port = Number(new URL(url(2)).port);
    await new Promise<void>((r) => servers[1].close(() => r()));
    servers[1].closeAllConnections();
    // Coordinator 2's port now answers 200 with bodies of the wrong shape.
    const replies = new Map<string, unknown>([
      ['/query/part', { answers: [{ feature: a.id, confidence: 'high' }] }],
      ['/feedback/forwarded', { accepted: 'yes' }],
    ]);
    const fake = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(JSON.stringify(replies.get(req.url ?? '') ?? {})));
    });
    await new Promise<void>((r) => fake.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => fake.close(() => r())));
    const q = await query(url(1), { id: 9, type: 'kpi', text: '', features: [a.id] });
    expect([q.status, q.body.ok, q.body.reason, q.body.answers]).toEqual([
      502,
      false,
      'COORDINATOR_BAD_REPLY',
      [],
    ]);
    // Answers about a feature that was not asked are refused too.
    replies.set('/query/part', { answers: [] });
    const empty = await query(url(1), { id: 10, type: 'kpi', text: '', features: [a.id] });
    expect([empty.status, empty.body.reason]).toEqual([502, 'COORDINATOR_BAD_REPLY']);
    const f = await fetch(`${url(3)}/feedback`, {
      method: 'POST',
      body: JSON.stringify({ queryId: 9, feature: a.id, rating: 1 }),
    });
    expect([f.status, await f.json()]).toEqual([502, { accepted: false, reason: 'COORDINATOR_BAD_REPLY' }]);
    // A refusal whose reason would be the client's own mistake is still the hosting coordinator's failure.
    await new Promise<void>((r) => fake.close(() => r()));
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = 409;
        res.end(JSON.stringify({ reason: 'UNKNOWN_FEATURE' }));
      });
    });
    await new Promise<void>((r) => refusing.listen(port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => refusing.close(() => r())));
    const refused = await query(url(1), { id: 11, type: 'kpi', text: '', features: [a.id] });
    expect([refused.status, refused.body.ok]).toEqual([502, false]);
  });
});
