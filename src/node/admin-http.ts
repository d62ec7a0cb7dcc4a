import { z } from 'zod';
import { ElexError } from '../core/index.js';
import { type ConfChange, ConfChangeType, type ConfState } from '../raft/index.js';
import type { JsonRequest } from './http-api.js';

/** What the admin routes need of a node. */
export interface AdminNode {
  changeMembership(cc: ConfChange): Promise<ConfState>;
  transferLeadership(to: number): Promise<void>;
}

const nodeId = z.number().int().min(0).max(0xffff);
const membersBody = z.strictObject({ type: z.enum(['add-voter', 'add-learner', 'remove']), node: nodeId });
const transferBody = z.strictObject({ to: nodeId });
const TYPES = {
  'add-voter': ConfChangeType.AddVoter,
  'add-learner': ConfChangeType.AddLearner,
  remove: ConfChangeType.Remove,
};

export const ADMIN_ROUTES = 'POST /admin/members, POST /admin/transfer';

async function body<T>(req: JsonRequest, schema: z.ZodType<T>): Promise<T> {
  let json: unknown;
  try {
    json = JSON.parse(await req.body());
  } catch {
    throw new ElexError('E_BAD_REQUEST', 'the body is not JSON');
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new ElexError('E_BAD_REQUEST', `at ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return r.data;
}

/**
 * Operator routes, the same on every Raft process: `POST /admin/members` ({"type": "add-voter" | "add-learner" |
 * "remove", "node": N}, on the leader; answers the configuration once applied here) and `POST /admin/transfer`
 * ({"to": N}; answers once N leads). Null when the request is not an admin route.
 */
export async function adminRoute(node: AdminNode, req: JsonRequest): Promise<[number, unknown] | null> {
  if (req.method !== 'POST') return null;
  if (req.path === '/admin/members') {
    const b = await body(req, membersBody);
    return [200, await node.changeMembership({ type: TYPES[b.type], node: b.node })];
  }
  if (req.path === '/admin/transfer') {
    const b = await body(req, transferBody);
    await node.transferLeadership(b.to);
    return [200, { leader: b.to }];
  }
  return null;
}
