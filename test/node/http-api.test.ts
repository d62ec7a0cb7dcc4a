import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stateHi, stateLo } from '../../src/learning/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { serveCoordinatorHttp } from '../../src/node/coordinator-http.js';
import { CoordinatorNode } from '../../src/node/coordinator-node.js';
import { serveKvHttp } from '../../src/node/kv-http.js';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';
import { QueryService } from '../../src/node/query-service.js';
import { postSigned } from '../../src/node/signed-request.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { OWN_STATES } from '../../src/swarm/agent/index.js';

const root = mkdtempSync(join(tmpdir(), 'elex-http-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A one-voter cluster (it elects itself) and its HTTP API on a free port; returns the API's base URL. */
async function single<N extends { close(): Promise<void>; status(): { role: string } }>(
  start: (o: {
    id: number;
    cluster: Map<number, Address>;
    dataDir: string;
    voters: number[];
    auth?: ClusterKeyring;
  }) => Promise<N>,
  serve: (n: N, at: Address) => Promise<Server>,
  auth?: ClusterKeyring,
): Promise<string> {
  const [port, spare] = await freePorts(2);
  const node = await start({
    id: 1,
    // Node 2 has an address but is no member: the admin tests add it (a node with no address is refused).
    cluster: new Map([
      [1, { host: '127.0.0.1', port }],
      [2, { host: '127.0.0.1', port: spare }],
    ]),
    voters: [1],
    dataDir: join(root, `d${dirs++}`),
    ...(auth ? { auth } : {}),
  });
  cleanup.push(() => node.close());
  const server = await serve(node, { host: '127.0.0.1', port: 0 });
  cleanup.push(() => new Promise((r) => server.close(() => r())));
  const end = Date.now() + 5000;
  while (node.status().role !== 'leader') {
    if (Date.now() > end) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 10));
  }
  const a = server.address() as { port: number };
  return `http://127.0.0.1:${a.port}`;
}

async function call(url: string, init?: RequestInit) {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), text, json: () => JSON.parse(text) };
}

/**
 * Writes `text` on a fresh connection, half-closes it (unless `halfClose` is false: a client still sending),
 * and reads what the node answers until it closes.
 */
function raw(base: string, text: string, halfClose = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(Number(new URL(base).port), '127.0.0.1', () =>
      halfClose ? s.end(text) : s.write(text),
    );
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    s.setTimeout(3000, () => s.destroy());
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}

/** The status and JSON body of a raw answer (the first, when there are several). */
function answer(text: string): { status: number; body: unknown } {
  const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
  if (m === null) throw new Error(`no answer: ${JSON.stringify(text)}`);
  const length = Number(/^content-length: (\d+)$/im.exec(m[2])?.[1] ?? 0);
  const body = text.slice(m[0].length, m[0].length + length);
  return { status: Number(m[1]), body: body === '' ? undefined : JSON.parse(body) };
}

