import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { serveKvHttp } from '../../src/node/kv-http.js';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';

const root = mkdtempSync(join(tmpdir(), 'elex-review-http-kv-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function single(): Promise<string> {
  const [port] = await freePorts(1);
  const node = await KvNode.start({
    id: 1,
    cluster: new Map([[1, { host: '127.0.0.1', port }]]),
    dataDir: mkdtempSync(join(root, 'd')),
  });
  cleanup.push(() => node.close());
  const server: Server = await serveKvHttp(node, { host: '127.0.0.1', port: 0 });
  cleanup.push(
    () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  const end = Date.now() + 5000;
  while (node.status().role !== 'leader') {
    if (Date.now() > end) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 10));
  }
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function call(url: string, init?: RequestInit) {
  const r = await fetch(url, init);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('the node’s own KV session (session-less writes)', () => {
  it('a client naming the node’s own session with a huge elex-seq cannot make later session-less writes fail for good', async () => {
    const base = await single();
    // The node opens its own session on its first session-less write.
    expect((await call(`${base}/kv/a`, { method: 'PUT', body: 'x' })).status).toBe(200);
    // Session ids are register indices: small, consecutive, guessable. An unauthenticated client tries each one
    // below a fresh session's id with the largest seq the node accepts.
    const fresh = (await call(`${base}/sessions`, { method: 'POST' })).body.client as number;
    for (let id = 1; id < fresh; id++)
      await call(`${base}/kv/junk`, {
        method: 'PUT',
        body: 'j',
        headers: { 'elex-client': String(id), 'elex-seq': String(Number.MAX_SAFE_INTEGER) },
      });
    // Observed: every later session-less write on this node is 409 E_STALE_SEQ (the node never reopens its session).
    const after = await call(`${base}/kv/b`, { method: 'PUT', body: 'y' });
    expect(after).toEqual({ status: 200, body: { key: 'b', ok: true, previous: null } });
  });
});
