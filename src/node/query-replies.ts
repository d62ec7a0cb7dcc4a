/**
 * What another coordinator may answer to a forwarded part of a query or a forwarded feedback. Its reply comes
 * off the network, so it is validated like any request: a reply of the wrong shape, or answers about features
 * that were not asked, become `COORDINATOR_BAD_REPLY` instead of reaching the client as an answer.
 */
import { z } from 'zod';
import { ACTIONS } from '../learning/index.js';
import { type AgentAnswer, u32 } from '../swarm/agent/index.js';

/**
 * The routes coordinators call on each other for a query: signed with the cluster key on a keyed cluster, so
 * that only a coordinator runs another's agents or feeds them a rating as a coordinator. A forwarded feedback has
 * its own path: `POST /feedback` is the clients' route, open and unsigned, and the host must tell the two apart.
 */
export const PART_PATH = '/query/part';
export const FORWARDED_FEEDBACK_PATH = '/feedback/forwarded';

/** The id of the agent a coordinator hosts for `feature`, and of its standby agent (the replies' `agent`). */
export const hostedAgentId = (feature: string): string => `agent-${feature}`;
export const standbyAgentId = (feature: string): string => `standby-agent-${feature}`;

/** A part's host could not answer within the asker's budget (`PartBody.budget_ms`): the asker goes elsewhere. */
export const TOO_LATE = 'TOO_LATE';

/** A part's outcome: one answer per feature asked, or why there is none. */
export type PartReply = { answers: AgentAnswer[] } | { reason: string };
export type FeedbackResult = { accepted: boolean; reason?: string };

const name = z.string().min(1).max(256);
const index = z.number().int().min(0);

const agentAnswer = z.strictObject({
  queryId: u32,
  feature: name,
  agent: name,
  action: z.enum(ACTIONS),
  confidence: z.number().min(0).max(1),
  raftIndex: index,
  content: z.strictObject({
    feature: name,
    name: z.string().max(1024),
    category: name,
    activationOrder: z.array(name).max(4096),
    conflicts: z.array(name).max(4096),
    parameters: z.array(z.strictObject({ parameter: name, value: z.number().finite() })).max(4096),
    safeZones: z.array(z.string().max(1024)).max(4096),
    active: z.boolean(),
  }),
});

const partReply = z.union([
  z.strictObject({ answers: z.array(agentAnswer).max(64) }),
  z.strictObject({ reason: name }),
]);

const feedbackReply = z.strictObject({ accepted: z.boolean(), reason: name.optional() });

export const BAD_REPLY = 'COORDINATOR_BAD_REPLY';

/**
 * A part's reply (status and body) for the part `p`: on 200, one answer per feature, each about that feature
 * and that query, given by that feature's own agent (hosted or standby) at or above the part's barrier (the
 * query's linearizable read); otherwise the hosting coordinator's reason, or its status.
 */
export function checkPartReply(
  status: number,
  body: unknown,
  p: { queryId: number; features: readonly string[]; barrier: number },
): PartReply {
  const { queryId, features, barrier } = p;
  const r = partReply.safeParse(body);
  if (status !== 200) return r.success && 'reason' in r.data ? r.data : { reason: `COORDINATOR_${status}` };
  if (!r.success || 'reason' in r.data) return { reason: BAD_REPLY };
  const asked = [...features].sort();
  const got = r.data.answers.map((a) => a.feature).sort();
  const matches =
    got.length === asked.length &&
    got.every((f, i) => f === asked[i]) &&
    r.data.answers.every(
      (a) =>
        a.queryId === queryId &&
        a.content.feature === a.feature &&
        (a.agent === hostedAgentId(a.feature) || a.agent === standbyAgentId(a.feature)) &&
        // Below the barrier the answer may predate the client's own activations: not linearizable.
        a.raftIndex >= barrier,
    );
  return matches ? { answers: r.data.answers } : { reason: BAD_REPLY };
}

/** A forwarded feedback's reply: accepted, or refused with the hosting coordinator's reason. */
export function checkFeedbackReply(status: number, body: unknown): FeedbackResult {
  const p = feedbackReply.safeParse(body);
  if (!p.success && status !== 200) return { accepted: false, reason: `COORDINATOR_${status}` };
  if (!p.success || p.data.accepted !== (status === 200)) return { accepted: false, reason: BAD_REPLY };
  return p.data;
}
