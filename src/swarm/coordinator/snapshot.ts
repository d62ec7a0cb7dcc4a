import { z } from 'zod';
import { ElexError } from '../../core/index.js';
import { MAX_AT_MS } from './commands.js';

/**
 * The coordinator snapshot: canonical compact JSON (fixed key order, rows sorted by key), so two replicas in
 * the same state produce the same bytes and restore → snapshot is byte-identical.
 *
 * It comes from the leader over the network (InstallSnapshot), so the decoder takes only what a machine writes:
 * rows strictly ascending by key (a row twice, the last one winning, or rows out of order were taken), no NUL in
 * a value row's names (it joins feature and parameter in the machine's key: the restored replica's next snapshot
 * named another parameter), times within [0, MAX_AT_MS] as every command's `at_ms` is (a clock of 1e300 skipped
 * every later cooldown), indexes and seqs non-negative integers, and no -0 (JSON.stringify writes 0).
 */
const num = z.number().refine((x) => !Object.is(x, -0), 'negative zero');
const time = num.pipe(z.number().min(0).max(MAX_AT_MS));
const count = num.pipe(z.number().int().min(0));
const noNul = z.string().refine((x) => !x.includes('\u0000'), 'a name may not hold NUL');

/** Refuses `keys` unless strictly ascending (as the machine's `snapshot` sorts its rows), so each once. */
function ascending(ctx: z.RefinementCtx, table: string, keys: readonly string[]): void {
  for (let i = 1; i < keys.length; i++)
    if (!(keys[i - 1] < keys[i]))
      ctx.addIssue({ code: 'custom', path: [table, i], message: 'rows not strictly ascending by key' });
}

export const snapshotSchema = z
  .strictObject({
    v: z.literal(1),
    catalog: z.string(),
    clock_ms: time,
    seq: count,
    active: z.array(z.tuple([z.string(), count, time, count])),
    values: z.array(z.tuple([noNul, noNul, num, time, count, z.boolean()])),
    zones: z.array(z.tuple([z.string(), num, num, num, num, num, num])),
    agents: z.array(z.tuple([z.string(), z.string(), time, count])),
  })
  .superRefine((s, ctx) => {
    ascending(
      ctx,
      'active',
      s.active.map((r) => r[0]),
    );
    ascending(
      ctx,
      'values',
      s.values.map((r) => `${r[0]}\u0000${r[1]}`),
    );
    ascending(
      ctx,
      'zones',
      s.zones.map((r) => r[0]),
    );
    ascending(
      ctx,
      'agents',
      s.agents.map((r) => r[0]),
    );
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
