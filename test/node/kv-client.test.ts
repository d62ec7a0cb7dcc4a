import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KvClient } from '../../src/node/kv-client.js';
import { serveKvHttp } from '../../src/node/kv-http.js';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { thrownElexError } from '../support/errors.js';

const root = mkdtempSync(join(tmpdir(), 'elex-kv-client-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Running {
  node: KvNode;
  server: Server;
}
const running = new Map<number, Running>();
const stop = async (r: Running) => {
  await new Promise<void>((resolve) => {
    r.server.close(() => resolve());
    r.server.closeAllConnections();
  });
  await r.node.close();
};
afterEach(async () => {
  for (const r of running.values()) await stop(r);
  running.clear();
});

const host = '127.0.0.1';

/** Three KV nodes with their HTTP APIs; `start(id)` (re)starts one from its data directory on its ports. */
async function cluster() {
  const ports = await freePorts(6);
  const raft = new Map<number, Address>([1, 2, 3].map((id) => [id, { host, port: ports[id - 1] }]));
  const http = new Map<number, Address>([1, 2, 3].map((id) => [id, { host, port: ports[id + 2] }]));
  const base = mkdtempSync(join(root, 'c'));
  const start = async (id: number) => {
    const node = await KvNode.start({ id, cluster: raft, dataDir: join(base, `n${id}`) });
    running.set(id, { node, server: await serveKvHttp(node, http.get(id)!) });
  };
  await Promise.all([1, 2, 3].map(start));
  return { http, start };
}

async function leader(): Promise<number> {
  const end = Date.now() + 10_000;
  for (;;) {
    for (const [id, r] of running) if (r.node.status().role === 'leader') return id;
    if (Date.now() > end) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Read, then compare-and-set to one more, until the compare holds: one acknowledged increment. */
async function increment(c: KvClient): Promise<void> {
  for (;;) {
    const v = Number((await c.get('n')) ?? '0');
    if ((await c.cas('n', String(v), String(v + 1))).ok) return;
  }
}

describe('KvClient: retries through leader changes, each write once', () => {
  it('two clients increment while the leader stops and restarts from its disk: the counter equals the acknowledged increments', async () => {
    const { http, start } = await cluster();
    const first = await leader();
    // The leader first in each client's list, so the stop costs the clients attempts.
    const nodes = [first, ...[1, 2, 3].filter((id) => id !== first)].map((id) => http.get(id)!);
    const clients = [new KvClient({ nodes }), new KvClient({ nodes })];
    await clients[0].put('n', '0');
    const acked = [0, 0];
    const work = clients.map(async (c, i) => {
      for (let k = 0; k < 25; k++) {
        await increment(c);
        acked[i]++;
      }
    });
    // Stop the leader mid-workload and bring it back from its disk.
    while (acked[0] + acked[1] < 10) await new Promise((r) => setTimeout(r, 5));
    const r = running.get(first)!;
    running.delete(first);
    await stop(r);
    await new Promise((r) => setTimeout(r, 500));
    await start(first);
    await Promise.all(work);
    expect(acked).toEqual([25, 25]);
    expect(await clients[0].get('n')).toBe('50');
    // Each client's list starts at the stopped leader: unless it moved on earlier (a retry already), its
    // first request after the stop is refused there and retried on the next node.
    expect(clients[0].retries + clients[1].retries).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a second call while one is in flight, and a bad configuration', async () => {
    const { http } = await cluster();
    await leader();
    const c = new KvClient({ nodes: [http.get(1)!] });
    const a = c.put('k', 'v');
    await expect(c.put('k', 'w')).rejects.toMatchObject({ code: 'E_BUSY' });
    expect((await a).ok).toBe(true);
    expect(thrownElexError(() => new KvClient({ nodes: [] })).code).toBe('E_CONFIG');
    for (const client of [0, 1.5, 2 ** 53])
      expect(thrownElexError(() => new KvClient({ nodes: [http.get(1)!], client })).code).toBe('E_CONFIG');
  });

  it('reads back the largest value: 1 MiB of control characters is a reply of about 6 MiB', async () => {
    // JSON escapes each control character as six bytes (\u0001): the reply cap must hold the worst value.
    const { http } = await cluster();
    const c = new KvClient({ nodes: [http.get(await leader())!] });
    const value = '\u0001'.repeat(1 << 20);
    expect(JSON.stringify(value).length).toBeGreaterThan(6 << 20);
    expect((await c.put('k', value)).ok).toBe(true);
    expect((await c.get('k')) === value).toBe(true);
    const r = await c.put('k', 'small');
    expect(r.ok && r.previous === value).toBe(true);
  });

  it('compare-and-set against a value outside Latin-1 (HTTP headers are Latin-1: the value travels percent-encoded)', async () => {
    const { http } = await cluster();
    const c = new KvClient({ nodes: [http.get(await leader())!] });
    expect((await c.put('k', 'Zürich → 東京')).ok).toBe(true);
    expect(await c.cas('k', 'Zürich → 大阪', 'no')).toMatchObject({ ok: false, previous: 'Zürich → 東京' });
    expect(await c.cas('k', 'Zürich → 東京', 'yes')).toMatchObject({ ok: true, previous: 'Zürich → 東京' });
    // A plain `elex-if` (curl) still works for ASCII; a malformed encoding is a 400, not a wrong comparison.
    const url = `http://${http.get(await leader())!.host}:${http.get(await leader())!.port}/kv/k`;
    const plain = await fetch(url, { method: 'PUT', headers: { 'elex-if': 'yes' }, body: 'again' });
    expect(plain.status).toBe(200);
    const bad = await fetch(url, { method: 'PUT', headers: { 'elex-if-utf8': '%E0%A4' }, body: 'x' });
    expect(bad.status).toBe(400);
  });

  it('gives up after its deadline with E_TIMEOUT when no node answers', async () => {
    const [port] = await freePorts(1);
    const c = new KvClient({ nodes: [{ host, port }], deadlineMs: 300 });
    await expect(c.put('k', 'v')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('refuses a reply of the wrong shape with E_BAD_REPLY instead of returning it', async () => {
    const [port] = await freePorts(1);
    let reply: [number, unknown] = [200, {}];
    const fake = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = reply[0];
        res.end(JSON.stringify(reply[1]));
      });
    });
    await new Promise<void>((r) => fake.listen(port, host, () => r()));
    try {
      // An open session, so that every write below goes straight to its route.
      const c = new KvClient({ nodes: [{ host, port }], deadlineMs: 1000, client: 1 });
      reply = [200, { key: 'k', value: 5 }];
      await expect(c.get('k')).rejects.toMatchObject({ code: 'E_BAD_REPLY' });
      reply = [200, { key: 'k', ok: 'yes', previous: null }];
      await expect(c.put('k', 'v')).rejects.toMatchObject({ code: 'E_BAD_REPLY' });
      reply = [404, { code: 'E_NOT_FOUND', message: 'no such route' }];
      await expect(c.delete('k')).rejects.toMatchObject({ code: 'E_BAD_REPLY' });
      reply = [400, { code: 7 }];
      await expect(c.put('k', 'v')).rejects.toMatchObject({ code: 'E_HTTP' });
      // Well-formed answers still pass.
      reply = [404, { key: 'k', value: null }];
      expect(await c.get('k')).toBe(null);
      reply = [409, { key: 'k', ok: false, previous: 'x', error: 'E_CAS' }];
      expect(await c.cas('k', 'y', 'z')).toEqual({ ok: false, previous: 'x', error: 'E_CAS', attempts: 1 });
    } finally {
      await new Promise((r) => fake.close(() => r(null)));
    }
  });

  it('opens its session on the first write, and refuses a session id of the wrong shape', async () => {
    const fake = await scripted([
      [200, { client: 'one' }],
      [200, { client: 41 }],
      [200, { key: 'k', ok: true, previous: null }],
    ]);
    try {
      const c = new KvClient({ nodes: [fake.at], deadlineMs: 1000 });
      expect(c.client).toBeNull();
      await expect(c.put('k', 'v')).rejects.toMatchObject({ code: 'E_BAD_REPLY' });
      expect(await c.put('k', 'v')).toEqual({ ok: true, previous: null, attempts: 1 });
      expect(c.client).toBe(41);
      expect(fake.seen).toEqual(['POST /sessions', 'POST /sessions', 'PUT /kv/k 41:1']);
    } finally {
      await fake.close();
    }
  });

  it('an expired session: a write refused at its first attempt goes again in a new session, once', async () => {
    const expired = [409, { key: 'k', ok: false, previous: null, error: 'E_SESSION_EXPIRED' }] as const;
    const fake = await scripted([
      expired,
      [200, { client: 9 }],
      [200, { key: 'k', ok: true, previous: 'a' }],
      expired,
      [200, { client: 12 }],
      expired,
    ]);
    try {
      const c = new KvClient({ nodes: [fake.at], deadlineMs: 1000, client: 3 });
      expect(await c.put('k', 'b')).toEqual({ ok: true, previous: 'a', attempts: 1 });
      expect(c.client).toBe(9);
      // The new session expires at once as well: not sent a third time.
      await expect(c.delete('k')).rejects.toMatchObject({ code: 'E_SESSION_EXPIRED' });
      expect(fake.seen).toEqual([
        'PUT /kv/k 3:1',
        'POST /sessions',
        'PUT /kv/k 9:1',
        'DELETE /kv/k 9:2',
        'POST /sessions',
        'DELETE /kv/k 12:1',
      ]);
    } finally {
      await fake.close();
    }
  });

  it('an expired session after a lost answer: E_SESSION_EXPIRED (it may have applied once), never sent again', async () => {
    const fake = await scripted([
      [504, { code: 'E_TIMEOUT', message: 'not applied within 5 s' }],
      [409, { key: 'k', ok: false, previous: null, error: 'E_SESSION_EXPIRED' }],
      [200, { client: 20 }],
      [200, { key: 'k', ok: true, previous: 'v' }],
    ]);
    try {
      const c = new KvClient({ nodes: [fake.at], deadlineMs: 2000, client: 3 });
      await expect(c.put('k', 'v')).rejects.toMatchObject({
        code: 'E_SESSION_EXPIRED',
        message: expect.stringMatching(/may have applied it \(once\)/),
      });
      expect([c.client, c.retries]).toEqual([null, 1]);
      // The next call opens a new session.
      expect(await c.put('k', 'w')).toEqual({ ok: true, previous: 'v', attempts: 1 });
      expect(fake.seen).toEqual(['PUT /kv/k 3:1', 'PUT /kv/k 3:1', 'POST /sessions', 'PUT /kv/k 20:1']);
    } finally {
      await fake.close();
    }
  });
});

/** A fake node answering each request with the next scripted reply; `seen` is each request's method, path, session. */
async function scripted(replies: ReadonlyArray<readonly [number, unknown]>) {
  const [port] = await freePorts(1);
  const seen: string[] = [];
  let next = 0;
  const fake = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const client = req.headers['elex-client'];
      seen.push(
        `${req.method} ${req.url}${client === undefined ? '' : ` ${client}:${req.headers['elex-seq']}`}`,
      );
      const [status, body] = replies[next++] ?? [500, { code: 'E_SCRIPT', message: 'no reply left' }];
      res.statusCode = status;
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => fake.listen(port, host, () => r()));
  return {
    at: { host, port },
    seen,
    close: () => new Promise<void>((r) => fake.close(() => r())),
  };
}
