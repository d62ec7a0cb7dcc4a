import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveKvHttp } from '../../src/node/kv-http.js';
import { KvNode, type KvNodeOptions } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';

const root = mkdtempSync(join(tmpdir(), 'elex-review-metrics-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

async function single(extra: Partial<KvNodeOptions> = {}): Promise<KvNodeOptions> {
  const [port] = await freePorts(1);
  return {
    id: 1,
    cluster: new Map([[1, { host: '127.0.0.1', port }]]),
    voters: [1],
    dataDir: join(root, `d${dirs++}`),
    ...extra,
  };
}

async function leading(n: KvNode): Promise<void> {
  const end = Date.now() + 5000;
  while (n.status().role !== 'leader') {
    if (Date.now() > end) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('/status and /metrics of a KV node across its lives', () => {
  it('elex_kv_sessions_expired_total counts only sessions expired since this start (a restart that replays the log expires nothing new)', async () => {
    const o = await single({ maxSessions: 2 });
    const first = await KvNode.start(o);
    await leading(first);
    for (let i = 0; i < 5; i++) await first.register();
    expect(first.status().sessionsExpired).toBeGreaterThan(0);
    await first.close();

    // A new life on the same directory: no client has opened a session since it started.
    const second = await KvNode.start(o);
    try {
      await leading(second);
      const server = await serveKvHttp(second, { host: '127.0.0.1', port: 0 });
      try {
        const port = (server.address() as { port: number }).port;
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        // Documented: "Client sessions expired by the bound, on this replica since it started".
        expect(text).toMatch(/^elex_kv_sessions_expired_total\{kind="node"\} 0$/m);
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    } finally {
      await second.close();
    }
  }, 10_000);

  it('a closed node keeps reporting the term and commit index it reached (commit never below applied)', async () => {
    const n = await KvNode.start(await single());
    await leading(n);
    await n.put('k', 'v');
    const before = n.status();
    await n.close();
    const after = n.status();
    expect(after.role).toBe('stopped');
    // The term is durable state; a scrape during shutdown (or of a node stopped by a fatal error, whose HTTP API
    // still answers) must not show term 0 and commit 0 beside applied = N.
    expect({ term: after.term, commit: after.commit, voters: after.voters }).toEqual({
      term: before.term,
      commit: before.commit,
      voters: before.voters,
    });
    expect(after.commit).toBeGreaterThanOrEqual(after.applied);
  }, 10_000);
});
