import { z } from 'zod';
import { formatAddress } from './address.js';
import type { Address } from './tcp-transport.js';

/**
 * One JSON request to a node's HTTP API: its status and parsed body, or null when the connection failed, timed
 * out or the body was not JSON (the caller decides whether that means retry, unknown outcome or down).
 */
export async function httpJson(
  at: Address,
  method: string,
  path: string,
  body?: string,
  timeoutMs = 6000,
  headers?: Record<string, string>,
): Promise<{ status: number; body: unknown } | null> {
  try {
    const r = await fetch(`http://${formatAddress(at)}${path}`, {
      method,
      body,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: r.status, body: await r.json() };
  } catch {
    return null;
  }
}

const errorReply = z.object({ code: z.string().min(1).max(64), message: z.string().max(4096) }).partial();

/** A refusal's `{code, message}` body, validated: what is missing or of another shape is left out. */
export function errorOf(body: unknown): { code?: string; message?: string } {
  const p = errorReply.safeParse(body);
  return p.success ? p.data : {};
}
