import { Role } from '../../raft/index.js';
import { type FeatureAgent, OWN_STATES } from '../../swarm/agent/index.js';
import type { CoordinatorReplica } from '../../swarm/index.js';
import type { Simulator } from '../simulator.js';
import type { SwarmClient } from './client.js';
import type { FaultLedger } from './fault-injection.js';
import type { Invariants } from './invariants.js';
import type { LivenessView } from './liveness.js';
import type { SwarmTopology } from './topology.js';
import { idealAction } from './user.js';

const round3 = (x: number) => Number(x.toFixed(3));

const maxFrom = (xs: readonly number[], from: number) => {
  let m = 0;
  for (let i = from; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  return round3(m);
};

/** What the sampler reads. */
export interface SampledParts {
  replicas: readonly CoordinatorReplica[];
  liveness: LivenessView;
  /** The gossip core carries health (its detections come from its events, not from sampling). */
  useCore: boolean;
  ledger: FaultLedger;
  client: SwarmClient;
  commitLatency: readonly number[];
  agents: readonly (FeatureAgent | null)[];
  invariants: Invariants;
}

/**
 * Sampling every simulated second: leader/term timeline, membership, policy quality, replica agreement. An
 * agent its coordinator stops seeing alive is a detection if it crashed; if it is up, a suspicion explained
 * by a fault (on it, its coordinator or the network) or a false one.
 */
export class Sampler {
  readonly timeline = {
    t_s: [] as number[],
    leader: [] as number[],
    term: [] as number[],
    commit_index: [] as number[],
    agents_up: [] as number[],
    agents_seen_alive: [] as number[],
    queries_answered: [] as number[],
    queries_failed: [] as number[],
    commit_latency_max_ms: [] as number[],
    query_latency_max_ms: [] as number[],
  };
  /** [second, policy quality] every 30 s. */
  readonly quality: [number, number][] = [];
  leaderChanges = 0;
  falseSuspicions = 0;
  excusedSuspicions = 0;
  /** Replica agreement is checked every 10 s in short runs, about 60 times in long ones. */
  private readonly replicaCheckMs: number;
  private lastLeader = -1;
  private livenessReady = false;
  private readonly suspected: Uint8Array;
  private lastAnswered = 0;
  private lastFailed = 0;
  private lastCommitN = 0;
  private lastIntraN = 0;
  private lastCrossN = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly parts: SampledParts,
    durationMs: number,
  ) {
    this.replicaCheckMs = Math.max(10_000, Math.round(durationMs / 60 / 10_000) * 10_000);
    this.suspected = new Uint8Array(topo.F);
  }

  /** Policy quality at the start. */
  begin(): void {
    this.quality.push([0, this.policyQuality()]);
  }

  /** Policy quality at the end, unless the last sample was taken then. */
  end(endMs: number): void {
    const { quality } = this;
    // The end's second as the timeline labels it (its ceiling): a run ending at 30.2 s rounded to the 30 s
    // sample's second and lost its final quality.
    const s = Math.ceil(endMs / 1000);
    if (quality[quality.length - 1][0] !== s) quality.push([s, this.policyQuality()]);
  }

  /** Share of the honest agents' (query type, complexity) states whose greedy action is the ideal one. */
  policyQuality(): number {
    let good = 0;
    let total = 0;
    for (const a of this.parts.agents) {
      if (a === null || a.malicious) continue;
      for (const s of OWN_STATES) {
        total++;
        if (a.strictBest(s.state) === idealAction(s.type, s.complexity)) good++;
      }
    }
    return total === 0 ? 0 : round3(good / total);
  }

  sampleSecond(): void {
    const { sim, parts, timeline: tl } = this;
    const { client, commitLatency } = parts;
    const now = sim.now;
    const { leader, term, commit } = this.raftNow();
    if (leader >= 0 && leader !== this.lastLeader) {
      if (this.lastLeader >= 0) this.leaderChanges++;
      this.lastLeader = leader;
    }
    const { up, seen } = this.sampleMembership(now);
    // Sampling starts once every up agent has been seen alive (the core's membership formed; the lite
    // adapter's first heartbeats) or after 20 s: before that "not seen yet" is not a suspicion.
    if (!this.livenessReady && now >= 5000 && (seen === up || now >= 20_000)) this.livenessReady = true;
    // Samples fall on whole seconds but the last, at the run's end: labelled by its ceiling second it follows
    // the one before (until session 25 it was rounded, and a run ending at 5.2 s listed second 5 twice).
    tl.t_s.push(Math.ceil(now / 1000));
    tl.leader.push(leader);
    tl.term.push(term);
    tl.commit_index.push(commit);
    tl.agents_up.push(up);
    tl.agents_seen_alive.push(seen);
    tl.queries_answered.push(client.answered - this.lastAnswered);
    const tf = client.totalFailed();
    tl.queries_failed.push(tf - this.lastFailed);
    this.lastAnswered = client.answered;
    this.lastFailed = tf;
    tl.commit_latency_max_ms.push(maxFrom(commitLatency, this.lastCommitN));
    tl.query_latency_max_ms.push(
      Math.max(maxFrom(client.latIntra, this.lastIntraN), maxFrom(client.latCross, this.lastCrossN)),
    );
    this.lastCommitN = commitLatency.length;
    this.lastIntraN = client.latIntra.length;
    this.lastCrossN = client.latCross.length;
    if (Math.round(now) % 30_000 === 0) this.quality.push([Math.round(now / 1000), this.policyQuality()]);
    if (Math.round(now) % this.replicaCheckMs === 0) parts.invariants.checkReplicas(parts.replicas);
  }

  /** The leader of the highest term (−1: none), that term, and the highest commit index. */
  private raftNow(): { leader: number; term: number; commit: number } {
    let leader = -1;
    let term = 0;
    let commit = 0;
    for (const r of this.parts.replicas) {
      const rf = r.raft;
      if (rf === null) continue;
      if (rf.role === Role.Leader && rf.term >= term) {
        leader = r.id;
        term = rf.term;
      }
      if (rf.term > term && leader < 0) term = rf.term;
      commit = Math.max(commit, rf.log.committed);
    }
    return { leader, term, commit };
  }

  /** Agents up, agents their coordinator sees alive, and the suspicions raised since the last sample. */
  private sampleMembership(now: number): { up: number; seen: number } {
    const { sim, topo, parts } = this;
    const { replicas, liveness, ledger } = parts;
    let up = 0;
    let seen = 0;
    for (let i = 0; i < topo.F; i++) {
      const node = topo.C + i;
      const isUp = sim.status(node) === 'up';
      if (isUp) up++;
      const c = topo.agentCategory[i];
      const alive = replicas[c].up && liveness.isAlive(c, node, sim.localTime(c));
      if (alive) seen++;
      if (replicas[c].up && this.livenessReady) {
        if (!alive && this.suspected[i] === 0) {
          this.suspected[i] = 1;
          const t0 = ledger.crashedAt.get(node);
          if (t0 !== undefined) {
            if (!parts.useCore) ledger.detectionMs.push(now - t0); // the core's detections come from its events
          } else if (
            isUp &&
            (ledger.excusedUntil[node] > now || ledger.excusedUntil[c] > now || ledger.lossyUntil > now)
          )
            this.excusedSuspicions++;
          else if (isUp) this.falseSuspicions++;
        } else if (alive) this.suspected[i] = 0;
      }
    }
    return { up, seen };
  }
}
