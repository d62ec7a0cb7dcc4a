import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ElexError, isElexError, SeededRng } from '../core/index.js';
import { COMPLEXITIES, type Complexity, QUERY_TYPES, type QueryType } from '../learning/index.js';
import { type AgentAnswer, type ControlView, FeatureAgent, u32 } from '../swarm/agent/index.js';
import type { Catalog } from '../swarm/index.js';
import { aggregateByConfidence, extractTargets, routeKind } from '../swarm/routing/index.js';
import { AgentFederation } from './agent-federation.js';
import { AgentMirror } from './agent-mirror.js';
import { AgentStore } from './agent-store.js';
import type { CoordinatorNode } from './coordinator-node.js';
import type { PatternChannel } from './pattern-gossip.js';
import {
  type FeedbackResult,
  hostedAgentId,
  type PartReply,
  standbyAgentId,
  TOO_LATE,
} from './query-replies.js';
import { Failover, StandbyAgents, standbyHost } from './standby.js';
import { StandbyReturn } from './standby-return.js';
import type { Address } from './tcp-transport.js';

/** Features one query may be about, whether listed or named in its text (a part carries at most as many). */
export const MAX_QUERY_FEATURES = 64;

export {
  type FeedbackResult,
  FORWARDED_FEEDBACK_PATH,
  hostedAgentId,
  PART_PATH,
  standbyAgentId,
} from './query-replies.js';
/** The longest a part waits for its replica to reach the query's barrier. */
export const BARRIER_WAIT_MS = 3000;
/** Left of a part's budget for the answer's way back to the asker. */
const ANSWER_MARGIN_MS = 500;
/** How long a coordinator waits for another's answer before it takes it for down (default). */
export const PEER_TIMEOUT_MS = 3000;

export const queryBody = z.strictObject({
  id: u32.optional(),
  type: z.enum(QUERY_TYPES),
  text: z.string().max(4096),
  features: z.array(z.string().min(1).max(64)).max(MAX_QUERY_FEATURES).optional(),
  complexity: z.enum(COMPLEXITIES).optional(),
});
export type QueryBody = z.infer<typeof queryBody>;

export const partBody = z.strictObject({
  queryId: u32,
  type: z.enum(QUERY_TYPES),
  complexity: z.enum(COMPLEXITIES),
  features: z.array(z.string().min(1).max(64)).min(1).max(MAX_QUERY_FEATURES),
  barrier: z.number().int().min(0),
  /**
   * How long the asker waits for the answer (its timeout). Past it (less a margin for the way back) the host
   * answers `TOO_LATE` and keeps no pending answer: the asker has gone to the standby, whose answer is the one
   * the user will rate.
   */
  budget_ms: z.number().int().min(1).max(60_000).optional(),
});
export type PartBody = z.infer<typeof partBody>;

export const feedbackBody = z.strictObject({
  queryId: u32,
  feature: z.string().min(1).max(64),
  /** The user's rating; the reward clamps it to [−1, 1]. */
  rating: z.number().finite(),
  resolved: z.boolean().optional(),
  latency_ms: z.number().finite().min(0).optional(),
  /** The answering agent, as the reply named it: a standby agent's answer is rated at the standby only. */
  agent: z.string().min(1).max(128).optional(),
});
export type FeedbackBody = z.infer<typeof feedbackBody>;

export interface QueryAnswer {
  id: number;
  ok: boolean;
  /** NO_TARGET, COORDINATOR_DOWN, … when not ok. */
  reason?: string;
  route: 'intra' | 'cross' | null;
  answers: AgentAnswer[];
  /** Mean confidence of the chosen answers. */
  confidence: number;
  /** The Raft index every part of the answer reflects at least (the consistency barrier). */
  raftIndex: number;
  /** Listed `features` the catalogue does not know, sorted: left out of the answer, not silently. */
  unknownFeatures: string[];
  /** Features answered by standby agents because their coordinator did not answer, sorted (empty normally). */
  standby: string[];
}

