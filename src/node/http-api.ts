import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';
import type { z } from 'zod';
import { ElexError, isElexError } from '../core/index.js';
import type { Address } from './tcp-transport.js';

const MAX_BODY_BYTES = 1 << 20;
/**
 * Body bytes one server holds at once over all its requests (64 bodies at the limit), and how long a request
 * may take to arrive whole. Without them, 160 connections each leaving a 1 MiB body one byte short held 145 MiB
 * for Node's default 300 s (the Raft transport bounds its strangers the same way: 16 × 4 MiB, 5 s).
 */
export const BODY_BUDGET_BYTES = 64 * MAX_BODY_BYTES;
const REQUEST_TIMEOUT_MS = 30_000;

/** The bytes of bodies being read on one server. */
class BodyBudget {
  used = 0;
  constructor(readonly limit: number) {}
}
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
  // Raft dropped the proposal (no leader known, or a leadership transfer under way): nothing was appended.
  E_PROPOSAL_DROPPED: 503,
  E_BUSY: 503,
  E_STOPPED: 503,
  // Taken but not saved (a standby return whose agents.json write failed): retry, the resend is a duplicate.
  E_NOT_SAVED: 503,
  E_TIMEOUT: 504,
  E_LEADER_CHANGED: 504,
};

/** A request as a route sees it: method, decoded path, and a lazy body reader (bounded). */
export interface JsonRequest {
  method: string;
  path: string;
  body(): Promise<string>;
  /** A request header (lower-case name); undefined when absent; E_BAD_REQUEST when sent more than once. */
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

function readBody(req: IncomingMessage, budget: BodyBudget): Promise<string> {
  return new Promise((resolve, reject) => {
    // A body declared too large is refused before any of it is read (the answer closes the connection).
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      reject(new ElexError('E_TOO_LARGE', `body above ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let released = false;
    // Given back once the body is read, refused or abandoned (the socket's close comes in every case).
    const release = () => {
      if (released) return;
      released = true;
      budget.used -= size;
    };
    req.once('close', release);
    req.on('data', (c: Buffer) => {
      size += c.length;
      budget.used += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ElexError('E_TOO_LARGE', `body above ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else if (budget.used > budget.limit) {
        // Not destroyed at once: the 503 goes out first (with `connection: close`, which ends the socket).
        req.pause();
        chunks.length = 0;
        release();
        reject(
          new ElexError('E_BUSY', `more than ${budget.limit} bytes of request bodies in flight: try again`),
        );
      } else if (!released) chunks.push(c);
    });
    req.on('end', () => {
      release();
      // Not read leniently: U+FFFD in place of bad bytes would store (or act on) what the client never sent.
      try {
        resolve(UTF8.decode(Buffer.concat(chunks)));
      } catch {
        reject(new ElexError('E_BAD_REQUEST', 'the body is not valid UTF-8'));
      }
    });
    // The client went away (or its framing broke) before the whole body came: its answer has nowhere to go,
    // but it is a refusal, not an internal error.
    req.on('error', (e) =>
      reject(new ElexError('E_BAD_REQUEST', `the body did not arrive whole: ${e.message}`)),
    );
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
 * The path a request target names, dot segments resolved; null when it names none. An origin-form target
 * (`/a/b`) is read as a path, so `//x/y` stays that path instead of naming an authority x; an absolute-form
 * one (`http://h/p`) gives its path; anything else (`*`) is read under the root.
 */
function targetPath(target: string): string | null {
  try {
    return new URL(target.startsWith('/') ? `http://x${target}` : target, 'http://x/').pathname;
  } catch {
    return null;
  }
}

/** A refusal written straight on the socket, for what never became a request (Node's own has no body). */
function rawRefusal(socket: Socket, status: number, code: string, message: string, head = false): void {
  const text = `${JSON.stringify({ code, message })}\n`;
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${head ? '' : text}`,
  );
}

/** The last request a connection brought, while its answer is not sent. */
interface InFlight {
  req: IncomingMessage;
  res: ServerResponse;
}

/**
 * What Node's HTTP parser refused (a malformed request line, header or length, a body cut short): answered
 * as JSON like any refusal, then the connection closed, where Node's default answers without a body. Bytes
 * that follow a whole request do not take its answer away: it is sent, and then the connection closes. Nothing
 * is written once an answer has begun, or the client would read a corrupt stream.
 */
function onClientError(
  e: NodeJS.ErrnoException & { rawPacket?: Buffer },
  socket: Socket,
  last: InFlight | undefined,
): void {
  if (last?.req.complete && !last.res.writableFinished) {
    if (!last.res.headersSent) last.res.setHeader('connection', 'close');
    last.res.once('close', () => socket.destroy());
    return;
  }
  if (e.code !== 'ECONNRESET' && socket.writable && socket.bytesWritten === 0) {
    // Taken as the answer to the request it cut short (or whose head it refused): no body to a HEAD.
    const head =
      last === undefined
        ? e.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD '
        : last.req.method === 'HEAD';
    if (e.code === 'HPE_HEADER_OVERFLOW')
      rawRefusal(socket, 431, 'E_TOO_LARGE', 'the request head is too large', head);
    else if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      rawRefusal(socket, 408, 'E_TIMEOUT', 'the request did not arrive in time', head);
    else rawRefusal(socket, 400, 'E_BAD_REQUEST', `a malformed HTTP request (${e.code ?? e.message})`, head);
  }
  socket.destroy();
}

/**
 * A JSON-over-HTTP server for a node's client API. Every answer is JSON; errors are `{code, message}` with a
 * status that says whether to retry (503: no leader yet, nothing proposed; 504: timed out or the leader
 * changed, and the request may still apply). So is every refusal of what is not a request a route can take:
 * a target that is no path, what the HTTP parser refuses, an `Expect` other than `100-continue`, `CONNECT`.
 */
export function serveJson(at: Address, route: JsonRoute): Promise<Server> {
  const inFlight = new WeakMap<Socket, InFlight>();
  const budget = new BodyBudget(BODY_BUDGET_BYTES);
  const server = createServer((req, res) => {
    const last = { req, res };
    inFlight.set(req.socket, last);
    res.once('close', () => {
      if (inFlight.get(req.socket) === last) inFlight.delete(req.socket);
    });
    const target = req.url ?? '/';
    const path = targetPath(target);
    const request: JsonRequest = {
      // HEAD is GET without the body (Node leaves it out of the answer): monitors probe that way.
      method: req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET'),
      path: path ?? '',
      body: () => readBody(req, budget),
      header: (name) => {
        // Node joins a repeated header with ", ": which of the values was meant is not for the node to guess.
        const v = req.headersDistinct[name];
        if (v !== undefined && v.length > 1)
          throw new ElexError('E_BAD_REQUEST', `the ${name} header is sent ${v.length} times: send it once`);
        return v?.[0];
      },
    };
    // A route that throws before its first await is refused like one that rejects, never a crash.
    const answer =
      path === null
        ? Promise.reject(
            new ElexError(
              'E_BAD_REQUEST',
              `the request target ${JSON.stringify(target.slice(0, 100))} is no path`,
            ),
          )
        : Promise.resolve().then(() => route(request));
    answer.then(
      ([status, body]) => send(res, status, body),
      (e: unknown) => {
        const code = isElexError(e) ? e.code : 'E_INTERNAL';
        // The unread rest of a refused body is not drained: the connection ends with the answer.
        if (code === 'E_TOO_LARGE' || code === 'E_BUSY') res.setHeader('connection', 'close');
        send(res, STATUS[code] ?? 500, { code, message: e instanceof Error ? e.message : String(e) });
      },
    );
  });
  server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) =>
    onClientError(e, socket, inFlight.get(socket)),
  );
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
    send(res, 417, {
      code: 'E_BAD_REQUEST',
      message: `expect: ${JSON.stringify(req.headers.expect?.slice(0, 100))} is not supported (only 100-continue)`,
    }),
  );
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    rawRefusal(socket, 405, 'E_BAD_REQUEST', 'CONNECT is not served here');
    socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) =>
      reject(new ElexError('E_LISTEN', `cannot serve HTTP on ${at.host}:${at.port}: ${e.message}`)),
    );
    server.requestTimeout = REQUEST_TIMEOUT_MS;
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
