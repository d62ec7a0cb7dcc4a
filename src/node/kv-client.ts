import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ElexError } from '../core/index.js';
import { errorOf, httpJson } from './http-client.js';
import { KV_HEADERS, MIN_CLIENT_ID } from './kv-node.js';
import type { Address } from './tcp-transport.js';

export interface KvClientOptions {
  /** Every node's HTTP address: a failed attempt moves on to the next one. */
  nodes: readonly Address[];
  /** How long one call may keep retrying before it fails with E_TIMEOUT (default 10 s). */
  deadlineMs?: number;
  /** How long one attempt waits for its answer (default 3 s). */
  attemptTimeoutMs?: number;
  /** This client's session id (default: random in [2³², 2⁵³)). Two clients must not share one. */
  client?: number;
}

/** A write's answer, after however many attempts it took. */
export interface KvWriteResult {
  ok: boolean;
  /** What the key held before (for a failed compare-and-set: what it holds). */
  previous: string | null;
  /** E_STALE_SEQ and the like when the machine refused the command. */
  error?: string;
  attempts: number;
}

// The node's answers, validated: a reply of another shape (another service on the port, a proxy's error page)
// is E_BAD_REPLY, never a value or a write result.
export const kvReadReply = z.object({ value: z.string().nullable() });
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
 */
export class KvClient {
  readonly client: number;
  private seq = 0;
  private busy = false;
  private next = 0;

  constructor(private readonly o: KvClientOptions) {
    if (o.nodes.length === 0) throw new ElexError('E_CONFIG', 'a KV client needs at least one node');
    this.client = o.client ?? MIN_CLIENT_ID + (randomBytes(6).readUIntLE(0, 6) % (2 ** 53 - MIN_CLIENT_ID));
    if (!(Number.isSafeInteger(this.client) && this.client >= MIN_CLIENT_ID))
      throw new ElexError('E_CONFIG', `client id must be an integer in [2^32, 2^53), got ${this.client}`);
  }

  put(key: string, value: string): Promise<KvWriteResult> {
    return this.write(key, 'PUT', value, {});
  }

  /** Compare-and-set: `value` if the key holds `expected`. */
  cas(key: string, expected: string, value: string): Promise<KvWriteResult> {
    return this.write(key, 'PUT', value, { [KV_HEADERS.ifValue]: expected });
  }

  delete(key: string): Promise<KvWriteResult> {
    return this.write(key, 'DELETE', undefined, {});
  }

  /** A linearizable read, retried like a write (a read changes nothing, so no session is needed). */
  async get(key: string): Promise<string | null> {
    const r = await this.attempt(`/kv/${encodeURIComponent(key)}`, 'GET', undefined, {});
    return parseReply(kvReadReply, r, `GET ${key}`).value;
  }

  private async write(
    key: string,
    method: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<KvWriteResult> {
    const seq = ++this.seq;
    const r = await this.attempt(`/kv/${encodeURIComponent(key)}`, method, body, {
      ...headers,
      [KV_HEADERS.client]: String(this.client),
      [KV_HEADERS.seq]: String(seq),
    });
    const b = parseReply(writeReply, r, `${method} ${key} (it may have applied, once)`);
    return { ok: b.ok, previous: b.previous, ...(b.error ? { error: b.error } : {}), attempts: r.attempts };
  }

  /** Tries node after node until an answer that is not "retry", or the deadline. */
  private async attempt(
    path: string,
    method: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: unknown; attempts: number }> {
    if (this.busy)
      throw new ElexError('E_BUSY', 'one call at a time per KvClient (its session remembers one answer)');
    this.busy = true;
    try {
      const end = Date.now() + (this.o.deadlineMs ?? 10_000);
      let backoff = BACKOFF_MIN_MS;
      for (let attempts = 1; ; attempts++) {
        const at = this.o.nodes[this.next % this.o.nodes.length];
        const r = await httpJson(at, method, path, body, this.o.attemptTimeoutMs ?? 3000, headers);
        if (r !== null && (r.status === 200 || r.status === 404 || r.status === 409))
          return { ...r, attempts };
        if (r !== null && r.status !== 503 && r.status !== 504) {
          const e = errorOf(r.body);
          throw new ElexError(e.code ?? 'E_HTTP', e.message ?? `HTTP ${r.status} from ${at.host}:${at.port}`);
        }
        // Down, no leader, or timed out: the next node (a 504's write may have applied; the same seq is safe).
        this.next++;
        if (Date.now() + backoff > end)
          throw new ElexError(
            'E_TIMEOUT',
            `no answer within ${this.o.deadlineMs ?? 10_000} ms after ${attempts} attempts (a write may still apply, once)`,
          );
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      }
    } finally {
      this.busy = false;
    }
  }
}
