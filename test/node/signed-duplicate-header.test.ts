import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { serveKvHttp } from '../../src/node/kv-http.js';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';
import { signRequest } from '../../src/node/signed-request.js';

const root = mkdtempSync(join(tmpdir(), 'elex-review-http-signed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function keyed(ring: ClusterKeyring): Promise<number> {
  const [port] = await freePorts(1);
  const node = await KvNode.start({
    id: 1,
    cluster: new Map([[1, { host: '127.0.0.1', port }]]),
    dataDir: mkdtempSync(join(root, 'd')),
    auth: ring,
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
  return (server.address() as { port: number }).port;
}

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    s.setTimeout(3000, () => s.destroy());
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}

describe('signed admin requests', () => {
  it('a request with the elex-auth header twice is refused with 401 E_AUTH (an unreadable signature), as docs/node.md says', async () => {
    const ring = ClusterKeyring.of([randomBytes(32)]);
    const port = await keyed(ring);
    const body = JSON.stringify({ to: 1 });
    const sig = signRequest(ring, { method: 'POST', path: '/admin/transfer', body });
    const answer = await raw(
      port,
      `POST /admin/transfer HTTP/1.1\r\nHost: x\r\nelex-auth: ${sig}\r\nelex-auth: ${sig}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Observed: 400 E_BAD_REQUEST ("the elex-auth header is sent 2 times").
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/"code":"E_AUTH"/);
  });
});
