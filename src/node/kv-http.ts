import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ADMIN_ROUTES, adminRoute } from './admin-http.js';
import { type JsonRequest, notFound, pathParam, RawBody, serveJson } from './http-api.js';
import type { KvNode } from './kv-node.js';
import { raftMetrics } from './metrics.js';
import type { Address } from './tcp-transport.js';

const ROUTES = `GET /status, GET /metrics, ${ADMIN_ROUTES}, GET|PUT|DELETE /kv/<key>`;

async function route(node: KvNode, metrics: Registry, req: JsonRequest): Promise<[number, unknown]> {
  if (req.path === '/status' && req.method === 'GET') return [200, node.status()];
  const admin = await adminRoute(node, req);
  if (admin !== null) return admin;
  if (req.path === '/metrics' && req.method === 'GET')
    return [200, new RawBody(metrics.contentType, await metrics.metrics())];
  if (req.path.startsWith('/kv/')) {
    const key = pathParam(req.path, '/kv/');
    switch (req.method) {
      case 'GET': {
        const value = await node.get(key);
        return [value === null ? 404 : 200, { key, value }];
      }
      case 'PUT': {
        const r = await node.put(key, await req.body());
        return [
          r.ok ? 200 : 409,
          { key, ok: r.ok, previous: r.value, ...(r.error ? { error: r.error } : {}) },
        ];
      }
      case 'DELETE': {
        const r = await node.delete(key);
        return [
          r.ok ? 200 : 409,
          { key, ok: r.ok, previous: r.value, ...(r.error ? { error: r.error } : {}) },
        ];
      }
    }
  }
  return notFound(req, ROUTES);
}

/** The KV node's client API: `GET /status`, `GET /metrics` (Prometheus), `GET /kv/<key>` (linearizable), `PUT /kv/<key>` (body: the value), `DELETE /kv/<key>`. */
export function serveKvHttp(node: KvNode, at: Address): Promise<Server> {
  const metrics = raftMetrics(() => node.status(), 'node');
  return serveJson(at, (req) => route(node, metrics, req));
}
