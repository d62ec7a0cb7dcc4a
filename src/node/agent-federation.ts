/**
 * The federation of the feature agents a coordinator process hosts, on the wall clock. A coordinator hosts
 * whole categories, so a category's deltas never leave the process: every `intervalMs` (jittered) each hosted
 * category runs `hostedRound` (merge what was received, send what was learned to 3 category peers). The
 * patterns a round finds are applied to every hosted (and standby) agent and broadcast on the coordinators'
 * gossip (`patterns`), or, without gossip, POSTed to the other coordinators (`/patterns`, signed with the
 * cluster key when there is one), which apply them to theirs.
 */
import { z } from 'zod';
import { type Rng, SeededRng } from '../core/index.js';
import {
  actionIndex,
  applyPatterns,
  type FeatureAgent,
  hostedRound,
  type Pattern,
  SYNC_AFTER_INTERACTIONS,
  sendDelta,
  u32,
} from '../swarm/agent/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import type { PatternChannel } from './pattern-gossip.js';
import { postSigned } from './signed-request.js';
import type { Address } from './tcp-transport.js';

/** Receivers refuse a delta claiming more interactions than this per second of the interval. */
const MAX_FEEDBACK_PER_SECOND = 100;
const FANOUT = 3;
const PATTERNS_PER_POST = 64;
export const patternsBody = z.strictObject({
  patterns: z
    .array(
      z.strictObject({
        origin: z.string().min(1).max(128),
        hi: u32,
        lo: u32,
        action: actionIndex,
        q: z.number().finite(),
      }),
    )
    .min(1)
    .max(PATTERNS_PER_POST),
});

export interface AgentFederationStats {
  rounds: number;
  /** Timed rounds that threw (counted, not fatal: the next round runs). */
  failedRounds: number;
  /** Deltas handed to a category peer, and deltas merged. */
  deltas: number;
  merged: number;
  /**
   * Patterns this host's agents found; those handed to the gossip; POSTs of them (without gossip) that another
   * coordinator accepted or did not.
   */
  patternsFound: number;
  patternsGossiped: number;
  patternPosts: number;
  patternPostsFailed: number;
  /** Patterns received from other coordinators, and the hosted and standby tables they changed. */
  patternsReceived: number;
  patternsApplied: number;
  /** Deltas an agent sent between rounds, after 10 interactions (`interacted`). */
  earlySyncs: number;
}

export interface AgentFederationOptions {
  /** Hosted agents by category. */
  categories: ReadonlyMap<string, readonly FeatureAgent[]>;
  /**
   * Agents that take patterns like the hosted ones but no part in the rounds: a standby host's agents for
   * another coordinator's categories, whose federation runs in that coordinator's process.
   */
  standby?: readonly FeatureAgent[];
  /** The other coordinators' HTTP addresses. */
  peers: readonly Address[];
  /** The coordinators' gossip: patterns go out there instead of being POSTed to every peer. */
  patterns?: PatternChannel;
  /**
   * Run every round after the categories' (`AgentMirror`: the hosted agents' tables to their standby). `live`
   * turns false once `stop` (or a restart) was called: checked after each await, nothing more is sent then.
   */
  mirror?: { round(live: () => boolean): Promise<void> };
  intervalMs: number;
  keyring?: ClusterKeyring;
  seed: number;
}

export class AgentFederation {
  readonly stats: AgentFederationStats = {
    rounds: 0,
    failedRounds: 0,
    deltas: 0,
    merged: 0,
    patternsFound: 0,
    patternsGossiped: 0,
    patternPosts: 0,
    patternPostsFailed: 0,
    patternsReceived: 0,
    patternsApplied: 0,
    earlySyncs: 0,
  };
  private readonly all: FeatureAgent[];
  /** Each hosted agent's category peers (itself included). */
  private readonly categoryOf = new Map<FeatureAgent, readonly FeatureAgent[]>();
  private readonly rng: Rng;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Bumped by `stop`. A round, or a timer chain, of an earlier generation does nothing more: before
   * session 25 a round in flight at `stop` went on to the mirror and the returns after the coordinator had saved,
   * and its `finally` re-armed a second timer chain after a stop and start.
   */
  private generation = 0;

