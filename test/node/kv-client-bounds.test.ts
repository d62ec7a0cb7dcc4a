import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import { KvClient } from '../../src/node/kv-client.js';
import type { Address } from '../../src/node/tcp-transport.js';

const host = '127.0.0.1';
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0))
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
});

/** A fake node answering with `answer` (which may never answer); records each request with its body bytes. */
async function fake(
  answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<{ at: Address; seen: Array<{ method: string; url: string; body: Buffer }> }> {
  const seen: Array<{ method: string; url: string; body: Buffer }> = [];
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      answer(req, res, body);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  return { at: { host, port: (s.address() as { port: number }).port }, seen };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('KvClient: what it sends and how long it takes', () => {
  it('a put of a value that is not well-formed UTF-16 (a lone surrogate) is refused, not stored with U+FFFD in its place', async () => {
    const f = await fake((_req, res) => json(res, 200, { key: 'k', ok: true, previous: null }));
    const c = new KvClient({ nodes: [f.at], client: 1, deadlineMs: 1000 });
    const outcome = await c.put('k', 'a\uD800b').then(
      (r) => ({ resolved: r }),
      (e: unknown) => ({ rejected: e }),
    );
    // Observed: resolved { ok: true } after sending the bytes of 'a\uFFFDb': what is stored is not what was put.
    expect(outcome).toHaveProperty('rejected');
    expect((outcome as { rejected: unknown }).rejected).toBeInstanceOf(ElexError);
    expect(f.seen.filter((r) => r.method === 'PUT').map((r) => r.body.toString('utf8'))).toEqual([]);
  });

  it('get and cas with a lone surrogate (key or expected value) fail with an ElexError, not a raw URIError', async () => {
    const f = await fake((_req, res) => json(res, 200, { key: 'k', value: null }));
    const c = new KvClient({ nodes: [f.at], client: 1, deadlineMs: 1000 });
    const getErr = await Promise.resolve()
      .then(() => c.get('\uDC00'))
      .catch((e: unknown) => e);
    const casErr = await Promise.resolve()
      .then(() => c.cas('k', '\uD800', 'v'))
      .catch((e: unknown) => e);
    // Observed: URIError "URI malformed" from encodeURIComponent (cas throws it synchronously), outside the
    // client's error contract.
    expect([String(getErr), String(casErr)]).not.toContain('URIError: URI malformed');
    expect(getErr).toBeInstanceOf(ElexError);
    expect(casErr).toBeInstanceOf(ElexError);
  });

  it('one call fails by its deadline even when a single attempt would outlast it (attempt timeout not capped to the time left)', async () => {
    // A node that never answers.
    const f = await fake(() => {});
    const c = new KvClient({ nodes: [f.at], client: 1, deadlineMs: 300, attemptTimeoutMs: 2500 });
    const t0 = Date.now();
    await expect(c.get('k')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    // Observed: about 2,500 ms, the whole attempt timeout, for a 300 ms deadline.
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a first write fails by its deadline: opening the session and the write share one deadline', async () => {
    const deadlineMs = 2000;
    const t0 = Date.now();
    // POST /sessions is 503 (no leader) for half of the deadline, then opens; every PUT is 503.
    const f = await fake((req, res) => {
      if (req.url === '/sessions' && Date.now() - t0 > 0.5 * deadlineMs) json(res, 200, { client: 7 });
      else json(res, 503, { code: 'E_NO_LEADER', message: 'no leader' });
    });
    const c = new KvClient({ nodes: [f.at], deadlineMs });
    await expect(c.put('k', 'v')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    // Observed: about 2,700 ms: open() and the write each get the whole deadline.
    expect(Date.now() - t0).toBeLessThan(deadlineMs + 400);
  });

  it('the empty key is refused with E_BAD_KEY before anything is sent (no URL path addresses it, like . and ..)', async () => {
    const f = await fake((req, res) =>
      req.url === '/sessions'
        ? json(res, 200, { client: 7 })
        : json(res, 400, { code: 'E_BAD_REQUEST', message: 'nothing after /kv/' }),
    );
    const c = new KvClient({ nodes: [f.at], deadlineMs: 1000 });
    const err = await c.put('', 'v').catch((e: unknown) => e);
    // Observed: a session is opened through the log (POST /sessions), then PUT /kv/ is refused with 400
    // E_BAD_REQUEST; KvNode.put('', …) itself stores the key, which HTTP can then neither read nor delete.
    expect(err).toMatchObject({ code: 'E_BAD_KEY' });
    expect(f.seen.map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });
});
