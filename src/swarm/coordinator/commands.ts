import { z } from 'zod';
import { zoneBoundsSchema } from '../catalog-schema.js';

/**
 * The coordinator's replicated commands. Each carries `at_ms`, the proposing leader's clock, so that every
 * replica takes time-dependent decisions (cooldowns) from the log, never from its own clock. Encoded as compact
 * JSON (UTF-8); decoded with zod, strictly: unknown fields, non-finite numbers or a wrong type are refused.
 */

const featureId = z.string().min(1).max(64);
const parameterName = z.string().min(1).max(128);
/** `parameters`: zod's record skips an own `__proto__` key without an issue (copying it would set the result's
 *  prototype), so the parameter would vanish and the activation succeed without it; refused here instead. */
const parameters = z
  .custom<unknown>(
    (v) => typeof v !== 'object' || v === null || !Object.hasOwn(v, '__proto__'),
    'a parameter may not be named __proto__',
  )
  .pipe(z.record(parameterName, z.number()));
/**
 * The latest `at_ms` a command may carry: 2^43 ms, the year 2248. Beyond about 2^53 adding a cooldown (seconds
 * × 1000) no longer changes the number, so a command stamped 1e300 would walk through every cooldown after it.
 */
export const MAX_AT_MS = 2 ** 43;
const atMs = z.number().nonnegative().max(MAX_AT_MS);

export const activateSchema = z.strictObject({
  op: z.literal('activate'),
  feature: featureId,
  parameters: parameters.optional(),
  with_prerequisites: z.boolean().optional(),
  at_ms: atMs,
});

export const deactivateSchema = z.strictObject({
  op: z.literal('deactivate'),
  feature: featureId,
  cascade: z.boolean().optional(),
  at_ms: atMs,
});

export const setParameterSchema = z.strictObject({
  op: z.literal('set_parameter'),
  feature: featureId,
  parameter: parameterName,
  value: z.number(),
  at_ms: atMs,
});

export const updateSafeZoneSchema = z.strictObject({
  op: z.literal('update_safe_zone'),
  parameter: parameterName,
  zone: zoneBoundsSchema,
  at_ms: atMs,
});

export const registerAgentSchema = z.strictObject({
  op: z.literal('register_agent'),
  agent: z.string().min(1).max(128),
  feature: featureId,
  at_ms: atMs,
});

export const deregisterAgentSchema = z.strictObject({
  op: z.literal('deregister_agent'),
  agent: z.string().min(1).max(128),
  at_ms: atMs,
});

export const commandSchema = z.discriminatedUnion('op', [
  activateSchema,
  deactivateSchema,
  setParameterSchema,
  updateSafeZoneSchema,
  registerAgentSchema,
  deregisterAgentSchema,
]);

export type Command = z.infer<typeof commandSchema>;
export type ActivateCommand = z.infer<typeof activateSchema>;
export type DeactivateCommand = z.infer<typeof deactivateSchema>;
export type SetParameterCommand = z.infer<typeof setParameterSchema>;
export type UpdateSafeZoneCommand = z.infer<typeof updateSafeZoneSchema>;
export type RegisterAgentCommand = z.infer<typeof registerAgentSchema>;
export type DeregisterAgentCommand = z.infer<typeof deregisterAgentSchema>;
export type CommandOp = Command['op'];

/** Commands larger than this are refused undecoded. */
export const MAX_COMMAND_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCommand(cmd: Command): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

export type Decoded = { ok: true; command: Command } | { ok: false; reason: string };

/** Decodes and validates; never throws. */
export function decodeCommand(bytes: Uint8Array): Decoded {
  if (bytes.length > MAX_COMMAND_BYTES)
    return { ok: false, reason: `command of ${bytes.length} bytes is too large` };
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ok: false, reason: 'not UTF-8 JSON' };
  }
  const r = commandSchema.safeParse(json);
  if (r.success) return { ok: true, command: withoutNegativeZero(r.data) };
  const first = r.error.issues[0];
  const where = first.path.length > 0 ? first.path.join('.') : '(root)';
  return { ok: false, reason: `at ${where}: ${first.message}` };
}

/**
 * Every number of the command with -0 made 0 (`x + 0`; in place: zod built a fresh object). JSON text can spell
 * -0 (`-0`, or `-1e-400` underflowing), but a snapshot cannot keep it (JSON.stringify writes 0), so a replica
 * restored from a snapshot would hold 0 where the others hold -0 and answer later commands differently.
 */
function withoutNegativeZero(cmd: Command): Command {
  cmd.at_ms += 0;
  if (cmd.op === 'set_parameter') cmd.value += 0;
  else if (cmd.op === 'activate' && cmd.parameters !== undefined) {
    for (const k of Object.keys(cmd.parameters)) cmd.parameters[k] += 0;
  } else if (cmd.op === 'update_safe_zone') {
    for (const k of Object.keys(cmd.zone) as Array<keyof typeof cmd.zone>) cmd.zone[k] += 0;
  }
  return cmd;
}
