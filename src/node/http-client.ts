import { z } from 'zod';
import { formatAddress } from './address.js';
import type { Address } from './tcp-transport.js';

/**
 * Largest reply body `httpJson` reads by default. Our largest reply is a KV value at its bound (1 MiB) with
 * every byte a control character, which JSON escapes as six (`\u0001`): about 6 MiB (4 MiB would refuse it).
 */
export const MAX_REPLY_BYTES = 8 << 20;

/**
 * One JSON request to a node's HTTP API: its status and parsed body, or null when the connection failed, timed
 * out, the body was longer than `maxReplyBytes` or was not JSON (the caller decides whether that means retry,
 * unknown outcome or down).
 */
export async function httpJson(
  at: Address,
  method: string,
  path: string,
  body?: string,
  timeoutMs = 6000,
  headers?: Record<string, string>,
  maxReplyBytes = MAX_REPLY_BYTES,
): Promise<{ status: number; body: unknown } | null> {
  try {
    const r = await fetch(`http://${formatAddress(at)}${path}`, {
      method,
      body,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await bodyText(r, maxReplyBytes);
    return text === null ? null : { status: r.status, body: JSON.parse(text) };
  } catch {
    return null;
  }
}

/**
 * The body as text (UTF-8, as `Response.json` reads it), or null once it passes `max` bytes: a reply is read
 * into memory, so whoever answers must not choose how much. A declared length above `max` is not read at all.
 */
async function bodyText(r: Response, max: number): Promise<string | null> {
  if (r.body === null) return '';
  if (Number(r.headers.get('content-length')) > max) {
    await r.body.cancel(); // drops the connection instead of draining it
    return null;
  }
  const reader = r.body.getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (bytes > max) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(parts));
}

const errorReply = z.object({ code: z.string().min(1).max(64), message: z.string().max(4096) }).partial();

/** A refusal's `{code, message}` body, validated: what is missing or of another shape is left out. */
export function errorOf(body: unknown): { code?: string; message?: string } {
  const p = errorReply.safeParse(body);
  return p.success ? p.data : {};
}
