/**
 * HTTP requests signed with the cluster key. On a keyed process (`--cluster-key`) the routes that act for
 * the cluster (the operators' admin routes, which change the Raft configuration and hand leadership over,
 * and the coordinators' pattern broadcasts to each other) take the same key as the Raft frames: an
 * `elex-auth` header carrying a sealed (time, nonce, SHA-256 of method, path and body), in the `http`
 * context. A request is accepted once, within `SIGNED_WINDOW_MS` of its time; the nonces seen in the window
 * refuse its replay.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ElexError } from '../core/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import type { JsonRequest } from './http-api.js';
import { httpJson } from './http-client.js';
import type { Address } from './tcp-transport.js';

export const SIGNED_HEADER = 'elex-auth';
/** How far a signed request's time may be from the receiver's clock, either way. */
export const SIGNED_WINDOW_MS = 30_000;
/** Nonces remembered at most; a flood of signed requests beyond it is refused, not forgotten. */
const MAX_NONCES = 10_000;
const PAYLOAD_BYTES = 8 + 8 + 32;

export interface SignedRequest {
  method: string;
  path: string;
  body: string;
}

function digest(r: SignedRequest): Buffer {
  return createHash('sha256').update(`${r.method}\n${r.path}\n`).update(r.body).digest();
}

/** The `elex-auth` header value for `r`, signed at `nowMs` with a fresh nonce. */
export function signRequest(
  ring: ClusterKeyring,
  r: SignedRequest,
  nowMs: number = Date.now(),
  nonce: Uint8Array = randomBytes(8),
): string {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(nowMs))), 0);
  payload.set(nonce.subarray(0, 8), 8);
  payload.set(digest(r), 16);
  return Buffer.from(ring.seal('http', payload)).toString('base64url');
}

/** Checks signed operator requests against one keyring, clock and replay window. */
export class RequestGuard {
  /** Nonce (hex) → the request time it came with, pruned once out of the window. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ring: ClusterKeyring,
    private readonly now: () => number = Date.now,
    private readonly windowMs: number = SIGNED_WINDOW_MS,
  ) {}

  /** Throws E_AUTH unless `header` signs exactly `r`, recently, for the first time. */
  check(r: SignedRequest, header: string | undefined): void {
    if (header === undefined)
      throw new ElexError(
        'E_AUTH',
        `this node is keyed: sign the request (${SIGNED_HEADER}; elex admin --cluster-key)`,
      );
    let payload: Uint8Array;
    try {
      payload = this.ring.open('http', Buffer.from(header, 'base64url'));
    } catch (e) {
      throw e instanceof ElexError ? e : new ElexError('E_AUTH', 'unreadable signature');
    }
    if (payload.length !== PAYLOAD_BYTES) throw new ElexError('E_AUTH', 'malformed signature');
    const p = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    if (!p.subarray(16).equals(digest(r)))
      throw new ElexError('E_AUTH', 'the signature is for another request (method, path or body differ)');
    const at = Number(p.readBigUInt64BE(0));
    const now = this.now();
    if (Math.abs(now - at) > this.windowMs)
      throw new ElexError(
        'E_AUTH',
        `signed ${Math.round((now - at) / 1000)} s from this node's clock (window ±${this.windowMs / 1000} s)`,
      );
    this.prune(now);
    const nonce = p.subarray(8, 16).toString('hex');
    if (this.seen.has(nonce)) throw new ElexError('E_AUTH', 'a replayed request');
    if (this.seen.size >= MAX_NONCES) throw new ElexError('E_AUTH', 'too many signed requests in the window');
    this.seen.set(nonce, at);
  }

  private prune(now: number): void {
    for (const [n, at] of this.seen) if (Math.abs(now - at) > this.windowMs) this.seen.delete(n);
  }
}

/** The guard a keyed process checks signed routes with; null without a cluster key (nothing to check). */
export function guardFor(keyring: ClusterKeyring | undefined): RequestGuard | null {
  return keyring === undefined ? null : new RequestGuard(keyring);
}

/** A signed route's body, once `guard` (if any) accepted the request's signature of it; E_AUTH otherwise. */
export async function signedBody(req: JsonRequest, guard: RequestGuard | null): Promise<string> {
  const body = await req.body();
  if (guard === null) return body;
  let tag: string | undefined;
  try {
    tag = req.header?.(SIGNED_HEADER);
  } catch (e) {
    // Sent twice: an unreadable signature, so 401 as any other (docs/node.md), not a 400.
    throw new ElexError('E_AUTH', e instanceof Error ? e.message : String(e));
  }
  guard.check({ method: req.method, path: req.path, body }, tag);
  return body;
}

/** POSTs JSON, signed when `ring` is given; null when nothing answered. */
export function postSigned(
  at: Address,
  path: string,
  body: unknown,
  ring: ClusterKeyring | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: unknown } | null> {
  const text = JSON.stringify(body);
  const headers =
    ring === undefined
      ? undefined
      : { [SIGNED_HEADER]: signRequest(ring, { method: 'POST', path, body: text }) };
  return httpJson(at, 'POST', path, text, timeoutMs, headers);
}
