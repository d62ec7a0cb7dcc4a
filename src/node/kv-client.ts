import { z } from 'zod';
import { ElexError } from '../core/index.js';
import { SESSION_EXPIRED } from '../raft/index.js';
import { errorOf, httpJson } from './http-client.js';
import { checkKey, checkValue, KV_HEADERS } from './kv-node.js';
import type { Address } from './tcp-transport.js';

export interface KvClientOptions {
  /** Every node's HTTP address: a failed attempt moves on to the next one. */
  nodes: readonly Address[];
  /** How long one call may keep retrying before it fails with E_TIMEOUT (default 10 s). */
  deadlineMs?: number;
  /** How long one attempt waits for its answer (default 3 s). */
  attemptTimeoutMs?: number;
  /** A session already opened with `POST /sessions` (default: one is opened on the first write). */
  client?: number;
}

/** A write's answer, after however many attempts it took. */
export interface KvWriteResult {
  ok: boolean;
  /** What the key held before (for a failed compare-and-set: what it holds). */
  previous: string | null;
  /** E_STALE_SEQ and the like when the machine refused the command (an expired session throws instead). */
  error?: string;
  attempts: number;
}

// The node's answers, validated: a reply of another shape (another service on the port, a proxy's error page)
// is E_BAD_REPLY, never a value or a write result.
export const kvReadReply = z.object({ value: z.string().nullable() });
const sessionReply = z.object({ client: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const writeReply = z.object({
  ok: z.boolean(),
  previous: z.string().nullable(),
  error: z.string().optional(),
});

function parseReply<T>(schema: z.ZodType<T>, r: { status: number; body: unknown }, what: string): T {
  const p = schema.safeParse(r.body);
  if (!p.success)
    throw new ElexError('E_BAD_REPLY', `${what}: HTTP ${r.status} with a body of the wrong shape`);
  return p.data;
}

const BACKOFF_MIN_MS = 20;
const BACKOFF_MAX_MS = 500;

/**
 * A KV client that retries without duplicating: every write carries this client's session and a sequence
 * number, and a retry (after a lost connection, 503 no leader, or 504 timed out / leader changed, through the
 * same node or another) repeats the same sequence number. The machine executes each one once and answers the
 * repeat with the first answer, so a write acknowledged after three attempts happened once. One call at a
 * time per client (the session remembers one answer): concurrent calls are refused (E_BUSY).
 *
 * The session is opened through the log on the first write. If the machine's bound expired it, a write is
 * refused, never executed again: refused at its first attempt it goes again in a new session; refused on a
 * retry (an earlier attempt may have applied) it fails with E_SESSION_EXPIRED, and the next call opens a new
 * session.
 */
export class KvClient {
  private session: number | null;
  private seq = 0;
  private busy = false;
  private next = 0;
  private retried = 0;

  constructor(private readonly o: KvClientOptions) {
    if (o.nodes.length === 0) throw new ElexError('E_CONFIG', 'a KV client needs at least one node');
    this.session = o.client ?? null;
    if (o.client !== undefined && !(Number.isSafeInteger(o.client) && o.client >= 1))
      throw new ElexError('E_CONFIG', `a session id is an integer ≥ 1 from POST /sessions, got ${o.client}`);
  }

  /** Attempts beyond the first of each request so far (reads, writes and session opens). */
  get retries(): number {
    return this.retried;
  }

  /** The session this client writes in (null until its first write opens one). */
  get client(): number | null {
    return this.session;
  }

  put(key: string, value: string): Promise<KvWriteResult> {
    return this.write(key, 'PUT', value, () => ({}));
  }

  /** Compare-and-set: `value` if the key holds `expected`. */
  cas(key: string, expected: string, value: string): Promise<KvWriteResult> {
    // Percent-encoded: a header is Latin-1, and fetch throws on anything else (it read as a lost connection).
    // Built inside the call, after the checks: encodeURIComponent throws a URIError on a lone surrogate.
    return this.write(key, 'PUT', value, () => {
      checkValue(expected);
      return { [KV_HEADERS.ifValueUtf8]: encodeURIComponent(expected) };
    });
  }

  delete(key: string): Promise<KvWriteResult> {
    return this.write(key, 'DELETE', undefined, () => ({}));
  }

  /** A linearizable read, retried like a write (a read changes nothing, so no session is needed). */
  get(key: string): Promise<string | null> {
    return this.exclusive(async () => {
      checkKey(key);
      const r = await this.attempt(`/kv/${encodeURIComponent(key)}`, 'GET', undefined, {}, this.deadline());
      return parseReply(kvReadReply, r, `GET ${key}`).value;
    });
  }

  private write(
    key: string,
    method: string,
    body: string | undefined,
    headersOf: () => Record<string, string>,
  ): Promise<KvWriteResult> {
    return this.exclusive(async () => {
      checkKey(key);
      if (body !== undefined) checkValue(body);
      const headers = headersOf();
      // One deadline for the whole call: opening (or renewing) the session and the write share it.
      const end = this.deadline();
      for (let renewed = false; ; renewed = true) {
        const client = this.session ?? (await this.open(end));
        const r = await this.attempt(
          `/kv/${encodeURIComponent(key)}`,
          method,
          body,
          {
            ...headers,
            [KV_HEADERS.client]: String(client),
            [KV_HEADERS.seq]: String(++this.seq),
          },
          end,
        );
        const b = parseReply(writeReply, r, `${method} ${key} (it may have applied, once)`);
        if (b.error !== SESSION_EXPIRED)
          return {
            ok: b.ok,
            previous: b.previous,
            ...(b.error ? { error: b.error } : {}),
            attempts: r.attempts,
          };
        this.session = null;
        // Refused at its only attempt: nothing applied, so a new session may carry it (once more at most).
        if (r.attempts === 1 && !renewed) continue;
        throw new ElexError(
          SESSION_EXPIRED,
          r.attempts === 1
            ? `${method} ${key}: refused, its new session expired at once (not applied)`
            : `${method} ${key}: the session expired while the write was retried; an earlier attempt may have applied it (once), and it was not applied again. The next call opens a new session`,
        );
      }
    });
  }

  /** Opens a session through the log (a retried open may leave an unused one behind; the bound expires it). */
  private async open(end: number): Promise<number> {
    const r = await this.attempt('/sessions', 'POST', undefined, {}, end);
    if (r.status !== 200) throw new ElexError('E_BAD_REPLY', `POST /sessions: HTTP ${r.status}`);
    this.session = parseReply(sessionReply, r, 'POST /sessions').client;
    this.seq = 0;
    return this.session;
  }

  /** When a call started now must end. */
  private deadline(): number {
    return Date.now() + (this.o.deadlineMs ?? 10_000);
  }

  private async exclusive<T>(f: () => Promise<T>): Promise<T> {
    if (this.busy)
      throw new ElexError('E_BUSY', 'one call at a time per KvClient (its session remembers one answer)');
    this.busy = true;
    try {
      return await f();
    } finally {
      this.busy = false;
    }
  }

  /** Tries node after node until an answer that is not "retry", or the deadline. */
  private async attempt(
    path: string,
    method: string,
    body: string | undefined,
    headers: Record<string, string>,
    end: number,
  ): Promise<{ status: number; body: unknown; attempts: number }> {
    let backoff = BACKOFF_MIN_MS;
    for (let attempts = 1; ; attempts++) {
      const at = this.o.nodes[this.next % this.o.nodes.length];
      // No attempt outlives the call's deadline (a 2.5 s attempt overran a 300 ms deadline by 2.2 s).
      const timeout = Math.max(1, Math.min(this.o.attemptTimeoutMs ?? 3000, end - Date.now()));
      const r = await httpJson(at, method, path, body, timeout, headers);
      if (r !== null && (r.status === 200 || r.status === 404 || r.status === 409)) return { ...r, attempts };
      if (r !== null && r.status !== 503 && r.status !== 504) {
        const e = errorOf(r.body);
        throw new ElexError(e.code ?? 'E_HTTP', e.message ?? `HTTP ${r.status} from ${at.host}:${at.port}`);
      }
      // Down, no leader, or timed out: the next node (a 504's write may have applied; the same seq is safe).
      this.next++;
      this.retried++;
      if (Date.now() + backoff > end)
        throw new ElexError(
          'E_TIMEOUT',
          `no answer within ${this.o.deadlineMs ?? 10_000} ms after ${attempts} attempts (a write may still apply, once)`,
        );
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
    }
  }
}