  constructor(private readonly o: AgentFederationOptions) {
    this.all = [...[...o.categories.values()].flat(), ...(o.standby ?? [])];
    for (const agents of o.categories.values()) for (const a of agents) this.categoryOf.set(a, agents);
    this.rng = new SeededRng(o.seed);
  }

  /** Rounds every `intervalMs` × [0.75, 1.25) until `stop`; the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== null || this.o.intervalMs <= 0) return;
    const chain = this.generation;
    const next = () => {
      this.timer = setTimeout(
        () => {
          this.round()
            .catch(() => {
              this.stats.failedRounds++;
            })
            .finally(() => {
              // Only this chain's own successor: a chain stopped (and maybe started again) meanwhile ends here.
              if (chain === this.generation) next();
            });
        },
        this.o.intervalMs * (0.75 + 0.5 * this.rng.next()),
      );
      this.timer.unref();
    };
    next();
  }

  /** Stops the timer; a round in flight sends nothing more (it stops at its next await). */
  stop(): void {
    this.generation++;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The most interactions a receiver believes one delta covers (a round's worth at the feedback rate). */
  private get maxInteractions(): number {
    return Math.max(20, Math.ceil((this.o.intervalMs / 1000) * 1.25 * MAX_FEEDBACK_PER_SECOND));
  }

  /**
   * After `agent` learned from a rating: at its 10th interaction since its last delta it merges what it
   * received and sends its delta now, as the simulator's agents do, instead of waiting for the timed round.
   * Its patterns still go out with the next round.
   */
  interacted(agent: FeatureAgent): void {
    const category = this.categoryOf.get(agent);
    if (category === undefined || this.o.intervalMs <= 0) return;
    if (agent.interactionsSinceSync < SYNC_AFTER_INTERACTIONS) return;
    this.stats.merged += agent.mergePending();
    this.stats.deltas += sendDelta(agent, category, this.rng, {
      fanout: FANOUT,
      maxInteractions: this.maxInteractions,
    });
    this.stats.earlySyncs++;
  }

  /**
   * One round for every hosted category, then the patterns found go to the other coordinators (gossip or HTTP), then the
   * hosted agents' changed tables to their standby (`mirror`).
   */
  async round(): Promise<void> {
    const generation = this.generation;
    const live = () => generation === this.generation;
    const maxInteractions = this.maxInteractions;
    const found: Pattern[] = [];
    for (const agents of this.o.categories.values()) {
      const r = hostedRound(agents, this.all, this.rng, { fanout: FANOUT, maxInteractions });
      this.stats.deltas += r.deltas;
      this.stats.merged += r.merged;
      found.push(...r.patterns);
    }
    this.stats.rounds++;
    this.stats.patternsFound += found.length;
    const posts: Promise<void>[] = [];
    if (this.o.patterns !== undefined) {
      this.o.patterns.publish(found);
      this.stats.patternsGossiped += found.length;
    }
    for (let i = 0; this.o.patterns === undefined && i < found.length; i += PATTERNS_PER_POST) {
      const body = { patterns: found.slice(i, i + PATTERNS_PER_POST) };
      for (const at of this.o.peers)
        posts.push(
          postSigned(at, '/patterns', body, this.o.keyring, 3000).then((r) => {
            if (r?.status === 200) this.stats.patternPosts++;
            else this.stats.patternPostsFailed++;
          }),
        );
    }
    await Promise.all(posts);
    // Stopped while the patterns were posted: the coordinator has saved and is closing, so nothing more goes out.
    if (!live()) return;
    // After the patterns: the standby's agents take them as every agent does, then the primary's values.
    await this.o.mirror?.round(live);
  }

  /** Another coordinator's patterns (validated by the route): applied to every hosted and standby agent. */
  receive(patterns: readonly Pattern[]): { applied: number } {
    this.stats.patternsReceived += patterns.length;
    const applied = applyPatterns(this.all, patterns);
    this.stats.patternsApplied += applied;
    return { applied };
  }
}
