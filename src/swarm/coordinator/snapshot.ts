import { z } from 'zod';
import { ElexError } from '../../core/index.js';

/**
 * The coordinator snapshot: canonical compact JSON (fixed key order, rows sorted by key), so two replicas in
 * the same state produce the same bytes and restore → snapshot is byte-identical.
 */
const num = z.number();
export const snapshotSchema = z.strictObject({
  v: z.literal(1),
  catalog: z.string(),
  clock_ms: num,
  seq: z.number().int().nonnegative(),
  active: z.array(z.tuple([z.string(), num, num, num])),
  values: z.array(z.tuple([z.string(), z.string(), num, num, num, z.boolean()])),
  zones: z.array(z.tuple([z.string(), num, num, num, num, num, num])),
  agents: z.array(z.tuple([z.string(), z.string(), num, num])),
});
export type SnapshotState = z.infer<typeof snapshotSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeSnapshot(s: SnapshotState): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      v: s.v,
      catalog: s.catalog,
      clock_ms: s.clock_ms,
      seq: s.seq,
      active: s.active,
      values: s.values,
      zones: s.zones,
      agents: s.agents,
    }),
  );
}

export function decodeSnapshot(bytes: Uint8Array): SnapshotState {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ElexError('E_SNAPSHOT', 'coordinator snapshot is not UTF-8 JSON');
  }
  const r = snapshotSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ElexError(
      'E_SNAPSHOT',
      `coordinator snapshot invalid at ${i.path.join('.') || '(root)'}: ${i.message}`,
    );
  }
  return r.data;
}
