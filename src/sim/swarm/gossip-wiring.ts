import { CounterMetrics, type Rng } from '../../core/index.js';
import { type GossipConfig, type GossipEvent, GossipNode } from '../../gossip/index.js';
import type { Delta } from '../../learning/index.js';
import {
  decodePatterns,
  encodePatterns,
  type FeatureAgent,
  PATTERNS_PER_BROADCAST,
  type Pattern,
} from '../../swarm/agent/index.js';
import { DeadlineDriver, WIRE_OVERHEAD_BYTES } from '../gossip/cluster.js';
import type { Simulator } from '../simulator.js';
import type { FaultLedger } from './fault-injection.js';
import type { FederationTransport } from './federation.js';
import type { GossipFederation } from './gossip-federation.js';
import type { LivenessView } from './liveness.js';
import type { SwarmSettings } from './options.js';
import type { SwarmTopology } from './topology.js';

const LAN_RING_MONITORS = 2;

/**
 * The gossip core (src/gossip, `--gossip core` or `pools`) on the simulator: each member's GossipNode and its
 * DeadlineDriver, booted with the member and gone with it. `core`: one pool of all 607 members. `pools`: a
 * pool per category (its coordinator and agents), one of coordinators.
 */
export class GossipWiring implements FederationTransport, LivenessView {
  readonly metrics = new CounterMetrics();
  /** Member n's node in its category's pool (`core`: in the one pool). */
  private readonly nodes: (GossipNode | null)[];
  private readonly drivers: (DeadlineDriver | null)[];
  /** The coordinators' pool (pools mode): a coordinator's second gossip node. */
  private readonly wanNodes: (GossipNode | null)[];
  private readonly wanDrivers: (DeadlineDriver | null)[];
  private readonly generation: Uint32Array;
  private readonly seeds: string[];
  /**
   * Pools: an agent's liveness as its coordinator's node sees it, kept from that node's member events (what
   * `liveness()` would answer, without a map lookup per agent per routing decision and per sample).
   */
  private readonly agentAliveAtHub: Uint8Array;
  /**
   * Pools mode relays patterns between the two levels: a coordinator forwards what its agents broadcast to
   * the coordinators' pool and what other coordinators forward into its category's pool, once per gossip
   * interval in batches (a member's pattern channel is a ring of `patternSlots` broadcasts: bursts would
   * overwrite each other).
   */
  private readonly relayUp: Pattern[][];
  private readonly relayDown: Pattern[][];
  patternsRelayed = 0;
  // Failure detection as the coordinators' cores see it (events, not sampling).
  private readonly deathsSeen = new Set<string>();
  falseDeaths = 0;
  excusedDeaths = 0;
  private readonly usePools: boolean;
  private readonly gossipMs: number;
  // Category pools: the coordinator is the pool's hub (every agent heartbeats it, it watches every agent),
  // so a failure is seen first-hand even when a whole ring neighbourhood fails at once; it is also the only
  // member that acts on an agent's liveness (routing). Each agent has LAN_RING_MONITORS ring monitors
  // besides: a second opinion (Lifeguard confirmations) and coverage while the coordinator restarts.
  // The coordinators' pool (14 members, no hub): 5 ring monitors.
  private readonly poolConfig: Partial<GossipConfig>;
  private readonly wanConfig: Partial<GossipConfig>;

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    settings: SwarmSettings,
    readonly federation: GossipFederation,
    private readonly ledger: FaultLedger,
  ) {
    const { C, F } = topo;
    this.usePools = settings.usePools;
    this.gossipMs = settings.gossipMs;
    this.poolConfig = { gossipIntervalMs: settings.gossipMs, heartbeatIntervalMs: settings.gossipMs };
    this.wanConfig = { ...this.poolConfig, monitors: 5 };
    this.nodes = new Array(C + F).fill(null);
    this.drivers = new Array(C + F).fill(null);
    this.wanNodes = new Array(C).fill(null);
    this.wanDrivers = new Array(C).fill(null);
    this.generation = new Uint32Array(C + F);
    this.seeds = [0, 1, 2].map((n) => topo.nodeName(n));
    this.agentAliveAtHub = new Uint8Array(C + F);
    this.relayUp = Array.from({ length: C }, () => []);
    this.relayDown = Array.from({ length: C }, () => []);
  }

  boot(n: number): void {
    const { C } = this.topo;
    const gen = ++this.generation[n];
    const node = this.newGossipNode(n, gen, 'lan');
    this.nodes[n] = node;
    if (n >= C) {
      const i = n - C;
      node.subscribe((e) => {
        if (e.kind === 'user' || (e.kind === 'key' && e.channel !== 'health'))
          this.federation.receive(i, node, e);
      });
    } else {
      // A new view knows nobody yet.
      if (this.usePools) for (const a of this.topo.categoryAgents[n]) this.agentAliveAtHub[a] = 0;
      node.subscribe((e) => {
        if (e.kind === 'member') {
          if (this.usePools) {
            const j = this.topo.nodeIndex.get(e.name);
            if (j !== undefined && j >= C) this.agentAliveAtHub[j] = e.status === 'alive' ? 1 : 0;
          }
          this.onCoordMember(n, e);
        } else if (this.usePools && e.kind === 'key' && e.channel === 'pattern' && e.member !== node.name)
          this.relayPatterns(n, e.value, e.member, true);
      });
    }
    const driver = this.newDriver(n, node, gen, () => this.nodes[n] === node);
    this.drivers[n] = driver;
    driver.start();
    if (this.usePools && n < C) {
      const wan = this.newGossipNode(n, gen, 'wan');
      this.wanNodes[n] = wan;
      wan.subscribe((e) => {
        if (e.kind === 'member') this.onCoordMember(n, e);
        else if (e.kind === 'key' && e.channel === 'pattern' && e.member !== wan.name)
          this.relayPatterns(n, e.value, e.member, false);
      });
      const wd = this.newDriver(n, wan, gen, () => this.wanNodes[n] === wan);
      this.wanDrivers[n] = wd;
      wd.start();
      this.sim.setTimer(n, this.gossipMs, () => this.flushRelay(n, gen));
    }
  }

  crash(n: number): void {
    this.nodes[n] = null;
    this.drivers[n] = null;
    if (n < this.topo.C) {
      this.wanNodes[n] = null;
      this.wanDrivers[n] = null;
      this.relayUp[n].length = 0;
      this.relayDown[n].length = 0;
    }
    this.generation[n]++;
  }

  /** Coordinators hear their category's pool from agents and the coordinators' pool from coordinators. */
  deliver(n: number, data: Uint8Array, from: number): void {
    const { C } = this.topo;
    if (this.usePools && n < C && from < C) this.wanDrivers[n]?.receive(data);
    else this.drivers[n]?.receive(data);
  }

  isAlive(c: number, n: number, _now: number): boolean {
    const { C } = this.topo;
    if (this.usePools && n >= C) return this.nodes[c] !== null && this.agentAliveAtHub[n] === 1;
    const view = this.usePools && n < C ? this.wanNodes[c] : this.nodes[c];
    return view?.liveness(this.topo.nodeName(n)) === 'alive';
  }

  /** Agent i's federation round, on its node (nothing while it has none). */
  publish(i: number, a: FeatureAgent, d: Delta | null, _rng: Rng, _peers: readonly number[]): void {
    const n = this.topo.C + i;
    const g = this.nodes[n];
    if (g !== null) this.federation.publish(i, a, d, g, this.drivers[n]!);
  }

  private onCoordMember(c: number, e: GossipEvent & { kind: 'member' }): void {
    if (e.status !== 'suspect' && e.status !== 'dead') return;
    const { C } = this.topo;
    const { ledger, sim } = this;
    const n = this.topo.nodeIndex.get(e.name);
    if (n === undefined) return;
    if (n >= C && this.topo.categoryOfNode(n) === c && !ledger.detectedCrash.has(n)) {
      const t0 = ledger.crashedAt.get(n);
      if (t0 !== undefined && e.gen === this.generation[n] - 1) {
        ledger.detectedCrash.add(n);
        ledger.detectionMs.push(sim.now - t0);
      }
    }
    if (e.status !== 'dead') return;
    const key = `${e.name}/${e.gen}/${e.inc}`;
    if (this.deathsSeen.has(key)) return;
    this.deathsSeen.add(key);
    if (this.nodes[n] === null || this.nodes[n]!.generation !== e.gen) return; // really gone
    const excused = ledger.excusedUntil[n] > sim.now || ledger.lossyUntil > sim.now || sim.status(n) !== 'up';
    if (excused) this.excusedDeaths++;
    else this.falseDeaths++;
  }

  private relayPatterns(c: number, bytes: Uint8Array, member: string, up: boolean): void {
    try {
      (up ? this.relayUp[c] : this.relayDown[c]).push(...decodePatterns(bytes, member));
    } catch {
      this.federation.refuse('E_PATTERN');
    }
  }

  private flushRelay(c: number, gen: number): void {
    if (this.generation[c] !== gen) return;
    this.broadcastRelayed(this.wanNodes[c], this.relayUp[c]);
    this.broadcastRelayed(this.nodes[c], this.relayDown[c]);
    this.sim.setTimer(c, this.gossipMs, () => this.flushRelay(c, gen));
  }

  private broadcastRelayed(g: GossipNode | null, q: Pattern[]): void {
    for (let k = 0; g !== null && k < q.length; k += PATTERNS_PER_BROADCAST) {
      const batch = q.slice(k, k + PATTERNS_PER_BROADCAST);
      this.patternsRelayed += batch.length;
      g.broadcastPattern(encodePatterns(batch));
    }
    q.length = 0;
  }

  private poolSeeds(n: number): string[] {
    if (!this.usePools) return this.seeds;
    const c = this.topo.categoryOfNode(n);
    return [c, ...this.topo.categoryAgents[c].slice(0, 2)].map((m) => this.topo.nodeName(m));
  }

  private lanConfig(n: number): Partial<GossipConfig> {
    return this.usePools
      ? {
          ...this.poolConfig,
          monitors: LAN_RING_MONITORS,
          hubs: [this.topo.nodeName(this.topo.categoryOfNode(n))],
        }
      : this.poolConfig;
  }

  private newDriver(n: number, node: GossipNode, gen: number, live: () => boolean): DeadlineDriver {
    const { sim, topo } = this;
    return new DeadlineDriver(
      sim,
      n,
      node,
      {
        send: (to, data, kind) => {
          const j = topo.nodeIndex.get(to);
          if (j !== undefined) sim.send(n, j, data, kind, data.length + WIRE_OVERHEAD_BYTES);
        },
      },
      () => this.generation[n] === gen && live(),
    );
  }

  /** Member n's node in its category's pool (`lan`) or, for a coordinator, in the coordinators' pool. */
  private newGossipNode(n: number, gen: number, pool: 'lan' | 'wan'): GossipNode {
    return new GossipNode({
      name: this.topo.nodeName(n),
      generation: gen,
      seeds: pool === 'wan' ? this.seeds : this.poolSeeds(n),
      rng: this.sim.nodeRng(n).fork(pool === 'wan' ? `gossip-wan/${gen}` : `gossip/${gen}`),
      now: this.sim.localTime(n),
      config: pool === 'wan' ? this.wanConfig : this.lanConfig(n),
      metrics: this.metrics,
    });
  }
}
