import type { Rng } from '../../core/index.js';
import type { Delta } from '../../learning/index.js';
import type { FeatureAgent, Pattern } from '../../swarm/agent/index.js';
import type { Simulator } from '../simulator.js';
import { deltaBytes, patternKey, sendMsg } from './messages.js';
import type { SwarmTopology } from './topology.js';

/** Plausibility bound for one federation round (an agent answers far fewer than 2 questions a second). */
export const MAX_INTERACTIONS_PER_DELTA = 20;

/** The agents' federation traffic, counted by whichever transport carries it. */
export interface LearningTraffic {
  deltaMessages: number;
  patternMessages: number;
  patternsBroadcast: number;
  /** Patterns received that the agent had already learned. */
  patternsIgnored: number;
}

export function learningTraffic(): LearningTraffic {
  return { deltaMessages: 0, patternMessages: 0, patternsBroadcast: 0, patternsIgnored: 0 };
}

/** Agent i's running agent (null while crashed) and the patterns it has seen, shared by lifecycle and transports. */
export interface AgentSlots {
  readonly agents: (FeatureAgent | null)[];
  readonly seenPatterns: Set<string>[];
}

export function agentSlots(agents: number): AgentSlots {
  return {
    agents: new Array(agents).fill(null),
    seenPatterns: Array.from({ length: agents }, () => new Set<string>()),
  };
}

/** How an agent's federation round leaves it: its delta (null when it learned nothing) and its new patterns. */
export interface FederationTransport {
  publish(i: number, agent: FeatureAgent, delta: Delta | null, rng: Rng, peers: readonly number[]): void;
}

/**
 * The lite federation (`--gossip lite`): a round's delta goes to 3 random agents of the category, each new
 * pattern to 3 random agents of the swarm, which forward it the first time they see it.
 */
export class DirectFederation implements FederationTransport {
  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly slots: AgentSlots,
    private readonly traffic: LearningTraffic,
  ) {}

  publish(i: number, a: FeatureAgent, d: Delta | null, rng: Rng, peers: readonly number[]): void {
    const node = this.topo.C + i;
    if (d !== null && peers.length > 0) {
      for (let k = 0; k < Math.min(3, peers.length); k++) {
        this.traffic.deltaMessages++;
        sendMsg(this.sim, node, peers[rng.int(peers.length)], { k: 'delta', delta: d }, deltaBytes(d));
      }
    }
    for (const p of a.newPatterns()) {
      this.traffic.patternsBroadcast++;
      this.slots.seenPatterns[i].add(patternKey(p));
      this.gossipPattern(i, p, rng);
    }
  }

  receivePattern(i: number, a: FeatureAgent, p: Pattern): void {
    const id = patternKey(p);
    const seen = this.slots.seenPatterns[i];
    if (seen.has(id)) return;
    seen.add(id);
    if (!a.applyPattern(p)) this.traffic.patternsIgnored++;
    this.gossipPattern(i, p, this.sim.nodeRng(this.topo.C + i));
  }

  private gossipPattern(i: number, p: Pattern, rng: Rng): void {
    const { C, F } = this.topo;
    for (let k = 0; k < 3; k++) {
      const to = C + rng.int(F);
      if (to === C + i) continue;
      this.traffic.patternMessages++;
      sendMsg(this.sim, C + i, to, { k: 'pattern', p }, 48);
    }
  }
}
