import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ElexError } from '../core/index.js';
import { ADMIN_ROUTES, adminRoute } from './admin-http.js';
import { type JsonRequest, notFound, pathParam, RawBody, serveJson } from './http-api.js';
import { type ClientSession, KV_HEADERS, type KvNode } from './kv-node.js';
import { addKvMetrics, raftMetrics } from './metrics.js';
import { guardFor, type RequestGuard } from './signed-request.js';
import type { Address } from './tcp-transport.js';

const ROUTES = `GET /status, GET /metrics, ${ADMIN_ROUTES}, POST /sessions, GET|PUT|DELETE /kv/<key>`;

const DECIMAL = /^[1-9][0-9]*$/;

/** A write's session from `elex-client` and `elex-seq` (both or neither); undefined: the node's own. */
function sessionOf(req: JsonRequest): ClientSession | undefined {
  const client = req.header?.(KV_HEADERS.client);
  const seq = req.header?.(KV_HEADERS.seq);
  if (client === undefined && seq === undefined) return undefined;
  // Decimal digits only: Number() would also take "0x10" or "1e3" as another spelling of a number.
  const c = DECIMAL.test(client ?? '') ? Number(client) : Number.NaN;
  const n = DECIMAL.test(seq ?? '') ? Number(seq) : Number.NaN;
  if (!Number.isSafeInteger(c) || !Number.isSafeInteger(n))
    throw new ElexError(
      'E_BAD_REQUEST',
      `elex-client must be a session id from POST /sessions and elex-seq an integer ≥ 1, both or neither; got ${client} and ${seq}`,
    );
  return { client: c, seq: n };
}

async function route(
  node: KvNode,
  metrics: Registry,
  guard: RequestGuard | null,
  req: JsonRequest,
): Promise<[number, unknown]> {
  if (req.path === '/status' && req.method === 'GET') return [200, node.status()];
  const admin = await adminRoute(node, req, guard);
  if (admin !== null) return admin;
  if (req.path === '/metrics' && req.method === 'GET')
    return [200, new RawBody(metrics.contentType, await metrics.metrics())];
  // A new client session through the log; its id goes in `elex-client`.
  if (req.path === '/sessions' && req.method === 'POST') return [200, { client: await node.register() }];
  if (req.path.startsWith('/kv/')) {
    const key = pathParam(req.path, '/kv/');
    switch (req.method) {
      case 'GET': {
        const value = await node.get(key);
        return [value === null ? 404 : 200, { key, value }];
      }
      case 'PUT': {
        const session = sessionOf(req);
        // `elex-if: <value>` makes the write a compare-and-set against that value (`elex-if-utf8`: percent-encoded).
        const expected = expectedValue(req);
        const value = await req.body();
        const r =
          expected === undefined
            ? await node.put(key, value, session)
            : await node.cas(key, expected, value, session);
        return [
          r.ok ? 200 : 409,
          { key, ok: r.ok, previous: r.value, ...(r.error ? { error: r.error } : {}) },
        ];
      }
      case 'DELETE': {
        const r = await node.delete(key, sessionOf(req));
        return [
          r.ok ? 200 : 409,
          { key, ok: r.ok, previous: r.value, ...(r.error ? { error: r.error } : {}) },
        ];
      }
    }
  }
  return notFound(req, ROUTES);
}

/**
 * The KV node's client API: `GET /status`, `GET /metrics` (Prometheus), `GET /kv/<key>` (linearizable), `PUT
 * /kv/<key>` (body: the value; `elex-if: <value>` for compare-and-set), `DELETE /kv/<key>`, `POST /sessions`
 * (opens a client session: `{client}`). A write with `elex-client` and `elex-seq` headers runs in that
 * session, so retrying it is safe (`KvClient`); one in a session the machine no longer holds is refused (409,
 * `E_SESSION_EXPIRED`).
 */
function expectedValue(req: JsonRequest): string | undefined {
  const encoded = req.header?.(KV_HEADERS.ifValueUtf8);
  if (encoded === undefined) return req.header?.(KV_HEADERS.ifValue);
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new ElexError('E_BAD_REQUEST', `${KV_HEADERS.ifValueUtf8} is not percent-encoded UTF-8`);
  }
}

export function serveKvHttp(node: KvNode, at: Address): Promise<Server> {
  const metrics = raftMetrics(() => node.status(), 'node');
  addKvMetrics(metrics, () => node.status());
  const guard = guardFor(node.keyring);
  return serveJson(at, (req) => route(node, metrics, guard, req));
}
