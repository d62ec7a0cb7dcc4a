import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { pickDown } from '../../src/node/coordinator-cluster.js';
import { serveCoordinatorHttp } from '../../src/node/coordinator-http.js';
import { type PartBody, QueryService } from '../../src/node/query-service.js';
import { postSigned } from '../../src/node/signed-request.js';
import { DownHosts, standbyHost } from '../../src/node/standby.js';
import {
  ask,
  catalog,
  cleanup,
  coordinators,
  featureOf,
  hang,
  query,
  root,
  stopApi,
} from './coordinators.js';

const post = async (base: string, path: string, body: unknown) => {
  const r = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
const agents = async (base: string) =>
  (await (await fetch(`${base}/agents`)).json()) as {
    hosted: number;
    standby: { agents: number; answers: number; feedback: number; refused: number };
    failover: { parts: number; remembered: number; feedback: number; probed: number };
  };

describe('standby hosts', () => {
  it("a category's standby is the next coordinator id after its primary, round the sorted list", () => {
    expect([1, 2, 3].map((p) => standbyHost([1, 2, 3], p))).toEqual([2, 3, 1]);
    expect(standbyHost([2, 5], 5)).toBe(2);
    expect(standbyHost([4], 4)).toBeNull();
  });

  it('elex cluster --down takes down followers none of which is the standby of another taken down', () => {
    const ids = Array.from({ length: 14 }, (_, i) => i + 1);
    expect(pickDown(ids, 3, 6)).toEqual([4, 6, 8, 10, 12, 14]);
    expect(pickDown(ids, 14, 6)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(pickDown([1, 2, 3, 4, 5], 2, 2)).toEqual([3, 5]);
    expect(pickDown([1, 2, 3], 1, 1)).toEqual([2]);
    // Every category keeps its primary or its standby: no victim's standby is a victim.
    for (const leader of ids)
      for (let k = 0; k <= 6; k++) {
        const down = pickDown(ids, leader, k);
        expect(down).toHaveLength(k);
        expect(down).not.toContain(leader);
        for (const id of down) expect(down).not.toContain(standbyHost(ids, id));
      }
  });

  it('a coordinator that did not answer is remembered down for the window, then tried again', () => {
    let now = 1000;
    const down = new DownHosts(5000, () => now);
    expect(down.isDown(2)).toBe(false);
    down.markDown(2);
    now += 4999;
    expect([down.isDown(2), down.isDown(3), down.list()]).toEqual([true, false, [2]]);
    now += 1;
    expect([down.isDown(2), down.list()]).toEqual([false, []]);
  });
});

describe('queries while a coordinator is down', () => {
  it("the next coordinator's standby agents answer for a down one, and learn from the feedback", async () => {
    const { url, servers } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    const b = featureOf(2); // primary coordinator 3
    await stopApi(servers, 1);
    const first = await query(url(1), ask(21, [a.id, b.id]));
    expect([first.status, first.body.ok, first.body.route, first.body.standby]).toEqual([
      200,
      true,
      'cross',
      [a.id],
    ]);
    const byFeature = new Map(first.body.answers.map((x) => [x.feature, x]));
    expect(byFeature.get(a.id)).toMatchObject({ agent: `standby-agent-${a.id}` });
    expect(byFeature.get(b.id)).toMatchObject({ agent: `agent-${b.id}` });
    // The rating, through coordinator 1, reaches coordinator 3's standby agent; once.
    const rated = await post(url(1), '/feedback', { queryId: 21, feature: a.id, rating: 1, resolved: true });
    expect([rated.status, rated.body]).toEqual([200, { accepted: true }]);
    // Again: coordinator 1 remembers the standby answered it, and the standby's agent took it already.
    const again = await post(url(1), '/feedback', { queryId: 21, feature: a.id, rating: 1 });
    expect([again.status, again.body]).toEqual([409, { accepted: false, reason: 'UNKNOWN_ANSWER' }]);
    expect((await agents(url(3))).standby).toMatchObject({ answers: 1, feedback: 1 });
    expect((await agents(url(1))).failover).toMatchObject({ parts: 1, feedback: 1 });
    // One rated experience in that state: the standby agent answers it with more confidence. Asked through
    // coordinator 3, the standby itself, it answers without a request.
    const second = await query(url(3), ask(22, [a.id]));
    expect([second.status, second.body.standby]).toEqual([200, [a.id]]);
    expect(second.body.answers[0].confidence as number).toBeGreaterThan(
      byFeature.get(a.id)!.confidence as number,
    );
  });

  it('a rating the primary does not know goes to the standby agent that gave the answer', async () => {
    const { url } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    // Coordinator 3's standby agent answered query 30 (as when coordinator 2 did not answer a moment ago).
    const part = { queryId: 30, type: 'kpi', complexity: 'simple', features: [a.id], barrier: 0 };
    const answered = await post(url(3), '/query/standby', part);
    expect([answered.status, (answered.body.answers as Array<{ agent: string }>)[0].agent]).toEqual([
      200,
      `standby-agent-${a.id}`,
    ]);
    // Coordinator 2 answers UNKNOWN_ANSWER: the rating goes on to the standby, which learns from it.
    const rated = await post(url(1), '/feedback', { queryId: 30, feature: a.id, rating: 1 });
    expect([rated.status, rated.body]).toEqual([200, { accepted: true }]);
    const again = await post(url(1), '/feedback', { queryId: 30, feature: a.id, rating: 1 });
    expect([again.status, again.body]).toEqual([409, { accepted: false, reason: 'UNKNOWN_ANSWER' }]);
    expect((await agents(url(3))).standby).toMatchObject({ answers: 1, feedback: 1 });
  });

  it('a coordinator that did not answer is skipped for a few seconds, then asked again', async () => {
    let now = 1_000_000;
    const { url, servers, http } = await coordinators(undefined, 0, { peerTimeoutMs: 400, now: () => now });
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    const asked = await hang(http, 2); // coordinator 2 hung: its port takes requests and answers none
    const timed = async (id: number) => {
      const t0 = Date.now();
      const r = await query(url(1), ask(id, [a.id]));
      expect([id, r.status, r.body.standby]).toEqual([id, 200, [a.id]]);
      return Date.now() - t0;
    };
    expect(await timed(40)).toBeGreaterThanOrEqual(400);
    expect(asked()).toBe(1);
    // Within the window: straight to the standby, the primary not asked (no timeout waited).
    await timed(41);
    expect(asked()).toBe(1);
    expect((await agents(url(1))).failover).toMatchObject({ parts: 2, remembered: 1 });
    // A rating within the window goes straight to the standby's agent too.
    const rated = await post(url(1), '/feedback', { queryId: 41, feature: a.id, rating: 1 });
    expect([rated.status, rated.body, asked()]).toEqual([200, { accepted: true }, 1]);
    now += 5000;
    expect(await timed(42)).toBeGreaterThanOrEqual(400);
    expect(asked()).toBe(2);
  });

  it('a coordinator the failure detector suspects is not asked: its parts and ratings go to the standby', async () => {
    let suspect = true;
    const { url, servers, http } = await coordinators(undefined, 0, (id) =>
      id === 1 ? { peerTimeoutMs: 400, suspected: (c: number) => suspect && c === 2 } : {},
    );
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    const asked = await hang(http, 2); // coordinator 2 hung: its port takes requests and answers none
    const first = await query(url(1), ask(50, [a.id]));
    expect([first.status, first.body.standby, asked()]).toEqual([200, [a.id], 0]);
    const rated = await post(url(1), '/feedback', { queryId: 50, feature: a.id, rating: 1 });
    expect([rated.status, rated.body, asked()]).toEqual([200, { accepted: true }, 0]);
    // The part skipped the suspected primary; the rating went to the standby that answered, asking no one else.
    expect((await agents(url(1))).failover).toMatchObject({ parts: 1, suspected: 1, remembered: 0 });
    // No longer suspected: asked again (it does not answer, so the timeout is waited once more).
    suspect = false;
    const later = await query(url(1), ask(51, [a.id]));
    expect([later.status, later.body.standby, asked()]).toEqual([200, [a.id], 1]);
  });

  it('a primary that answered too late does not take the rating of the answer the standby gave', async () => {
    const { url } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    const part = { queryId: 80, type: 'troubleshoot', complexity: 'simple', features: [a.id], barrier: 0 };
    // Both hold an answer to query 80: coordinator 2's came after the asker's timeout, the standby's was used.
    for (const [id, path] of [
      [2, '/query/part'],
      [3, '/query/standby'],
    ] as const)
      expect((await post(url(id), path, { ...part })).status).toBe(200);
    // The rating names the agent whose answer was rated (the reply's `agent`): it goes to that one only.
    const rated = await post(url(1), '/feedback', {
      queryId: 80,
      feature: a.id,
      rating: 1,
      agent: `standby-agent-${a.id}`,
    });
    expect([rated.status, rated.body]).toEqual([200, { accepted: true }]);
    expect((await agents(url(3))).standby).toMatchObject({ feedback: 1 });
    const primary = await post(url(2), '/feedback/forwarded', { queryId: 80, feature: a.id, rating: 1 });
    expect([primary.status, primary.body]).toEqual([200, { accepted: true }]); // still pending there: untouched
    // An agent that is neither the feature's agent nor its standby agent is refused.
    const other = await post(url(1), '/feedback', {
      queryId: 80,
      feature: a.id,
      rating: 1,
      agent: 'agent-X',
    });
    expect([other.status, other.body]).toEqual([409, { accepted: false, reason: 'UNKNOWN_AGENT' }]);
  });

  it('the coordinator a query went through remembers which parts standby agents answered, and rates them there', async () => {
    let now = 1_000_000;
    const { url, servers, http } = await coordinators(undefined, 0, { peerTimeoutMs: 400, now: () => now });
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    const asked = await hang(http, 2); // coordinator 2 hung: its port takes requests and answers none
    const q = await query(url(1), ask(81, [a.id]));
    expect([q.status, q.body.standby, asked()]).toEqual([200, [a.id], 1]);
    // Past the 5 s memory, coordinator 2 would be asked first again; the rating of query 81 is not: its answer
    // was the standby's.
    now += 10_000;
    const rated = await post(url(1), '/feedback', { queryId: 81, feature: a.id, rating: 1 });
    expect([rated.status, rated.body, asked()]).toEqual([200, { accepted: true }, 1]);
  });

  it("a reused query id answered by the primary is rated at the primary, never credited to the standby's old answer", async () => {
    let now = 1_000_000;
    const { url, servers, services, nodes, http } = await coordinators(undefined, 0, {
      peerTimeoutMs: 400,
      now: () => now,
    });
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    for (const id of [90, 91]) expect((await query(url(1), ask(id, [a.id]))).body.standby).toEqual([a.id]);
    expect((await post(url(1), '/feedback', { queryId: 90, feature: a.id, rating: 1 })).body).toEqual({
      accepted: true,
    }); // 91 is never rated
    // Coordinator 2 back; past the 5 s memory it answers query ids 90 and 91 again itself.
    const back = await serveCoordinatorHttp(nodes[1], catalog, http.get(2)!, services[1]);
    cleanup.push(() => new Promise((r) => back.close(() => r())));
    now += 10_000;
    for (const id of [90, 91]) {
      const q = await query(url(1), ask(id, [a.id]));
      expect([id, q.body.standby, q.body.answers[0].agent]).toEqual([id, [], `agent-${a.id}`]);
    }
    // Named or not, the ratings reach coordinator 2's agent; the standby's unrated answer to 91 takes nothing.
    const named = await post(url(1), '/feedback', {
      queryId: 90,
      feature: a.id,
      rating: 1,
      agent: `agent-${a.id}`,
    });
    expect([named.status, named.body]).toEqual([200, { accepted: true }]);
    const plain = await post(url(1), '/feedback', { queryId: 91, feature: a.id, rating: 1 });
    expect([plain.status, plain.body]).toEqual([200, { accepted: true }]);
    expect(services[2].standby.stats.feedback).toBe(1);
  });

  it('a primary the failure detector suspects but that answers HTTP is asked again after one probe', async () => {
    const { url } = await coordinators(undefined, 0, (id) =>
      id === 1 ? { suspected: (c: number) => c === 2 } : {},
    );
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    // Gossip says coordinator 2 is dead (UDP blocked, say) while its HTTP API works: the first part goes to the
    // standby and a probe is sent; once coordinator 2 answered it, it is asked again.
    expect((await query(url(1), ask(95, [a.id]))).body.standby).toEqual([a.id]);
    for (let t = 0; t < 50 && (await agents(url(1))).failover.probed !== 1; t++)
      await new Promise((r) => setTimeout(r, 100));
    const q = await query(url(1), ask(96, [a.id]));
    expect([q.body.standby, q.body.answers[0].agent]).toEqual([[], `agent-${a.id}`]);
  });

  it('a repeated rating of a standby answer is refused at once, the suspected, hung primary not asked', async () => {
    const { url, servers, http } = await coordinators(undefined, 0, (id) =>
      id === 1 ? { peerTimeoutMs: 1500, suspected: (c: number) => c === 2 } : {},
    );
    const a = featureOf(1); // primary 2, standby 3
    await stopApi(servers, 1);
    const asked = await hang(http, 2);
    expect((await query(url(1), ask(60, [a.id]))).body.standby).toEqual([a.id]);
    const rated = await post(url(1), '/feedback', { queryId: 60, feature: a.id, rating: 1 });
    expect(rated.body).toEqual({ accepted: true });
    // The client retries (its reply was lost, say): refused at once (found in review: it waited the timeout on
    // the hung primary and got 502).
    const t0 = Date.now();
    const again = await post(url(1), '/feedback', { queryId: 60, feature: a.id, rating: 1 });
    const took = Date.now() - t0;
    expect({ status: again.status, body: again.body, asked: asked(), fast: took < 500 }).toEqual({
      status: 409,
      body: { accepted: false, reason: 'UNKNOWN_ANSWER' },
      asked: 0,
      fast: true,
    });
  });

  it('a suspected coordinator that refuses connections is probed at most once per few seconds, not once per query', async () => {
    const { url, servers, http } = await coordinators(undefined, 0, (id) =>
      id === 1 ? { suspected: (c: number) => c === 2 } : {},
    );
    const a = featureOf(1);
    await stopApi(servers, 1);
    let probes = 0;
    const rst = createServer((req) => {
      if (req.method === 'GET') probes++;
      req.socket.destroy();
    });
    await new Promise<void>((r) => rst.listen(http.get(2)!.port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => rst.close(() => r(undefined))));
    for (let i = 0; i < 20; i++) {
      await query(url(1), ask(100 + i, [a.id]));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(probes).toBeLessThanOrEqual(2); // found in review: 20
  });

  it('gossip falsely suspecting every peer (UDP blocked here): queries are answered throughout, the probes renewed', async () => {
    let now = 1_000_000;
    const { url } = await coordinators(undefined, 0, (id) =>
      id === 1 ? { now: () => now, suspected: (c: number) => c !== 1 } : {},
    );
    const a = featureOf(1); // primary 2, standby 3: both answer HTTP
    const statuses: number[] = [];
    const settle = () => new Promise((r) => setTimeout(r, 300));
    statuses.push((await query(url(1), ask(200, [a.id]))).status);
    await settle();
    statuses.push((await query(url(1), ask(201, [a.id]))).status);
    now += 30_000;
    statuses.push((await query(url(1), ask(202, [a.id]))).status);
    await settle();
    statuses.push((await query(url(1), ask(203, [a.id]))).status);
    expect(statuses).toEqual([200, 200, 200, 200]); // found in review: [502, 200, 502, 200]
  });

  it("a part carries the asker's time budget: a primary that cannot answer within it says TOO_LATE and keeps no answer", async () => {
    const { url, nodes } = await coordinators();
    const a = featureOf(1); // primary coordinator 2
    // A barrier the replica will not reach soon, and 400 ms to answer in.
    const far = nodes[1].status().applied + 1_000_000;
    const part = {
      queryId: 97,
      type: 'kpi',
      complexity: 'simple',
      features: [a.id],
      barrier: far,
      budget_ms: 400,
    };
    const t0 = Date.now();
    const r = await post(url(2), '/query/part', part);
    expect([r.status, r.body, Date.now() - t0 < 1500]).toEqual([409, { reason: 'TOO_LATE' }, true]);
    // No answer held: a rating of query 97 is not credited to an answer nobody saw.
    const f = await post(url(2), '/feedback/forwarded', { queryId: 97, feature: a.id, rating: 1 });
    expect([f.status, f.body]).toEqual([409, { accepted: false, reason: 'UNKNOWN_ANSWER' }]);
  });

  it('a primary that says TOO_LATE is treated as one that did not answer: the standby answers the part', async () => {
    const { url, servers, http } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    const late = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = 409;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ reason: 'TOO_LATE' }));
      });
    });
    await new Promise<void>((r) => late.listen(http.get(2)!.port, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => late.close(() => r(undefined))));
    const q = await query(url(1), ask(98, [a.id]));
    expect([q.status, q.body.ok, q.body.standby]).toEqual([200, true, [a.id]]);
  });

  it('the primary and its standby both down: the query fails; a standby that is this coordinator answers', async () => {
    const { url, servers } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    const b = featureOf(2); // primary coordinator 3, standby coordinator 1
    await stopApi(servers, 1);
    await stopApi(servers, 2);
    const down = await query(url(1), ask(50, [a.id]));
    expect([down.status, down.body.ok, down.body.reason]).toEqual([502, false, 'COORDINATOR_DOWN']);
    const f = await post(url(1), '/feedback', { queryId: 50, feature: a.id, rating: 1 });
    expect([f.status, f.body]).toEqual([502, { accepted: false, reason: 'COORDINATOR_DOWN' }]);
    const local = await query(url(1), ask(51, [b.id]));
    expect([local.status, local.body.ok, local.body.standby]).toEqual([200, true, [b.id]]);
    expect(local.body.answers[0]).toMatchObject({ agent: `standby-agent-${b.id}` });
  });

  it("a standby request is served only by the feature's standby, never forwarded", async () => {
    const { url } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    const part = { queryId: 60, type: 'kpi', complexity: 'simple', features: [a.id], barrier: 0 };
    for (const id of [1, 2]) {
      const r = await post(url(id), '/query/standby', part);
      expect([id, r.status, r.body]).toEqual([id, 409, { reason: 'NOT_STANDBY' }]);
      const f = await post(url(id), '/feedback/standby', { queryId: 60, feature: a.id, rating: 1 });
      expect([id, f.status, f.body]).toEqual([id, 409, { accepted: false, reason: 'NOT_STANDBY' }]);
    }
    // The standby without such an answer pending refuses the rating too.
    const f = await post(url(3), '/feedback/standby', { queryId: 60, feature: a.id, rating: 1 });
    expect([f.status, f.body]).toEqual([409, { accepted: false, reason: 'UNKNOWN_ANSWER' }]);
    expect((await agents(url(3))).standby).toMatchObject({ answers: 0, feedback: 0, refused: 1 });
    // A body the part schema does not allow is refused (a standby request is a part on its own path).
    const bad = await post(url(3), '/query/standby', { ...part, standby: true });
    expect(bad.status).toBe(400);
    // A query id is a u32 everywhere: in a part as in the query and its feedback.
    for (const path of ['/query/part', '/query/standby']) {
      const big = await post(url(path === '/query/part' ? 2 : 3), path, { ...part, queryId: 2 ** 32 });
      expect([path, big.status, big.body.code]).toEqual([path, 400, 'E_BAD_REQUEST']);
    }
  });

  it('on a keyed cluster standby requests must be signed; the failover signs them', async () => {
    const ring = ClusterKeyring.of([randomBytes(32)]);
    const { url, servers, http } = await coordinators(ring);
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    const part = { queryId: 70, type: 'kpi', complexity: 'simple', features: [a.id], barrier: 0 };
    const unsigned = await post(url(3), '/query/standby', part);
    expect([unsigned.status, unsigned.body.code]).toEqual([401, 'E_AUTH']);
    const rating = { queryId: 70, feature: a.id, rating: 1 };
    const unsignedFeedback = await post(url(3), '/feedback/standby', rating);
    expect([unsignedFeedback.status, unsignedFeedback.body.code]).toEqual([401, 'E_AUTH']);
    expect(await postSigned(http.get(3)!, '/query/standby', part, ring, 5000)).toMatchObject({
      status: 200,
    });
    expect(await postSigned(http.get(3)!, '/feedback/standby', rating, ring, 5000)).toMatchObject({
      status: 200,
      body: { accepted: true },
    });
    await stopApi(servers, 1);
    const q = await query(url(1), ask(71, [a.id]));
    expect([q.status, q.body.ok, q.body.standby]).toEqual([200, true, [a.id]]);
    const f = await post(url(1), '/feedback', { queryId: 71, feature: a.id, rating: 1 });
    expect([f.status, f.body]).toEqual([200, { accepted: true }]);
  });

  it('standby agents act on the patterns every coordinator receives', async () => {
    const { url, services } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    for (let q = 100; q < 106; q++) {
      expect((await query(url(2), ask(q, [a.id]))).status).toBe(200);
      const f = await post(url(2), '/feedback', { queryId: q, feature: a.id, rating: 1, resolved: true });
      expect(f.status).toBe(200);
    }
    await services[1].federation.round();
    expect(services[1].federation.stats.patternsFound).toBeGreaterThanOrEqual(1);
    // Applied to every agent coordinator 3 holds, its standby agents too (for this feature, one): they act on
    // the swarm's confident knowledge while they answer for coordinator 2.
    const found = services[1].federation.stats.patternsFound;
    const c3 = (await (await fetch(`${url(3)}/agents`)).json()) as {
      hosted: number;
      standby: { agents: number };
      federation: { patternsApplied: number };
    };
    expect(c3.standby.agents).toBeGreaterThan(0);
    expect(c3.federation.patternsApplied).toBe((c3.hosted + c3.standby.agents) * found);
  });

  it('the standby agents are saved in their own file and restored from it', async () => {
    const dir = mkdtempSync(join(root, 's'));
    const file = (id: number) => join(dir, `standby-${id}.json`);
    const { url, servers, nodes, services, http } = await coordinators(undefined, 0, (id) => ({
      standbyAgentsFile: file(id),
    }));
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    const first = await query(url(1), ask(80, [a.id]));
    expect(first.body.standby).toEqual([a.id]);
    const f = await post(url(1), '/feedback', { queryId: 80, feature: a.id, rating: 1, resolved: true });
    expect(f.status).toBe(200);
    services[2].stop(); // saves what changed
    const restarted = new QueryService(nodes[2], catalog, http, { seed: 3, standbyAgentsFile: file(3) });
    expect(restarted.standbyStore?.stats.restored).toBe(restarted.standby.stats.agents);
    const part: PartBody = {
      queryId: 81,
      type: 'troubleshoot',
      complexity: 'simple',
      features: [a.id],
      barrier: 0,
    };
    const again = await restarted.standbyPart(part);
    expect('answers' in again && again.answers[0].confidence).toBeGreaterThan(
      first.body.answers[0].confidence as number,
    );
  });
});
