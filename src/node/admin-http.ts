import { z } from 'zod';
import { type ConfChange, ConfChangeType, type ConfState } from '../raft/index.js';
import { type JsonRequest, parseBody } from './http-api.js';
import { type RequestGuard, signedBody } from './signed-request.js';

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

/**
 * Operator routes, the same on every Raft process: `POST /admin/members` ({"type": "add-voter" | "add-learner" |
 * "remove", "node": N}, on the leader; answers the configuration once applied here) and `POST /admin/transfer`
 * ({"to": N}; answers once N leads). Null when the request is not an admin route. With a `guard` (a keyed
 * node) each must carry a signature of exactly itself (`signRequest`), or it is refused with E_AUTH.
 */
export async function adminRoute(
  node: AdminNode,
  req: JsonRequest,
  guard: RequestGuard | null,
): Promise<[number, unknown] | null> {
  if (req.method !== 'POST' || (req.path !== '/admin/members' && req.path !== '/admin/transfer')) return null;
  const body = await signedBody(req, guard);
  if (req.path === '/admin/members') {
    const b = parseBody(body, membersBody);
    return [200, await node.changeMembership({ type: TYPES[b.type], node: b.node })];
  }
  const b = parseBody(body, transferBody);
  await node.transferLeadership(b.to);
  return [200, { leader: b.to }];
}