export interface QueryServiceOptions {
  /** Seeds the agents' exploration and the federation's choices (default: random). */
  seed?: number;
  /** The agents' federation round (default 10 s; 0: none). */
  federationMs?: number;
  /** Restore the hosted agents from this file and save them to it (`AgentStore`; default: not kept). */
  agentsFile?: string;
  /** How often the agents are saved when they changed (default 10 s; 0: only when stopped). */
  saveMs?: number;
  /** Restore the standby agents from this file and save them to it, like `agentsFile` (default: not kept). */
  standbyAgentsFile?: string;
  /** Keep the standby agents' unsent ratings for their primary here across restarts (default: not kept). */
  standbyReturnsFile?: string;
  /** How long another coordinator has to answer a part or a rating (default `PEER_TIMEOUT_MS`). */
  peerTimeoutMs?: number;
  /** The clock of the memory of coordinators that did not answer (default `Date.now`). */
  now?: () => number;
  /** The failure detector's verdict on another coordinator (`FailoverOptions.suspected`; default: none). */
  suspected?: (coordinator: number) => boolean;
  /** The coordinators' gossip for the agents' patterns (`CoordinatorGossip.patterns`; default: POST to each). */
  patterns?: PatternChannel;
}

/**
 * Queries on real coordinators. Each coordinator hosts the feature agents of the categories assigned to it
 * (category k to the k-th coordinator id, round robin). A query reaching any coordinator gets a linearizable
 * read (ReadIndex) that fixes the control-plane state; its target features are split by category, each part is
 * served by the hosting coordinator (itself, or another over HTTP) once that replica has applied the read's
 * index, and the answers are aggregated by confidence: the swarm simulation's query flow, on processes. When
 * the hosting coordinator does not answer, the next coordinator's standby agents answer instead (`Failover`).
 */
export class QueryService {
  private readonly agents = new Map<string, FeatureAgent>();
  private readonly hostOf = new Map<string, number>();
  /** The hosted agents' federation (`AgentFederation`); `serveCoordinatorHttp` starts and stops it. */
  readonly federation: AgentFederation;
  /** Where the hosted agents' learning is kept across restarts (null: nowhere, they start empty). */
  readonly store: AgentStore | null;
  /** The standby agents of the categories of the coordinator before this one, and where they are kept. */
  readonly standby: StandbyAgents;
  readonly standbyStore: AgentStore | null;
  /** Asks another coordinator for a part or a rating, or its standby when it does not answer. */
  readonly failover: Failover;
  /** Mirrors the hosted agents' tables to their standby every federation round, and takes the mirrors sent here. */
  readonly mirror: AgentMirror;
  /** Sends the standby agents' rated experiences to their primary every round, and learns those sent here. */
  readonly returns: StandbyReturn;

