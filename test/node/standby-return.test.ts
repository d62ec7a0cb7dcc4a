import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isElexError, SeededRng } from '../../src/core/index.js';
import { AgentStore } from '../../src/node/agent-store.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { serveCoordinatorHttp } from '../../src/node/coordinator-http.js';
import { parseBody } from '../../src/node/http-api.js';
import { hostedAgentId } from '../../src/node/query-service.js';
import { postSigned } from '../../src/node/signed-request.js';
import {
  RETURN_QUEUE_LIMIT,
  type ReturnBody,
  returnBody,
  StandbyReturn,
} from '../../src/node/standby-return.js';
import { agentState, FeatureAgent } from '../../src/swarm/agent/index.js';
import { ask, catalog, cleanup, coordinators, featureOf, query, root, stopApi } from './coordinators.js';

const post = async (base: string, path: string, body: unknown) => {
  const r = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

/** The entries of an agent's table that have visits: [hi, lo, action, q, visits]. */
const learned = (t: {
  size: number;
  hi: ArrayLike<number>;
  lo: ArrayLike<number>;
  action: ArrayLike<number>;
  q: ArrayLike<number>;
  visits: ArrayLike<number>;
}) => {
  const out: Array<[number, number, number, number, number]> = [];
  for (let e = 0; e < t.size; e++)
    if (t.visits[e] > 0) out.push([t.hi[e], t.lo[e], t.action[e], t.q[e], t.visits[e]]);
  return out;
};

/** One experience as `POST /agents/return` carries it: action 2 rewarded 1 in `state`. */
const onWire = (feature: string, state: bigint) => ({
  feature,
  state: [Number(state >> 32n), Number(state & 0xffffffffn)],
  action: 2,
  reward: 1,
});

/** One life of a primary hosting the catalogue's first feature, its agents and return numbers in `file`. */
function primaryLife(file: string) {
  const f = defaultCatalog().features[0];
  const agent = new FeatureAgent(hostedAgentId(f.id), f, new SeededRng(1));
  const hosted = new Map([[f.id, agent]]);
  let store: AgentStore | null = null;
  const returns = new StandbyReturn({ hosted, to: null, persist: () => store?.save() !== false });
  store = new AgentStore(file, hosted, 0, returns);
  store.load();
  return { agent, returns };
}

/**
 * A primary's return endpoint over HTTP, for a `StandbyReturn` to send to: its agent of the catalogue's first
 * feature learns; `seen(body, n)` runs as the n-th request (1-based) arrives, before it is answered.
 */
async function primaryOverHttp(seen: (b: ReturnBody, n: number) => void = () => {}) {
  const f = defaultCatalog().features[0];
  const agent = new FeatureAgent(hostedAgentId(f.id), f, new SeededRng(1));
  const primary = new StandbyReturn({ hosted: new Map([[f.id, agent]]), to: null });
  let n = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      const b = returnBody.parse(JSON.parse(text));
      seen(b, ++n);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(primary.receive(b)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise((r) => server.close(() => r(undefined))));
  const to = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
  return { f, primary, to };
}

describe("a standby's learning goes back to the primary", () => {
  it('ratings a standby agent took while its primary was down reach the primary agent once it is back, once', async () => {
    const { url, servers, services, nodes, http } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    const q = await query(url(1), ask(60, [a.id]));
    expect([q.status, q.body.standby]).toEqual([200, [a.id]]);
    const rated = await post(url(1), '/feedback', { queryId: 60, feature: a.id, rating: 1, resolved: true });
    expect([rated.status, rated.body]).toEqual([200, { accepted: true }]);
    const standbyAgent = services[2].standby.agents.get(a.id)!;
    const primaryAgent = services[1].hostedAgent(a.id)!;
    const taken = learned(standbyAgent.table);
    expect(taken).toHaveLength(1);
    expect(learned(primaryAgent.table)).toEqual([]);
    // Coordinator 2 is back: coordinator 3's next round sends the rated experience, and its agent learns it as
    // if it had been rated there (same state, action, reward: the same step from the same value).
    const back = await serveCoordinatorHttp(nodes[1], catalog, http.get(2)!, services[1]);
    cleanup.push(() => new Promise((r) => back.close(() => r())));
    await services[2].federation.round();
    expect(learned(primaryAgent.table)).toEqual(taken);
    const metrics = async (id: number) => (await fetch(`${url(id)}/metrics`)).text();
    expect(await metrics(3)).toMatch(/^elex_agents_returned_total\{outcome="sent",kind="coordinator"\} 1$/m);
    expect(await metrics(2)).toMatch(
      /^elex_agents_returned_total\{outcome="learned",kind="coordinator"\} 1$/m,
    );
    // Sent once: the next round sends nothing, and the primary's agent stays as it is.
    await services[2].federation.round();
    expect(learned(primaryAgent.table)).toEqual(taken);
  });

  it('a batch resent after a lost reply is learned once; a feature not hosted is refused; the queue waits for a primary that is down', async () => {
    const { url, servers, services, nodes, http } = await coordinators();
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    const state = agentState('troubleshoot', 'simple', true);
    const x = onWire(a.id, state);
    const body = { epoch: 'ab12', first: 0, experiences: [x, x] };
    const first = await post(url(2), '/agents/return', body);
    expect([first.status, first.body]).toEqual([200, { next: 2, learned: 2, refused: 0 }]);
    const visits = () => learned(services[1].hostedAgent(a.id)!.table).map((e) => e[4]);
    expect(visits()).toEqual([2]);
    // The reply was lost: the standby sends the same batch and one more; only the new one is learned.
    const again = await post(url(2), '/agents/return', { ...body, experiences: [x, x, x] });
    expect([again.status, again.body]).toEqual([200, { next: 3, learned: 1, refused: 0 }]);
    expect(visits()).toEqual([3]);
    // Another epoch (the standby restarted) starts over; a feature coordinator 2 does not host is refused.
    const other = featureOf(2); // hosted by coordinator 3
    const mixed = await post(url(2), '/agents/return', {
      epoch: 'cd34',
      first: 0,
      experiences: [x, { ...x, feature: other.id }],
    });
    expect([mixed.status, mixed.body]).toEqual([200, { next: 2, learned: 1, refused: 1 }]);
    // A standby whose primary is down keeps its queue, counted as failed, and delivers it when it is back.
    await stopApi(servers, 1);
    const ret = services[2].returns;
    ret.add(a.id, { state, action: 1, reward: -1 });
    await ret.round();
    expect([ret.pending, ret.stats.failed]).toEqual([1, 1]);
    const back = await serveCoordinatorHttp(nodes[1], catalog, http.get(2)!, services[1]);
    cleanup.push(() => new Promise((r) => back.close(() => r())));
    await ret.round();
    expect([ret.pending, ret.stats.returned]).toEqual([0, 1]);
    expect(services[1].returns.stats).toMatchObject({ learned: 5, duplicates: 2, refused: 1 });
  });

  it('bad bodies are refused 400 with nothing learned; on a keyed cluster an unsigned return is refused 401', async () => {
    const ring = ClusterKeyring.of([randomBytes(32)]);
    const { url, services, http } = await coordinators(ring);
    const a = featureOf(1);
    const x = onWire(a.id, agentState('troubleshoot', 'simple', true));
    const ok = { epoch: 'ab12', first: 0, experiences: [x] };
    const unsigned = await post(url(2), '/agents/return', ok);
    expect([unsigned.status, unsigned.body.code]).toEqual([401, 'E_AUTH']);
    const bad: unknown[] = [
      { ...ok, epoch: 'not hex' },
      { ...ok, first: -1 },
      { ...ok, experiences: [] },
      { ...ok, experiences: Array.from({ length: 513 }, () => x) },
      { ...ok, experiences: [{ ...x, reward: 2 }] },
      { ...ok, experiences: [{ ...x, reward: Number.NaN }] },
      { ...ok, experiences: [{ ...x, action: 5 }] },
      { ...ok, experiences: [{ ...x, state: [2 ** 32, 0] }] },
      { ...ok, experiences: [{ ...x, extra: 1 }] },
      { ...ok, more: 1 },
    ];
    for (const b of bad) {
      const r = await postSigned(http.get(2)!, '/agents/return', b, ring, 5000);
      expect([r?.status, (r?.body as { code?: string } | undefined)?.code]).toEqual([400, 'E_BAD_REQUEST']);
    }
    expect(learned(services[1].hostedAgent(a.id)!.table)).toEqual([]);
    const signed = await postSigned(http.get(2)!, '/agents/return', ok, ring, 5000);
    expect([signed?.status, signed?.body]).toEqual([200, { next: 1, learned: 1, refused: 0 }]);
  });

  it('an agent replays only what an agent could have learned; a full queue drops its oldest', () => {
    const f = defaultCatalog().features[0];
    const agent = new FeatureAgent('agent', f, new SeededRng(1));
    const state = agentState('kpi', 'complex', false);
    expect(agent.replay({ state: 12345n, action: 0, reward: 1 })).toBe(false);
    expect(agent.replay({ state, action: 5, reward: 1 })).toBe(false);
    expect(agent.replay({ state, action: 0.5, reward: 1 })).toBe(false);
    expect(agent.replay({ state, action: 0, reward: 1.6 })).toBe(false);
    expect(agent.replay({ state, action: 0, reward: Number.NaN })).toBe(false);
    expect(learned(agent.table)).toEqual([]);
    expect(agent.replay({ state, action: 0, reward: -1.5 })).toBe(true);
    expect(learned(agent.table)).toHaveLength(1);
    const ret = new StandbyReturn({ hosted: new Map(), to: null });
    for (let i = 0; i <= RETURN_QUEUE_LIMIT; i++) ret.add(f.id, { state, action: 0, reward: 0 });
    expect([ret.pending, ret.stats.queued, ret.stats.dropped]).toEqual([
      RETURN_QUEUE_LIMIT,
      RETURN_QUEUE_LIMIT + 1,
      1,
    ]);
  });

  it('the queue survives a standby restart, in its epoch, so the primary still learns each experience once', async () => {
    const { url, servers, services, nodes, http } = await coordinators(undefined, 0, (id) =>
      id === 3 ? { standbyReturnsFile: join(mkdtempSync(join(root, 'r')), 'standby-returns.json') } : {},
    );
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    await stopApi(servers, 1);
    const q = await query(url(1), ask(70, [a.id]));
    expect(q.body.standby).toEqual([a.id]);
    expect((await post(url(1), '/feedback', { queryId: 70, feature: a.id, rating: 1 })).status).toBe(200);
    const ret = services[2].returns;
    expect(ret.pending).toBe(1);
    // Coordinator 3 stops (its queue saved) and a new life reads it back: same epoch, same sequence numbers.
    await stopApi(servers, 2);
    const file = ret.file!;
    const saved = readFileSync(file);
    const again = new StandbyReturn({ hosted: new Map(), to: http.get(2)!, file });
    again.load();
    expect([again.pending, again.epoch]).toEqual([1, ret.epoch]);
    // Coordinator 2 back: the restored queue is learned; a life that crashed before saving the ack (the old file
    // again) sends it once more, and coordinator 2 skips it as already learned.
    const back = await serveCoordinatorHttp(nodes[1], catalog, http.get(2)!, services[1]);
    cleanup.push(() => new Promise((r) => back.close(() => r())));
    await again.round();
    expect([again.pending, services[1].returns.stats.learned]).toEqual([0, 1]);
    writeFileSync(file, saved);
    const third = new StandbyReturn({ hosted: new Map(), to: http.get(2)!, file });
    third.load();
    await third.round();
    expect([third.pending, services[1].returns.stats]).toEqual([
      0,
      expect.objectContaining({ learned: 1, duplicates: 1 }),
    ]);
    // A file it cannot use stops the start with a reason, instead of being overwritten by an empty queue.
    for (const bad of [
      '{',
      '{"format":"elex-standby-returns/1","epoch":"ab","next":5,"queue":[{"seq":1,"feature":"x","state":[0,0],"action":0,"reward":0}]}',
    ]) {
      writeFileSync(file, bad);
      expect(() => new StandbyReturn({ hosted: new Map(), to: null, file }).load()).toThrow(
        expect.objectContaining({ code: 'E_DECODE' }),
      );
    }
  });

  it('a sequence number that reached the primary is never handed out again, whenever the standby dies; nothing goes out unsaved', async () => {
    const file = join(mkdtempSync(join(root, 'rv')), 'standby-returns.json');
    let atReceipt: Buffer | null = null; // the standby's file as it was when the primary got the request
    const { f, primary, to } = await primaryOverHttp(() => {
      atReceipt = readFileSync(file);
    });
    const state = agentState('troubleshoot', 'simple', true);
    const a = new StandbyReturn({ hosted: new Map(), to, file });
    a.add(f.id, { state, action: 0, reward: 1 });
    await a.round();
    a.add(f.id, { state, action: 1, reward: 1 });
    a.add(f.id, { state, action: 2, reward: 1 });
    await a.round();
    expect(primary.stats.learned).toBe(3);
    // The standby dies while the acknowledgement is in flight: its file is the one it had when it sent.
    writeFileSync(file, atReceipt!);
    const b = new StandbyReturn({ hosted: new Map(), to, file });
    b.load();
    expect(b.pending).toBe(2);
    b.add(f.id, { state, action: 3, reward: -1 });
    b.add(f.id, { state, action: 4, reward: -1 });
    await b.round();
    // The two sent before are skipped as already learned; the two new ones are learned (before the fix the file
    // said next = 1 and the new ones took numbers 1 and 2, so the primary skipped them as duplicates).
    expect([b.pending, primary.stats]).toEqual([0, expect.objectContaining({ learned: 5, duplicates: 2 })]);
    // A queue it cannot save is not sent.
    const c = new StandbyReturn({
      hosted: new Map(),
      to,
      file: mkdtempSync(join(root, 'a-directory-')),
    });
    c.add(f.id, { state, action: 0, reward: 1 });
    await c.round();
    expect([c.pending, c.stats.saveFailures, primary.stats.learned]).toEqual([1, 2, 5]);
  });

  it("a primary saves what it learned from a return, with the standby's sequence numbers, before it answers", () => {
    const f = defaultCatalog().features[0];
    const file = join(mkdtempSync(join(root, 'p')), 'agents.json');
    const life = () => primaryLife(file);
    const body = returnBody.parse({
      epoch: 'ab12',
      first: 0,
      experiences: [
        onWire(f.id, agentState('kpi', 'simple', true)),
        onWire(f.id, agentState('kpi', 'simple', true)),
      ],
    });
    const one = life();
    expect(one.returns.receive(body)).toEqual({ next: 2, learned: 2, refused: 0 });
    // The primary crashes right after answering: the next life has the learning and the numbers, so the
    // standby's resend (it may not have seen the answer) is skipped, not learned twice.
    const two = life();
    expect(learned(two.agent.table).map((e) => e[4])).toEqual([2]);
    expect(two.returns.receive(body)).toEqual({ next: 2, learned: 0, refused: 0 });
    expect(learned(two.agent.table).map((e) => e[4])).toEqual([2]);
  });

  it('a batch whose sequence numbers run past 2^53 − 1 is refused, not stored so that the next start fails', () => {
    const f = defaultCatalog().features[0];
    const file = join(mkdtempSync(join(root, 'p')), 'agents.json');
    const exp = onWire(f.id, agentState('kpi', 'simple', true));
    // `first` is within its schema (≤ 2^53 − 1), but first + 2 is not a safe integer (session 24, a review).
    const text = JSON.stringify({ epoch: 'ab12', first: Number.MAX_SAFE_INTEGER, experiences: [exp, exp] });
    let body: ReturnBody;
    try {
      body = parseBody(text, returnBody);
    } catch (e) {
      // Refusing the request (400) is a correct outcome.
      expect(isElexError(e) && e.code).toBe('E_BAD_REQUEST');
      return;
    }
    const reply = primaryLife(file).returns.receive(body);
    // The primary's saved numbers must load again: the file held 2^53 (first + 2, rounded) and load() threw
    // E_DECODE, so one accepted request stopped the coordinator from starting again.
    expect(() => primaryLife(file)).not.toThrow();
    // And the reply's `next` (where the standby resumes) must be an exact integer.
    expect(Number.isSafeInteger(reply.next)).toBe(true);
  });

  it('a rating queued while a send is in flight is saved before it goes out in the same round', async () => {
    const file = join(mkdtempSync(join(root, 'rv2-')), 'standby-returns.json');
    const state = agentState('troubleshoot', 'simple', true);
    let a: StandbyReturn | null = null;
    const atReceipt: Buffer[] = [];
    const sentSeqs: number[][] = [];
    const { f, to } = await primaryOverHttp((b, n) => {
      atReceipt.push(readFileSync(file));
      sentSeqs.push(b.experiences.map((_, i) => b.first + i));
      // A user's rating reaches the standby agent while this POST is in flight.
      if (n === 1) a!.add(f.id, { state, action: 1, reward: 1 });
    });
    a = new StandbyReturn({ hosted: new Map(), to, file });
    a.add(f.id, { state, action: 0, reward: 1 });
    await a.round();
    // Every sequence number sent must be below the `next` saved on disk at that moment.
    const savedNext = atReceipt.map((b) => (JSON.parse(b.toString()) as { next: number }).next);
    expect({ sentSeqs, savedNext }).toEqual({ sentSeqs: [[0], [1]], savedNext: [1, 2] }); // found in review: [1, 1]
  });

  it("...so the next life's new experience is learned, not skipped as a duplicate", async () => {
    const file = join(mkdtempSync(join(root, 'rv2-')), 'standby-returns.json');
    const state = agentState('troubleshoot', 'simple', true);
    let a: StandbyReturn | null = null;
    let last: Buffer | null = null;
    const { f, primary, to } = await primaryOverHttp((_, n) => {
      last = readFileSync(file);
      if (n === 1) a!.add(f.id, { state, action: 1, reward: 1 });
    });
    a = new StandbyReturn({ hosted: new Map(), to, file });
    a.add(f.id, { state, action: 0, reward: 1 });
    await a.round();
    expect(primary.stats.learned).toBe(2);
    writeFileSync(file, last!); // the standby dies while the second ack is in flight
    const b = new StandbyReturn({ hosted: new Map(), to, file });
    b.load();
    b.add(f.id, { state, action: 2, reward: -1 });
    await b.round();
    expect(primary.stats).toMatchObject({ learned: 3 }); // found in review: 2, the new one taken for a resend
  });
});
