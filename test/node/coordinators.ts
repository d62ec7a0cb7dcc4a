/**
 * Three coordinators in one process with their HTTP APIs and query services (categories k go to coordinator
 * k % 3 + 1): the harness of the query tests (`query-service.test.ts`, `standby.test.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import type { ClusterKeyring } from '../../src/node/cluster-key.js';
import { CoordinatorGossip } from '../../src/node/coordinator-gossip.js';
import { serveCoordinatorHttp } from '../../src/node/coordinator-http.js';
import { CoordinatorNode } from '../../src/node/coordinator-node.js';
import { freePorts } from '../../src/node/processes.js';
import { QueryService, type QueryServiceOptions } from '../../src/node/query-service.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { FAST } from '../support/gossip.js';

export const catalog = defaultCatalog();
type Options = Omit<QueryServiceOptions, 'seed' | 'federationMs'>;
export const root = mkdtempSync(join(tmpdir(), 'elex-query-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** Run after each test, last registered first. */
export const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/**
 * Three coordinators with their HTTP APIs and query services; categories k go to coordinator k % 3 + 1. With
 * `auth`, a keyed cluster; `o` is given to every query service (or, a function, each its own by id). With
 * `gossip`, each runs the coordinators' gossip member (fast intervals) for its failover and its patterns.
 */
export async function coordinators(
  auth?: ClusterKeyring,
  federationMs = 0,
  o: Options | ((id: number) => Options) = {},
  gossip = false,
) {
  const ports = await freePorts(6);
  const raft = new Map<number, Address>(
    [1, 2, 3].map((id) => [id, { host: '127.0.0.1', port: ports[id - 1] }]),
  );
  const http = new Map<number, Address>(
    [1, 2, 3].map((id) => [id, { host: '127.0.0.1', port: ports[id + 2] }]),
  );
  const dir = mkdtempSync(join(root, 'c'));
  const nodes: CoordinatorNode[] = [];
  const servers: Server[] = [];
  const services: QueryService[] = [];
  const gossips: CoordinatorGossip[] = [];
  for (const id of [1, 2, 3]) {
    const node = await CoordinatorNode.start({
      id,
      cluster: raft,
      catalog,
      dataDir: join(dir, `n${id}`),
      ...(auth ? { auth } : {}),
    });
    cleanup.push(() => node.close());
    // No timed federation rounds by default: the test runs them (`federation.round()`).
    const own = typeof o === 'function' ? o(id) : o;
    const g = gossip
      ? await CoordinatorGossip.start({ self: id, http, keyring: auth, config: FAST, tickMs: 10 })
      : undefined;
    if (g) {
      gossips.push(g);
      cleanup.push(() => g.stop());
    }
    const service = new QueryService(node, catalog, http, {
      ...(g ? { suspected: (c: number) => g.suspected(c), patterns: g.patterns } : {}),
      ...own,
      seed: id,
      federationMs,
    });
    services.push(service);
    const server = await serveCoordinatorHttp(node, catalog, http.get(id)!, service, g);
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    nodes.push(node);
    servers.push(server);
  }
  // Every coordinator must know the leader: one that does not yet refuses a linearizable read (503).
  const end = Date.now() + 10_000;
  const known = () =>
    nodes.some((n) => n.status().role === 'leader') && nodes.every((n) => n.status().leader >= 0);
  while (!known()) {
    if (Date.now() > end) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = (id: number) => `http://127.0.0.1:${http.get(id)!.port}`;
  return { nodes, servers, services, gossips, url, http };
}

export const query = async (base: string, body: unknown) => {
  const r = await fetch(`${base}/query`, { method: 'POST', body: JSON.stringify(body) });
  return {
    status: r.status,
    body: (await r.json()) as Record<string, unknown> & { answers: Array<Record<string, unknown>> },
  };
};

/** A feature of category k (hosted by coordinator k % 3 + 1) with no prerequisites. */
/** A query body about `features` (troubleshoot, simple). */
export const ask = (id: number, features: string[]) => ({
  id,
  type: 'troubleshoot',
  text: '',
  features,
  complexity: 'simple',
});

export const featureOf = (k: number) =>
  catalog.categories[k].features
    .map((f) => catalog.get(f)!)
    .find((f) => f.requires.length === 0 && f.conflicts.length === 0)!;

/** Closes coordinator `i`'s (0-based) HTTP server and drops its open connections: its API goes away. */
export async function stopApi(servers: readonly Server[], i: number): Promise<void> {
  await new Promise<void>((r) => servers[i].close(() => r()));
  servers[i].closeAllConnections();
}

/**
 * Coordinator `id`'s API replaced by a hung process: its port takes requests and answers none. Returns how many
 * POSTs (parts, ratings) it took so far; a failover's background probe (`GET /status`) is not counted.
 */
export async function hang(http: ReadonlyMap<number, Address>, id: number): Promise<() => number> {
  let asked = 0;
  const hung = createServer((req) => {
    if (req.method === 'POST') asked++;
    req.resume();
  });
  await new Promise<void>((r) => hung.listen(http.get(id)!.port, '127.0.0.1', () => r()));
  cleanup.push(async () => {
    hung.closeAllConnections();
    await new Promise((r) => hung.close(() => r(undefined)));
  });
  return () => asked;
}
