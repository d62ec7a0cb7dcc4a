import type { Rng } from '../../core/index.js';
import { type AgentStats, FeatureAgent, SYNC_AFTER_INTERACTIONS } from '../../swarm/agent/index.js';
import type { Simulator } from '../simulator.js';
import {
  type AgentSlots,
  type DirectFederation,
  type FederationTransport,
  MAX_INTERACTIONS_PER_DELTA,
} from './federation.js';
import type { GossipWiring } from './gossip-wiring.js';
import { answerBytes, type Msg, sendMsg } from './messages.js';
import type { SwarmSettings } from './options.js';
import { agentName, type SwarmTopology } from './topology.js';

/** How the agents exchange what they learn, and the gossip core when it carries their health. */
export interface AgentDeps {
  slots: AgentSlots;
  /** The lite federation: direct delta and pattern messages (received in every mode). */
  direct: DirectFederation;
  gossip: GossipWiring | null;
}

/**
 * The feature agents, one per feature: a crash loses the agent and what it learned, a restart starts a fresh
 * one. A running agent answers its coordinator's asks, learns from the client's feedback and, each federation
 * round, publishes its delta and new patterns; in lite mode it heartbeats its coordinator.
 */
export class SwarmAgents {
  /** 1 for an agent that poisons its deltas. */
  readonly malicious: Uint8Array;
  /** Heartbeats sent (lite). */
  heartbeats = 0;
  /**
   * The counters of every agent that crashed, for the run's learning totals: a crash loses what the agent
   * learned, not what it did (until session 25 the report summed only the agents running at the end, so a
   * crash after learning made `learning.feedbacks` and the other totals shrink).
   */
  readonly crashedStats: AgentStats[] = [];
  private readonly slots: AgentSlots;
  private readonly transport: FederationTransport;
  private readonly agentRng: Rng;
  private readonly incarnation: Uint32Array;
  private readonly interactionsSinceSync: Uint16Array;
  private readonly syncRound: Uint32Array;
  private readonly syncNow: Array<() => void>;

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly settings: SwarmSettings,
    byzantine: number,
    private readonly deps: AgentDeps,
  ) {
    const { C, F } = topo;
    this.slots = deps.slots;
    this.transport = deps.gossip ?? deps.direct;
    this.agentRng = sim.rng('agents');
    this.malicious = pickMalicious(F, byzantine, sim.rng('byzantine'));
    this.incarnation = new Uint32Array(F);
    this.interactionsSinceSync = new Uint16Array(F);
    this.syncRound = new Uint32Array(F);
    this.syncNow = new Array(F).fill(() => {});
    for (let i = 0; i < F; i++) {
      sim.addNode(agentName(topo.catalog.features[i].id), {
        deliver: (from, payload) =>
          payload instanceof Uint8Array
            ? deps.gossip?.deliver(C + i, payload, from)
            : this.deliver(i, from, payload as Msg),
        crash: () => {
          deps.gossip?.crash(C + i);
          const gone = this.slots.agents[i];
          if (gone !== null) this.crashedStats.push(gone.stats);
          this.slots.agents[i] = null;
          this.incarnation[i]++;
          this.slots.seenPatterns[i].clear();
        },
        restart: () => {
          deps.gossip?.boot(C + i);
          this.start(i);
        },
      });
    }
  }

  /** Starts a fresh agent i: its heartbeat (lite) and federation timers. */
  start(i: number): void {
    const { sim, topo } = this;
    const { gossipMs, syncMs } = this.settings;
    const useCore = this.deps.gossip !== null;
    this.incarnation[i]++;
    this.slots.agents[i] = this.newAgent(i);
    // A fresh agent: the interactions of the one that crashed are gone with it.
    this.interactionsSinceSync[i] = 0;
    const node = topo.C + i;
    const inc = this.incarnation[i];
    const rng = sim.nodeRng(node).fork(`a/${inc}`);
    const coord = topo.agentCategory[i];
    const peers = topo.categoryAgents[coord].filter((n) => n !== node);
    const hb = () => {
      if (this.incarnation[i] !== inc || useCore) return;
      this.heartbeats++;
      sendMsg(sim, node, coord, { k: 'hb' }, 24);
      sim.setTimer(node, gossipMs, hb);
    };
    sim.setTimer(node, gossipMs * rng.next(), hb);
    const sync = () => this.sync(i, inc, rng, peers);
    const first = ++this.syncRound[i];
    sim.setTimer(node, syncMs * rng.next(), () => {
      if (this.syncRound[i] === first) sync();
    });
    this.syncNow[i] = sync;
  }

  private newAgent(i: number): FeatureAgent {
    const f = this.topo.catalog.features[i];
    return new FeatureAgent(agentName(f.id), f, this.agentRng.fork(`${i}/${this.incarnation[i]}`), {
      malicious: this.malicious[i] === 1,
    });
  }

  /** A federation round of agent i's incarnation `inc` (a no-op once that incarnation is gone). */
  private sync(i: number, inc: number, rng: Rng, peers: readonly number[]): void {
    const a = this.slots.agents[i];
    if (a === null || this.incarnation[i] !== inc) return;
    this.interactionsSinceSync[i] = 0;
    a.mergePending();
    this.transport.publish(i, a, a.takeDelta(), rng, peers);
    const round = ++this.syncRound[i];
    this.sim.setTimer(this.topo.C + i, this.settings.syncMs * (0.75 + 0.5 * rng.next()), () => {
      if (this.syncRound[i] === round) this.sync(i, inc, rng, peers); // else an early sync (10 interactions) re-armed the timer
    });
  }

  private deliver(i: number, from: number, m: Msg): void {
    const a = this.slots.agents[i];
    if (a === null) return;
    switch (m.k) {
      case 'ask': {
        const about = this.topo.catalog.get(m.feature)!;
        const ans = a.answer(m.queryId, m.type, m.complexity, about, m.view);
        sendMsg(this.sim, this.topo.C + i, from, { k: 'answer', key: m.key, answer: ans }, answerBytes(ans));
        return;
      }
      case 'feedback':
        // Only a feedback the agent learned from is an interaction (a stray or repeated one is refused).
        if (!a.feedback(m.queryId, m.rating, m.resolved, m.latencyMs, m.feature)) return;
        if (++this.interactionsSinceSync[i] >= SYNC_AFTER_INTERACTIONS) this.syncNow[i]();
        return;
      case 'delta':
        a.receiveDelta(m.delta, MAX_INTERACTIONS_PER_DELTA);
        return;
      case 'pattern':
        this.deps.direct.receivePattern(i, a, m.p);
        return;
      default:
        return;
    }
  }
}

/** The malicious agents: a seeded shuffle's first `fraction` of them. */
function pickMalicious(agents: number, fraction: number, rng: Rng): Uint8Array {
  const malicious = new Uint8Array(agents);
  const want = Math.floor(fraction * agents);
  const order = [...Array(agents).keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < want; i++) malicious[order[i]] = 1;
  return malicious;
}
