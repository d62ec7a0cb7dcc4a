import type { Complexity, Delta, QueryType } from '../../learning/index.js';
import type { AgentAnswer, ControlView, Pattern } from '../../swarm/agent/index.js';
import type { Command, CommandResult } from '../../swarm/index.js';
import type { SwarmQuery } from '../../swarm/routing/index.js';
import type { Simulator } from '../simulator.js';

export type FailReason =
  | 'NO_TARGET'
  | 'NO_LIVE_AGENT'
  | 'COORDINATOR_DOWN'
  | 'NO_LEADER'
  | 'READ_INDEX_TIMEOUT'
  | 'BARRIER_TIMEOUT'
  | 'AGENT_TIMEOUT'
  | 'SUB_TIMEOUT'
  | 'DEADLINE';

/** A coordinator's answer for the part of a query it served (or why it could not). */
export interface PartResult {
  ok: boolean;
  reason?: FailReason;
  answers: AgentAnswer[];
}

export const fail = (reason: FailReason): PartResult => ({ ok: false, reason, answers: [] });

/** The swarm's direct messages (the gossip core's datagrams travel as bytes beside them). */
export type Msg =
  | { k: 'hb' }
  | { k: 'query'; q: SwarmQuery; complexity: Complexity }
  | { k: 'reply'; id: number; ok: boolean; reason?: FailReason; answers: AgentAnswer[]; raftIndex: number }
  /** `replyTo`/`hops` are set when a follower forwards the command to the leader. */
  | { k: 'cmd'; id: number; cmd: Command; replyTo?: number; hops?: number }
  | { k: 'cmd-reply'; id: number; result: CommandResult | null; reason?: string }
  | { k: 'sub'; key: number; q: SwarmQuery; complexity: Complexity; features: string[]; barrier: number }
  | { k: 'sub-reply'; key: number; part: PartResult }
  | {
      k: 'ask';
      key: number;
      queryId: number;
      type: QueryType;
      complexity: Complexity;
      feature: string;
      view: ControlView;
    }
  | { k: 'answer'; key: number; answer: AgentAnswer }
  | { k: 'feedback'; queryId: number; feature: string; rating: number; resolved: boolean; latencyMs: number }
  | { k: 'delta'; delta: Delta }
  | { k: 'pattern'; p: Pattern };

/** Sends `m`, accounted under its kind, as `bytes` on the wire. */
export function sendMsg(sim: Simulator, from: number, to: number, m: Msg, bytes: number): void {
  sim.send(from, to, m, m.k, bytes);
}

export const deltaBytes = (d: Delta) => 96 + d.count * 12;
export const answerBytes = (a: AgentAnswer) =>
  96 + a.content.activationOrder.length * 14 + a.content.parameters.length * 24;

/** A pattern's identity: an agent takes each pattern once. */
export const patternKey = (p: Pattern) => `${p.origin}:${p.hi}:${p.lo}:${p.action}`;
