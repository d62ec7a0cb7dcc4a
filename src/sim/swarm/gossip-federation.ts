import { fnv1a } from '../../core/index.js';
import { Channel, GossipChannels, type GossipEvent, type GossipNode } from '../../gossip/index.js';
import {
  type Delta,
  decodeDelta,
  encodeDelta,
  type Identity,
  identityFromRng,
  MapKeyring,
} from '../../learning/index.js';
import {
  decodePatterns,
  encodePatterns,
  type FeatureAgent,
  PATTERNS_PER_BROADCAST,
  type Pattern,
} from '../../swarm/agent/index.js';
import type { DeadlineDriver } from '../gossip/cluster.js';
import type { Simulator } from '../simulator.js';
import { type AgentSlots, type LearningTraffic, MAX_INTERACTIONS_PER_DELTA } from './federation.js';
import { patternKey } from './messages.js';
import { bump } from './tally.js';
import { agentName, type SwarmTopology } from './topology.js';

const DELTA_FANOUT = 3;

const sameBytes = (a: Uint8Array, b: Uint8Array) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * The agents' federation on the gossip core: what an agent puts on its gossip node at the end of a round, and
 * what it takes from the deltas and patterns its node hears. Each agent signs its deltas (Ed25519, the
 * learning module's delta codec); every member knows the keys.
 */
export class GossipFederation {
  /** Deltas and patterns refused, by error code. */
  readonly refused = new Map<string, number>();
  deltasReceived = 0;
  patternsReceived = 0;
  /** Patterns an agent got from its coordinator: found in another category, relayed by the two pools. */
  patternsRelayedIn = 0;
  private readonly keyring = new MapKeyring();
  private readonly identities: Identity[] = [];
  /**
   * Decoding (signature check included) is a pure function of the bytes: the simulator memoizes it across
   * the members that receive the same value, as 40 processes would each compute the same result.
   */
  private readonly decoded = new Map<number, { bytes: Uint8Array; d: Delta | string }>(); // by FNV-1a of the bytes
  private readonly isAgentName = (name: string) => (this.topo.nodeIndex.get(name) ?? 0) >= this.topo.C;

  constructor(
    sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly slots: AgentSlots,
    private readonly traffic: LearningTraffic,
    private readonly usePools: boolean,
  ) {
    topo.catalog.features.forEach((f, i) => {
      const id = identityFromRng(agentName(f.id), sim.rng(`identity/${i}`));
      this.identities.push(id);
      this.keyring.add(agentName(f.id), id.publicKey);
    });
  }

  refuse(code: string): void {
    bump(this.refused, code);
  }

  /** Agent i's round on its gossip node `g` (driven by `driver`). */
  publish(i: number, a: FeatureAgent, d: Delta | null, g: GossipNode, driver: DeadlineDriver): void {
    // The gossip core: the signed delta is this agent's `q` key on the state channel (chunked if large),
    // its new patterns one broadcast on the pattern channel; Scuttlebutt carries both to every member.
    if (d !== null) {
      const bytes = encodeDelta(d, this.identities[i]);
      if (this.usePools) {
        // Pools: a user message to `fanout` random live agents of the pool (ADR-115's gossip_fanout),
        // not replicated state: only the category learns from it, and not every member every round.
        if (bytes.length <= g.config.maxUserBytes) {
          driver.sendUser(bytes, DELTA_FANOUT, this.isAgentName);
          this.traffic.deltaMessages++;
        } else this.refuse('E_TOO_LARGE');
      } else {
        if (bytes.length <= g.config.maxValueBytes) g.set(Channel.state, 'q', bytes);
        else new GossipChannels(g).setStateChunked('q', bytes);
        this.traffic.deltaMessages++;
      }
    }
    const ps = a.newPatterns();
    for (let k = 0; k < ps.length; k += PATTERNS_PER_BROADCAST) {
      const batch = ps.slice(k, k + PATTERNS_PER_BROADCAST);
      for (const p of batch) this.slots.seenPatterns[i].add(patternKey(p));
      this.traffic.patternsBroadcast += batch.length;
      this.traffic.patternMessages++;
      g.broadcastPattern(encodePatterns(batch));
    }
  }

  /** A key or user message agent i's node `g` heard: a peer's delta or a batch of patterns. */
  receive(i: number, g: GossipNode, e: GossipEvent & { kind: 'key' | 'user' }): void {
    const { C } = this.topo;
    const a = this.slots.agents[i];
    if (a === null || e.member === g.name) return;
    const from = this.topo.nodeIndex.get(e.member);
    const isPattern = e.kind === 'key' && e.channel === 'pattern';
    if (from === undefined || (from < C && !(this.usePools && isPattern))) return;
    if (e.kind === 'user' || e.channel === 'state') {
      if (this.topo.categoryOfNode(from) !== this.topo.categoryOfNode(C + i)) return; // federation is per category
      let bytes: Uint8Array | undefined;
      if (e.kind === 'user') bytes = e.value;
      else if (e.key === 'q') bytes = e.value;
      else if (e.key === 'q#') bytes = new GossipChannels(g).stateChunked(e.member, 'q');
      if (bytes === undefined) return;
      const d = this.decode(bytes);
      if (typeof d === 'string' || d.origin !== e.member) {
        this.refuse(typeof d === 'string' ? d : 'E_ORIGIN');
        return;
      }
      this.deltasReceived++;
      a.receiveDelta(d, MAX_INTERACTIONS_PER_DELTA);
    } else if (e.channel === 'pattern') {
      let ps: Pattern[];
      try {
        ps = decodePatterns(e.value, e.member);
      } catch {
        this.refuse('E_PATTERN');
        return;
      }
      const seen = this.slots.seenPatterns[i];
      for (const p of ps) {
        const id = patternKey(p);
        if (seen.has(id)) continue;
        seen.add(id);
        this.patternsReceived++;
        if (from < C) this.patternsRelayedIn++;
        if (!a.applyPattern(p)) this.traffic.patternsIgnored++;
      }
    }
  }

  private decode(bytes: Uint8Array): Delta | string {
    const h = fnv1a(bytes);
    const hit = this.decoded.get(h);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) return hit.d;
    let d: Delta | string;
    try {
      d = decodeDelta(bytes, this.keyring, { maxBytes: 64 * 1024 });
    } catch (e) {
      d = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'E_DECODE';
    }
    if (this.decoded.size >= 8192) this.decoded.clear();
    this.decoded.set(h, { bytes, d });
    return d;
  }
}
