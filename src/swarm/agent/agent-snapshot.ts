/**
 * What a feature agent has learned, as plain data, so a coordinator can resume its agents after a restart.
 * Kept: the Q-table, the agent's own feedback per state (what makes a state its experience rather than a
 * prior), the states its primary's mirror brought experience of (patterns must not overwrite them either),
 * its interaction count (ε's decay) and what it has published. Not kept: answers awaiting feedback
 * (feedback on an answer given before the restart is refused as UNKNOWN_ANSWER) and peer deltas not yet
 * merged (the next round brings new ones).
 */
import { z } from 'zod';
import { ACTION_COUNT, REWARD_MAX, REWARD_MIN } from '../../learning/index.js';

/** An unsigned 32-bit integer (state halves, visits, query ids): shared by the agents' file and wire schemas. */
export const u32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);
/** One of the agents' action indices. */
export const actionIndex = z
  .number()
  .int()
  .min(0)
  .max(ACTION_COUNT - 1);
/** A hosted agent's table is small (36 states × 5 actions); the bound only stops a corrupt file early. */
const MAX_ROWS = 4096;

export const agentSnapshotSchema = z.strictObject({
  feature: z.string().min(1).max(64),
  interactions: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** [hi, lo, action, q, visits] per entry. An agent's answers are one-step episodes: q is a reward. */
  entries: z
    .array(z.tuple([u32, u32, actionIndex, z.number().min(REWARD_MIN).max(REWARD_MAX), u32]))
    .max(MAX_ROWS),
  /** [hi, lo, feedbacks] per state the agent has own experience of. */
  own: z.array(z.tuple([u32, u32, u32.min(1)])).max(MAX_ROWS),
  /** [hi, lo, action, times] per state published (times 0: adopted from another agent's pattern). */
  published: z.array(z.tuple([u32, u32, actionIndex, u32])).max(MAX_ROWS),
  /** [hi, lo] per state a primary's mirror brought visited entries of (absent in files before session 24). */
  mirrored: z
    .array(z.tuple([u32, u32]))
    .max(MAX_ROWS)
    .optional(),
});
export type AgentSnapshot = z.infer<typeof agentSnapshotSchema>;
