import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ElexError, isElexError } from '../core/index.js';
import type { KvNode } from './kv-node.js';
import type { Address } from './tcp-transport.js';

const MAX_KEY_BYTES = 1024;
const MAX_VALUE_BYTES = 1 << 20;

/** HTTP status per error code; anything else is a 500. */
const STATUS: Record<string, number> = {
  E_BAD_REQUEST: 400,
  E_NOT_FOUND: 404,
  E_TOO_LARGE: 413,
  E_NO_LEADER: 503,
  E_STOPPED: 503,
  E_TIMEOUT: 504,
  E_LEADER_CHANGED: 504,
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_VALUE_BYTES) {
        reject(new ElexError('E_TOO_LARGE', `value above ${MAX_VALUE_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function keyOf(path: string): string {
  let key: string;
  try {
    key = decodeURIComponent(path.slice('/kv/'.length));
  } catch {
    throw new ElexError('E_BAD_REQUEST', 'the key is not valid percent-encoding');
  }
  if (key.length === 0) throw new ElexError('E_BAD_REQUEST', 'empty key');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new ElexError('E_BAD_REQUEST', `key above ${MAX_KEY_BYTES} bytes`);
  return key;
}

async function route(node: KvNode, req: IncomingMessage): Promise<[number, unknown]> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/status' && req.method === 'GET') return [200, node.status()];
  if (path.startsWith('/kv/')) {
    const key = keyOf(path);
    switch (req.method) {
      case 'GET': {
        const value = await node.get(key);
        return [value === null ? 404 : 200, { key, value }];
      }
      case 'PUT': {
        const r = await node.put(key, await readBody(req));
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
  throw new ElexError(
    'E_NOT_FOUND',
    `no route ${req.method} ${path} (GET /status, GET|PUT|DELETE /kv/<key>)`,
  );
}

/**
 * The node's client API: `GET /status`, `GET /kv/<key>` (linearizable), `PUT /kv/<key>` (body: the value),
 * `DELETE /kv/<key>`. Every answer is JSON; errors are `{code, message}` with a status that says whether to
 * retry (503: no leader yet, nothing proposed; 504: timed out or the leader changed, and the write may still
 * apply).
 */
export function serveHttp(node: KvNode, at: Address): Promise<Server> {
  const server = createServer((req, res) => {
    route(node, req).then(
      ([status, body]) => send(res, status, body),
      (e: unknown) => {
        const code = isElexError(e) ? e.code : 'E_INTERNAL';
        send(res, STATUS[code] ?? 500, { code, message: e instanceof Error ? e.message : String(e) });
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) =>
      reject(new ElexError('E_LISTEN', `cannot serve HTTP on ${at.host}:${at.port}: ${e.message}`)),
    );
    server.listen(at.port, at.host, () => resolve(server));
  });
}