  constructor(
    private readonly node: CoordinatorNode,
    private readonly catalog: Catalog,
    /** Every coordinator's HTTP address by id (this one's included). */
    http: ReadonlyMap<number, Address>,
    o: QueryServiceOptions = {},
  ) {
    const seed = o.seed ?? randomBytes(4).readInt32LE(0);
    const ids = [...http.keys()].sort((a, b) => a - b);
    const rng = new SeededRng(seed);
    const categories = new Map<string, FeatureAgent[]>();
    const standbyFor = new Set<string>();
    catalog.categories.forEach((c, k) => {
      const host = ids[k % ids.length];
      this.hostOf.set(c.id, host);
      if (standbyHost(ids, host) === node.id) standbyFor.add(c.id);
      if (host !== node.id) return;
      const agents = c.features.map((f) => new FeatureAgent(hostedAgentId(f), catalog.get(f)!, rng.fork(f)));
      for (const a of agents) this.agents.set(a.feature.id, a);
      categories.set(c.id, agents);
    });
    // The primary of the standby agents here: the coordinator whose standby host this one is.
    const primaryOfMine = ids.find((id) => id !== node.id && standbyHost(ids, id) === node.id);
    this.returns = new StandbyReturn({
      hosted: this.agents,
      to: primaryOfMine === undefined ? null : http.get(primaryOfMine)!,
      keyring: node.keyring,
      timeoutMs: o.peerTimeoutMs ?? PEER_TIMEOUT_MS,
      learned: (agent) => this.federation.interacted(agent),
      file: o.standbyReturnsFile,
      persist: () => this.store?.save() !== false,
    });
    this.returns.load();
    this.standby = new StandbyAgents(catalog, standbyFor, rng, (f, e) => this.returns.add(f, e));
    const store = (file: string | undefined, agents: ReadonlyMap<string, FeatureAgent>) =>
      file === undefined ? null : new AgentStore(file, agents, o.saveMs ?? 10_000);
    this.store =
      o.agentsFile === undefined
        ? null
        : new AgentStore(o.agentsFile, this.agents, o.saveMs ?? 10_000, this.returns);
    this.standbyStore = store(o.standbyAgentsFile, this.standby.agents);
    this.store?.load();
    this.standbyStore?.load();
    const standbyOfMine = standbyHost(ids, node.id);
    this.mirror = new AgentMirror({
      hosted: this.agents,
      standby: this.standby.agents,
      known: (f) => catalog.get(f) !== undefined,
      to: standbyOfMine === null ? null : http.get(standbyOfMine)!,
      keyring: node.keyring,
      timeoutMs: o.peerTimeoutMs ?? PEER_TIMEOUT_MS,
    });
    this.federation = new AgentFederation({
      categories,
      standby: [...this.standby.agents.values()],
      // Every round: the hosted agents' tables to their standby, the standby agents' ratings to their primary.
      mirror: {
        // `live`: false once stopped; checked after each await, so a round in flight at `stop` sends nothing
        // more and does not rewrite standby-returns.json after `stop` saved it (session 25).
        round: async (live) => {
          await this.mirror.round(live);
          if (live()) await this.returns.round(live);
        },
      },
      peers: ids.filter((id) => id !== node.id).map((id) => http.get(id)!),
      intervalMs: o.federationMs ?? 10_000,
      keyring: node.keyring,
      seed: seed + 1,
      patterns: o.patterns,
    });
    o.patterns?.listen((patterns) => this.federation.receive(patterns));
    this.failover = new Failover({
      self: node.id,
      http,
      keyring: node.keyring,
      timeoutMs: o.peerTimeoutMs ?? PEER_TIMEOUT_MS,
      now: o.now,
      suspected: o.suspected,
      standbyPart: (p) => this.standbyPart(p),
      hostedFeedback: (f) => this.forwardedFeedback(f),
      standbyFeedback: (f) => this.standby.feedback(f),
    });
  }

  /** Starts the agents' federation rounds and their saves (`serveCoordinatorHttp` does, while it serves). */
  start(): void {
    this.federation.start();
    this.store?.start();
    this.standbyStore?.start();
  }

  /** Stops them; what the agents learned since the last save is saved. */
  stop(): void {
    this.federation.stop();
    this.store?.stop();
    this.standbyStore?.stop();
    this.returns.save();
  }

  /** Feature agents this coordinator hosts. */
  get agentCount(): number {
    return this.agents.size;
  }

  /** The agent of `feature` when this coordinator hosts it. */
  hostedAgent(feature: string): FeatureAgent | undefined {
    return this.agents.get(feature);
  }

  async query(q: QueryBody): Promise<QueryAnswer> {
    const id = q.id ?? randomBytes(4).readUInt32LE(0);
    const complexity: Complexity = q.complexity ?? 'moderate';
    const t = extractTargets(this.catalog, { id, type: q.type, text: q.text, features: q.features });
    const none = (reason: string, raftIndex = 0): QueryAnswer => ({
      id,
      ok: false,
      reason,
      route: t.features.length === 0 ? null : routeKind(t),
      answers: [],
      confidence: 0,
      raftIndex,
      unknownFeatures: t.unknown,
      standby: [],
    });
    if (t.features.length === 0) return none(t.unknown.length > 0 ? 'UNKNOWN_FEATURE' : 'NO_TARGET');
    // A text may name more features than a list may hold: refused alike, before any agent is asked.
    if (t.features.length > MAX_QUERY_FEATURES)
      throw new ElexError(
        'E_BAD_REQUEST',
        `the query is about ${t.features.length} features, at most ${MAX_QUERY_FEATURES}`,
      );
    // Every query is served at a linearizable point, so a client reads its own activations.
    const { index } = await this.node.read(() => null);
    const byHost = new Map<number, string[]>();
    for (const f of t.features) {
      const host = this.hostOf.get(this.catalog.get(f)!.category)!;
      byHost.set(host, [...(byHost.get(host) ?? []), f]);
    }
    const hosts = [...byHost];
    const parts = await Promise.all(
      hosts.map(async ([host, features]) => {
        const part: PartBody = { queryId: id, type: q.type, complexity, features, barrier: index };
        return host === this.node.id
          ? { reply: await this.part(part), standby: false }
          : this.failover.part(host, part);
      }),
    );
    const replies = parts.map((p) => p.reply);
    const failed = replies.find((p) => 'reason' in p);
    if (failed !== undefined && 'reason' in failed) return none(failed.reason, index);
    const agg = aggregateByConfidence(replies.flatMap((p) => ('answers' in p ? p.answers : [])));
    return {
      id,
      ok: true,
      route: routeKind(t),
      answers: agg.answers,
      confidence: agg.confidence,
      raftIndex: Math.max(index, agg.raftIndex),
      unknownFeatures: t.unknown,
      standby: hosts.flatMap(([, features], i) => (parts[i].standby ? features : [])).sort(),
    };
  }