describe('the KV node’s HTTP API', () => {
  it('puts, gets, deletes; answers JSON errors with a status that says what to do', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    expect((await call(`${base}/kv/a%20b`, { method: 'PUT', body: 'on' })).json()).toEqual({
      key: 'a b',
      ok: true,
      previous: null,
    });
    expect((await call(`${base}/kv/a%20b`)).json()).toEqual({ key: 'a b', value: 'on' });
    expect((await call(`${base}/kv/a%20b`, { method: 'DELETE' })).json()).toMatchObject({
      ok: true,
      previous: 'on',
    });
    const gone = await call(`${base}/kv/a%20b`);
    expect([gone.status, gone.json().value]).toEqual([404, null]);
    const route = await call(`${base}/nope`);
    expect([route.status, route.json().code]).toEqual([404, 'E_NOT_FOUND']);
    const bad = await call(`${base}/kv/%E0%A4%A`);
    expect([bad.status, bad.json().code]).toEqual([400, 'E_BAD_REQUEST']);
    const big = await call(`${base}/kv/x`, { method: 'PUT', body: 'x'.repeat((1 << 20) + 1) }).catch(
      () => null,
    );
    // The server refuses the body (413) or cuts the connection while the client still sends: never a 200.
    if (big !== null) expect(big.status).toBe(413);
    // A body declared too large is refused at once, before any of it is read: 413, and the connection closed.
    const declared = await raw(
      base,
      `PUT /kv/x HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 30}\r\n\r\n`,
      false,
    );
    expect(declared).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared).toMatch(/"code":"E_TOO_LARGE"/);
  });

  it('HEAD is answered as GET without the body (monitors probe /status that way)', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    const get = await fetch(`${base}/status`);
    const head = await fetch(`${base}/status`, { method: 'HEAD' });
    expect([head.status, await head.text(), head.headers.get('content-type')]).toEqual([
      200,
      '',
      'application/json',
    ]);
    expect(get.status).toBe(200);
    const missing = await fetch(`${base}/nope`, { method: 'HEAD' });
    expect([missing.status, await missing.text()]).toEqual([404, '']);
  });

  it('a request target the URL parser refuses is a 400, not a crash of the node (found by http-fuzz)', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    const get = async (target: string) => {
      const a = answer(await raw(base, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      return [a.status, (a.body as { code: string }).code];
    };
    for (const target of ['http://[', 'http://[/status'])
      expect(await get(target)).toEqual([400, 'E_BAD_REQUEST']);
    // An origin-form target is the request's own path: `//[` is one, and `//x/status` is not the authority x
    // and the path /status.
    for (const target of ['//[', '//x/status']) expect(await get(target)).toEqual([404, 'E_NOT_FOUND']);
    expect((await call(`${base}/status`)).status).toBe(200);
  });

  it('what Node’s HTTP parser refuses is answered as JSON {code, message} too (found by http-fuzz)', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    const requests: Array<[string, number, string]> = [
      ['PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'E_BAD_REQUEST'],
      ['FOO /status HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'E_BAD_REQUEST'],
      // The body ends (the client half-closes) before its declared length.
      ['PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nx', 400, 'E_BAD_REQUEST'],
      ['PUT /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 400, 'E_BAD_REQUEST'],
      ['GET /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: 100-continue\r\n\r\n', 400, 'E_BAD_REQUEST'],
      [`GET /status HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'E_TOO_LARGE'],
      ['GET /status HTTP/1.1\r\nHost: x\r\nExpect: junk\r\nConnection: close\r\n\r\n', 417, 'E_BAD_REQUEST'],
      ['CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'E_BAD_REQUEST'],
    ];
    for (const [request, status, code] of requests) {
      const text = await raw(base, request);
      expect(text, request.slice(0, 80)).toMatch(/\r\ncontent-type: application\/json\r\n/);
      const a = answer(text);
      expect([a.status, a.body], request.slice(0, 80)).toEqual([
        status,
        { code, message: expect.any(String) },
      ]);
    }
    expect((await call(`${base}/status`)).status).toBe(200);
  });

  it('a body that is not UTF-8 is refused, not stored with U+FFFD in place of its bytes', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    // 400,000 bytes under the body bound; read leniently, as many U+FFFD (1.2 MB, above the value bound: a 500
    // until the http fuzz test; then a 413), and a short one was stored changed.
    const cases: Array<[Buffer, Record<string, string>]> = [
      [Buffer.alloc(400_000, 0x80), {}],
      [Buffer.alloc(400_000, 0x80), { 'elex-if': '' }],
      [Buffer.from([0x61, 0xff, 0x62]), {}],
    ];
    for (const [body, headers] of cases) {
      const r = await call(`${base}/kv/x`, { method: 'PUT', body, headers });
      expect([r.status, r.json().code], `${body.length} ${JSON.stringify(headers)}`).toEqual([
        400,
        'E_BAD_REQUEST',
      ]);
    }
    expect((await call(`${base}/kv/x`)).status).toBe(404);
    // The bound itself is a value, and UTF-8 beyond ASCII is kept as sent.
    const max = await call(`${base}/kv/x`, { method: 'PUT', body: 'é'.repeat(1 << 19) });
    expect(max.status).toBe(200);
    expect((await call(`${base}/kv/x`)).json().value).toHaveLength(1 << 19);
  });

  it('a write repeated in its client session executes once and gets the first answer; without one it runs again', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    await call(`${base}/kv/n`, { method: 'PUT', body: '0' });
    const inc = (headers: Record<string, string>) =>
      call(`${base}/kv/n`, { method: 'PUT', body: '1', headers: { 'elex-if': '0', ...headers } });
    const opened = await call(`${base}/sessions`, { method: 'POST' });
    expect(opened.status).toBe(200);
    const client = opened.json().client;
    expect(Number.isSafeInteger(client) && client > 0).toBe(true);
    const session = { 'elex-client': String(client), 'elex-seq': '1' };
    const first = (await inc(session)).json();
    expect(first).toEqual({ key: 'n', ok: true, previous: '0' });
    // The retry of an increment whose answer was lost: the same answer, and no second increment.
    expect((await inc(session)).json()).toEqual(first);
    // Without a session the same request is a new command: the compare fails against the new value.
    expect((await inc({})).json()).toEqual({ key: 'n', ok: false, previous: '1' });
    // An older seq of the session is refused, not executed.
    await call(`${base}/kv/n`, { method: 'PUT', body: '2', headers: { ...session, 'elex-seq': '2' } });
    const stale = await call(`${base}/kv/n`, { method: 'PUT', body: '9', headers: session });
    expect(stale.json()).toMatchObject({ ok: false, error: 'E_STALE_SEQ' });
    // A session nobody opened is refused too: its id is not a register entry's index.
    const unknown = await call(`${base}/kv/n`, {
      method: 'PUT',
      body: '9',
      headers: { 'elex-client': String(client + 1000), 'elex-seq': '1' },
    });
    expect([unknown.status, unknown.json()]).toEqual([
      409,
      { key: 'n', ok: false, previous: null, error: 'E_SESSION_EXPIRED' },
    ]);
    expect((await call(`${base}/kv/n`)).json()).toEqual({ key: 'n', value: '2' });
    // Two sessions: the process's own (the session-less writes) and the client's.
    expect((await call(`${base}/status`)).json()).toMatchObject({ sessions: 2, sessionsExpired: 0 });
    // Bad session headers are a 400 with the reason.
    const bad: Record<string, string>[] = [
      { 'elex-client': '0', 'elex-seq': '1' },
      { 'elex-client': '1.5', 'elex-seq': '1' },
      { 'elex-client': String(2 ** 53), 'elex-seq': '1' },
      { 'elex-client': String(client) },
      { 'elex-seq': '0' },
      // Only decimal digits (found by http-fuzz: Number() took these as 16 and 1000).
      { 'elex-client': String(client), 'elex-seq': '0x10' },
      { 'elex-client': String(client), 'elex-seq': '1e3' },
      { 'elex-client': `+${client}`, 'elex-seq': '7' },
    ];
    for (const h of bad) {
      const r = await call(`${base}/kv/n`, { method: 'PUT', body: 'x', headers: h });
      expect(r.status, JSON.stringify(h)).toBe(400);
      expect(r.json().code).toBe('E_BAD_REQUEST');
    }
    // A header sent twice is ambiguous: which compare, which session? Refused, not joined with ", ".
    const twice = answer(
      await raw(
        base,
        'PUT /kv/n HTTP/1.1\r\nHost: x\r\nelex-if: 2\r\nelex-if: 3\r\nContent-Length: 1\r\nConnection: close\r\n\r\n9',
      ),
    );
    expect([twice.status, (twice.body as { code: string }).code]).toEqual([400, 'E_BAD_REQUEST']);
    expect((await call(`${base}/kv/n`)).json().value).toBe('2');
  });

  it('a retry in a session the bound expired is refused, not executed again; the node reopens its own', async () => {
    const base = await single((o) => KvNode.start({ ...o, maxSessions: 2 }), serveKvHttp);
    const open = async () => (await call(`${base}/sessions`, { method: 'POST' })).json().client as number;
    const a = await open();
    const put = (client: number, seq: number, body: string) =>
      call(`${base}/kv/k`, {
        method: 'PUT',
        body,
        headers: { 'elex-client': String(client), 'elex-seq': String(seq), 'elex-if': '' },
      });
    await call(`${base}/kv/k`, { method: 'PUT', body: '' }); // the node's own session: the second
    expect((await put(a, 1, 'a1')).json()).toMatchObject({ ok: true, previous: '' });
    await open();
    await open(); // a and the node's own session are the least recently used: both expire
    const retry = await put(a, 1, 'a1');
    expect([retry.status, retry.json().error]).toEqual([409, 'E_SESSION_EXPIRED']);
    expect((await call(`${base}/kv/k`)).json().value).toBe('a1');
    // A session-less write finds its own session gone, opens another, and is applied once.
    const own = await call(`${base}/kv/k`, { method: 'PUT', body: 'own' });
    expect(own.json()).toEqual({ key: 'k', ok: true, previous: 'a1' });
    expect((await call(`${base}/status`)).json()).toMatchObject({ sessions: 2, sessionsExpired: 3 });
  });

  it('admin routes: membership changes and transfer, with their refusals', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    const post = (path: string, body: string) => call(`${base}${path}`, { method: 'POST', body });
    const learner = await post('/admin/members', JSON.stringify({ type: 'add-learner', node: 2 }));
    expect([learner.status, learner.json()]).toEqual([200, { voters: [1], learners: [2] }]);
    const invalid = await post('/admin/members', JSON.stringify({ type: 'remove', node: 9 }));
    expect([invalid.status, invalid.json().code]).toEqual([400, 'E_CONF_INVALID']);
    const malformed = await post('/admin/members', JSON.stringify({ type: 'promote', node: 2 }));
    expect([malformed.status, malformed.json().code]).toEqual([400, 'E_BAD_REQUEST']);
    const notVoter = await post('/admin/transfer', JSON.stringify({ to: 2 }));
    expect([notVoter.status, notVoter.json().code]).toEqual([400, 'E_NOT_VOTER']);
    expect((await call(`${base}/status`)).json()).toMatchObject({ voters: [1], learners: [2] });
  });

  it('on a keyed node the admin routes take only requests signed with the cluster key', async () => {
    const ring = ClusterKeyring.of([randomBytes(32)]);
    const base = await single(KvNode.start, serveKvHttp, ring);
    const at = { host: '127.0.0.1', port: Number(new URL(base).port) };
    const change = { type: 'add-learner', node: 2 };
    const unsigned = await call(`${base}/admin/members`, { method: 'POST', body: JSON.stringify(change) });
    expect([unsigned.status, unsigned.json().code]).toEqual([401, 'E_AUTH']);
    const otherKey = await postSigned(
      at,
      '/admin/members',
      change,
      ClusterKeyring.of([randomBytes(32)]),
      5000,
    );
    expect(otherKey).toMatchObject({ status: 401, body: { code: 'E_AUTH' } });
    expect((await call(`${base}/status`)).json()).toMatchObject({ learners: [] });
    const signed = await postSigned(at, '/admin/members', change, ring, 5000);
    expect([signed?.status, signed?.body]).toEqual([200, { voters: [1], learners: [2] }]);
    // Client routes stay open: the key guards the cluster's configuration, not its data.
    expect((await call(`${base}/kv/k`, { method: 'PUT', body: 'v' })).status).toBe(200);
  });

  it('serves Prometheus metrics read from the node', async () => {
    const base = await single(KvNode.start, serveKvHttp);
    await call(`${base}/kv/k`, { method: 'PUT', body: 'v' });
    const m = await call(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain/);
    expect(m.text).toMatch(/^elex_raft_is_leader\{kind="node"\} 1$/m);
    expect(m.text).toMatch(/^elex_raft_applied_index\{kind="node"\} [1-9]\d*$/m);
    expect(m.text).toMatch(/^elex_kv_keys\{kind="node"\} 1$/m);
    expect(m.text).toMatch(/^elex_kv_sessions\{kind="node"\} 1$/m);
    expect(m.text).toMatch(/^elex_kv_sessions_expired_total\{kind="node"\} 0$/m);
    expect(m.text).toMatch(/^elex_transport_stalls_total\{kind="node"\} 0$/m);
    expect(m.text).toMatch(/^# TYPE elex_transport_server_errors_total counter$/m);
    expect(m.text).toMatch(/^process_cpu_user_seconds_total/m);
  });
});

describe('the coordinator’s HTTP API', () => {
  const catalog = defaultCatalog();
  const start = (o: { id: number; cluster: Map<number, Address>; dataDir: string }) =>
    CoordinatorNode.start({ ...o, catalog });
  const serve = (n: CoordinatorNode, at: Address) => serveCoordinatorHttp(n, catalog, at);
  const post = (base: string, body: string) => call(`${base}/commands`, { method: 'POST', body });

  it('a keyed coordinator takes only signed admin requests and signed patterns from other coordinators', async () => {
    const ring = ClusterKeyring.of([randomBytes(32)]);
    const withAgents = (n: CoordinatorNode, at: Address) =>
      serveCoordinatorHttp(
        n,
        catalog,
        at,
        new QueryService(n, catalog, new Map([[1, at]]), { seed: 1, federationMs: 0 }),
      );
    const base = await single(start, withAgents, ring);
    const at = { host: '127.0.0.1', port: Number(new URL(base).port) };
    const unsigned = await call(`${base}/admin/transfer`, { method: 'POST', body: '{"to":1}' });
    expect([unsigned.status, unsigned.json().code]).toEqual([401, 'E_AUTH']);
    const signed = await postSigned(at, '/admin/transfer', { to: 1 }, ring, 5000);
    expect([signed?.status, signed?.body]).toEqual([200, { leader: 1 }]);
    const { state } = OWN_STATES[0];
    const pattern = { origin: 'agent-x', hi: stateHi(state), lo: stateLo(state), action: 3, q: 0.5 };
    const patterns = { patterns: [pattern] };
    const forged = await call(`${base}/patterns`, { method: 'POST', body: JSON.stringify(patterns) });
    expect([forged.status, forged.json().code]).toEqual([401, 'E_AUTH']);
    const fromPeer = await postSigned(at, '/patterns', patterns, ring, 5000);
    expect(fromPeer).toMatchObject({ status: 200, body: { applied: expect.any(Number) } });
    expect((fromPeer!.body as { applied: number }).applied).toBeGreaterThan(0);
    // A state no agent is ever in applies nowhere (it would only grow every hosted table: found by http-fuzz).
    const nowhere = { patterns: [{ ...pattern, hi: 1, lo: 2 }] };
    expect(await postSigned(at, '/patterns', nowhere, ring, 5000)).toEqual({
      status: 200,
      body: { applied: 0 },
    });
  });

  it('a command nested deeper than the encoder recurses is refused, not a 500 (found by http-fuzz)', async () => {
    const base = await single(start, serve);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const body of [deep, `{"op":"activate","feature":"IFLB","parameters":${deep}}`]) {
      const r = await post(base, body);
      expect([r.status, r.json().code]).toEqual([400, 'E_BAD_COMMAND']);
    }
    expect((await call(`${base}/status`)).status).toBe(200);
  });

  it('takes commands, answers refusals with 409, reads linearizably with the index', async () => {
    const base = await single(start, serve);
    const iflb = catalog.resolve('IFLB');
    const ok = await post(
      base,
      JSON.stringify({ op: 'activate', feature: 'IFLB', with_prerequisites: true }),
    );
    expect(ok.status, ok.text).toBe(200);
    const again = await post(base, JSON.stringify({ op: 'activate', feature: iflb.id }));
    expect([again.status, again.json().code]).toEqual([409, 'ALREADY_ACTIVE']);
    const f = (await call(`${base}/features/IFLB`)).json();
    expect(f).toMatchObject({ feature: iflb.id, active: true });
    expect(f.index).toBeGreaterThan(0);
    expect((await call(`${base}/active`)).json().features).toContain(iflb.id);
    const notJson = await post(base, '{');
    expect([notJson.status, notJson.json().code]).toEqual([400, 'E_BAD_COMMAND']);
    const invalid = await post(base, JSON.stringify({ op: 'launch' }));
    expect([invalid.status, invalid.json().code]).toEqual([400, 'E_BAD_COMMAND']);
    const refused = await post(base, JSON.stringify({ op: 'activate', feature: 'NO-SUCH-FEATURE' }));
    expect([refused.status, refused.json().code]).toEqual([409, 'UNKNOWN_FEATURE']);
    const unknown = await call(`${base}/features/NO-SUCH-FEATURE`);
    expect([unknown.status, unknown.json().code]).toEqual([404, 'E_UNKNOWN_FEATURE']);
    expect((await call(`${base}/metrics`)).text).toMatch(/^elex_raft_term\{kind="coordinator"\} \d+$/m);
  });
});
