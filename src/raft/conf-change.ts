import { ByteReader, ByteWriter, ElexError } from '../core/index.js';
import { type ConfChange, ConfChangeType, type ConfState } from './types.js';

/**
 * Single-server membership changes (Ongaro's thesis §4.1, as etcd's ConfChange v1), plus learners.
 * A change takes effect when its entry is applied, and the leader accepts a new change only once it has
 * applied its log as of its election, the previous change included (`pendingConfIndex`, as etcd). The change
 * follows the leader's no-op, so it takes effect only after an entry of the leader's term has committed,
 * which closes the single-server bug Ongaro described in 2015. See docs/raft.md.
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return new ByteWriter(8).u8(cc.type).varint(cc.node).finish();
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const r = new ByteReader(data);
  const type = r.u8();
  if (type > ConfChangeType.Remove) throw new ElexError('E_DECODE', `unknown conf change type ${type}`);
  const node = r.varint();
  r.end();
  return { type: type as ConfChangeType, node };
}

/** The configuration after `cc` (a new object; inputs are not modified). Sorted, so equal configs compare equal. */
export function applyToConf(conf: ConfState, cc: ConfChange): ConfState {
  const voters = conf.voters.filter((v) => v !== cc.node);
  const learners = conf.learners.filter((v) => v !== cc.node);
  if (cc.type === ConfChangeType.AddVoter) voters.push(cc.node);
  else if (cc.type === ConfChangeType.AddLearner) learners.push(cc.node);
  voters.sort((a, b) => a - b);
  learners.sort((a, b) => a - b);
  return { voters, learners };
}

/** Checks a proposed change against the current configuration; returns a refusal reason or null. */
export function validateConfChange(conf: ConfState, cc: ConfChange): string | null {
  if (!Number.isInteger(cc.node) || cc.node < 0) return `invalid node id ${cc.node}`;
  const isVoter = conf.voters.includes(cc.node);
  const isLearner = conf.learners.includes(cc.node);
  if (cc.type === ConfChangeType.AddVoter && isVoter) return `node ${cc.node} is already a voter`;
  if (cc.type === ConfChangeType.AddLearner && isLearner) return `node ${cc.node} is already a learner`;
  if (cc.type === ConfChangeType.Remove && !isVoter && !isLearner) return `node ${cc.node} is not a member`;
  const after = applyToConf(conf, cc);
  if (after.voters.length === 0) return 'a configuration needs at least one voter';
  return null;
}
