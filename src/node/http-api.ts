import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ElexError, isElexError } from '../core/index.js';
import type { Address } from './tcp-transport.js';

const MAX_BODY_BYTES = 1 << 20;

/** HTTP status per error code; anything else is a 500. */
const STATUS: Record<string, number> = {
  E_BAD_REQUEST: 400,
  E_AUTH: 401,
  E_CONF_INVALID: 400,
  E_NOT_VOTER: 400,
  E_NOT_LEADER: 409,
  E_CONF_PENDING: 409,
  E_BAD_COMMAND: 400,
  E_UNKNOWN_FEATURE: 404,
  E_NOT_FOUND: 404,
  E_TOO_LARGE: 413,
  E_NO_LEADER: 503,
  E_STOPPED: 503,
  E_TIMEOUT: 504,
  E_LEADER_CHANGED: 504,
};

/** A request as a route sees it: method, decoded path, and a lazy body reader (bounded). */
export interface JsonRequest {
  method: string;
  path: string;
  body(): Promise<string>;
  /** A request header (lower-case name); undefined when absent. */
  header?(name: string): string | undefined;
}

/** A body sent as it is (e.g. Prometheus text) instead of as JSON. */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly text: string,
  ) {}
}

/** A route answers `[status, JSON body]` or throws an ElexError (mapped to a status by its code). */
export type JsonRoute = (req: JsonRequest) => Promise<[number, unknown]>;

function send(res: ServerResponse, status: number, body: unknown): void {
  const raw = body instanceof RawBody;
  const text = raw ? body.text : `${JSON.stringify(body)}\n`;
  const type = raw ? body.contentType : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    // A body declared too large is refused before any of it is read (the answer closes the connection).
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      reject(new ElexError('E_TOO_LARGE', `body above ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ElexError('E_TOO_LARGE', `body above ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The last path segment after `prefix`, percent-decoded and bounded. */
export function pathParam(path: string, prefix: string, maxBytes = 1024): string {
  let v: string;
  try {
    v = decodeURIComponent(path.slice(prefix.length));
  } catch {
    throw new ElexError('E_BAD_REQUEST', 'the path is not valid percent-encoding');
  }
  if (v.length === 0) throw new ElexError('E_BAD_REQUEST', `nothing after ${prefix}`);
  if (Buffer.byteLength(v) > maxBytes)
    throw new ElexError('E_BAD_REQUEST', `path segment above ${maxBytes} bytes`);
  return v;
}

export function notFound(req: JsonRequest, routes: string): never {
  throw new ElexError('E_NOT_FOUND', `no route ${req.method} ${req.path} (${routes})`);
}

/**
 * A JSON-over-HTTP server for a node's client API. Every answer is JSON; errors are `{code, message}` with a
 * status that says whether to retry (503: no leader yet, nothing proposed; 504: timed out or the leader
 * changed, and the request may still apply).
 */
export function serveJson(at: Address, route: JsonRoute): Promise<Server> {
  const server = createServer((req, res) => {
    const request: JsonRequest = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://x').pathname,
      body: () => readBody(req),
      header: (name) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      },
    };
    route(request).then(
      ([status, body]) => send(res, status, body),
      (e: unknown) => {
        const code = isElexError(e) ? e.code : 'E_INTERNAL';
        // The unread rest of a refused body is not drained: the connection ends with the answer.
        if (code === 'E_TOO_LARGE') res.setHeader('connection', 'close');
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

/** `text` parsed and validated as `schema`, or E_BAD_REQUEST naming the first issue. */
export function parseBody<T>(text: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ElexError('E_BAD_REQUEST', 'the body is not JSON');
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new ElexError('E_BAD_REQUEST', `at ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return r.data;
}
