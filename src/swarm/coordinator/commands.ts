import { z } from 'zod';
import { zoneBoundsSchema } from '../catalog-schema.js';

/**
 * The coordinator's replicated commands. Each carries `at_ms`, the proposing leader's clock, so that every
 * replica takes time-dependent decisions (cooldowns) from the log, never from its own clock. Encoded as compact
 * JSON (UTF-8); decoded with zod, strictly: unknown fields, non-finite numbers or a wrong type are refused.
 */

const featureId = z.string().min(1).max(64);
const parameterName = z.string().min(1).max(128);
const atMs = z.number().nonnegative();

export const activateSchema = z.strictObject({
  op: z.literal('activate'),
  feature: featureId,
  parameters: z.record(parameterName, z.number()).optional(),
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
  if (r.success) return { ok: true, command: r.data };
  const first = r.error.issues[0];
  const where = first.path.length > 0 ? first.path.join('.') : '(root)';
  return { ok: false, reason: `at ${where}: ${first.message}` };
}