  /** This coordinator's part: its agents answer once its replica has applied `barrier`. */
  part(p: PartBody): Promise<PartReply> {
    return this.answer(this.agents, p, 'NOT_HOSTED');
  }

  /** A part for this coordinator's standby agents (their primary did not answer): never forwarded again. */
  async standbyPart(p: PartBody): Promise<PartReply> {
    const r = await this.answer(this.standby.agents, p, 'NOT_STANDBY');
    this.standby.answered(r);
    return r;
  }

  /** `agents` answer `p` once the replica has applied its barrier; `missing` when one is not among them. */
  private async answer(
    agents: ReadonlyMap<string, FeatureAgent>,
    p: PartBody,
    missing: string,
  ): Promise<PartReply> {
    if (p.features.some((f) => !agents.has(f) || this.catalog.get(f) === undefined))
      return { reason: missing };
    // Never past this coordinator's own wait, whatever budget the asker names.
    const budget = Math.min(p.budget_ms ?? BARRIER_WAIT_MS, BARRIER_WAIT_MS);
    let index: number;
    try {
      index = await this.node.whenApplied(p.barrier, budget - Math.min(ANSWER_MARGIN_MS, budget / 4));
    } catch (e) {
      if (p.budget_ms !== undefined && isElexError(e) && e.code === 'E_TIMEOUT') return { reason: TOO_LATE };
      throw e;
    }
    return this.node.readLocal((m) => ({
      answers: p.features.map((f) => {
        const view: ControlView = { active: m.isActive(f), values: m.valuesOf(f), raftIndex: index };
        return agents
          .get(f)!
          .answer(p.queryId, p.type as QueryType, p.complexity, this.catalog.get(f)!, view);
      }),
    }));
  }

  /**
   * The user's feedback on the answer about `feature` to query `queryId`: the agent that gave it learns from
   * it (tabular Q-learning, ADR-115's reward). Sent to any coordinator; forwarded to the one hosting the
   * feature's agent (`FORWARDED_FEEDBACK_PATH`, signed), or to its standby's agent when that one does not answer
   * or has no such answer (`Failover.feedback`). Refused when no agent has such an answer pending (already
   * rated, or never asked).
   */
  async feedback(f: FeedbackBody): Promise<FeedbackResult> {
    const feature = this.catalog.get(f.feature);
    if (feature === undefined) return { accepted: false, reason: 'UNKNOWN_FEATURE' };
    if (
      f.agent !== undefined &&
      f.agent !== hostedAgentId(f.feature) &&
      f.agent !== standbyAgentId(f.feature)
    )
      return { accepted: false, reason: 'UNKNOWN_AGENT' };
    return this.failover.feedback(this.hostOf.get(feature.category)!, f);
  }

  /**
   * Feedback for an agent hosted here (another coordinator forwarded it, or this one received it). Never
   * forwarded again: coordinators that disagree on who hosts a feature refuse it instead of passing it round.
   */
  forwardedFeedback(f: FeedbackBody): FeedbackResult {
    const agent = this.agents.get(f.feature);
    if (agent === undefined) return { accepted: false, reason: 'NOT_HOSTED' };
    const ok = agent.feedback(f.queryId, f.rating, f.resolved ?? false, f.latency_ms ?? 0, f.feature);
    if (!ok) return { accepted: false, reason: 'UNKNOWN_ANSWER' };
    this.federation.interacted(agent);
    return { accepted: true };
  }
}
