import type { Rng } from '../../core/index.js';
import type { Message } from '../../raft/index.js';
import type { CoordinatorReplica, ReplicaHooks } from '../../swarm/index.js';
import { type Command, encodeCommand } from '../../swarm/index.js';
import type { InvariantChecker } from '../raft/checkers.js';
import type { Simulator } from '../simulator.js';
import type { GossipWiring } from './gossip-wiring.js';
import type { LiteLiveness, LivenessView } from './liveness.js';
import { type Msg, sendMsg } from './messages.js';
import type { SwarmSettings } from './options.js';
import { QueryServing } from './query-serving.js';
import { SimCoordinatorReplica } from './sim-replica.js';
import type { SwarmTopology } from './topology.js';

/** How the coordinators watch liveness and follow the log. */
export interface CoordinatorDeps {
  /** Liveness from heartbeats, when the gossip core does not carry health. */
  lite: LiteLiveness;
  /** The gossip core, if it carries health (`pools`, `core`). */
  gossip: GossipWiring | null;
  checker: InvariantChecker;
  hooks: ReplicaHooks;
}

/**
 * The coordinators, one per category: a Raft group whose state machine is the coordinator machine. Each serves
 * queries with its category's agents, proposes the client's commands (a follower forwards them to the leader)
 * and, in lite mode, heartbeats the other coordinators.
 */
export class Coordinators {
  readonly replicas: CoordinatorReplica[] = [];
  /** Per command: propose to applied, on the leader (ms). */
  readonly commitLatency: number[] = [];
  /** Heartbeats sent (lite). */
  heartbeats = 0;
  readonly liveness: LivenessView;
  private readonly serving: QueryServing;
  private readonly rngs: Rng[] = [];
  private readonly heartbeatInc: Uint32Array;

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly settings: SwarmSettings,
    private readonly deps: CoordinatorDeps,
  ) {
    const { C } = topo;
    this.liveness = deps.gossip ?? deps.lite;
    this.serving = new QueryServing(sim, topo, this.replicas, this.liveness);
    this.heartbeatInc = new Uint32Array(C);
    for (let c = 0; c < C; c++) {
      this.rngs.push(sim.rng(`coord/${c}`));
      sim.addNode(topo.catalog.categories[c].coordinator, {
        deliver: (from, payload) => this.deliver(c, from, payload),
        crash: () => this.crash(c),
        restart: () => this.restart(c),
      });
    }
    const replicaOpts = {
      raft: { heartbeatMs: settings.heartbeatMs, electionTimeoutMs: 150, preVote: true, checkQuorum: true },
      voters: [...Array(C).keys()],
      tickMs: settings.tickMs,
      snapshotEvery: 500,
      snapshotKeep: 100,
    };
    for (let c = 0; c < C; c++)
      this.replicas.push(
        new SimCoordinatorReplica(sim, c, topo.catalog, replicaOpts, deps.checker, deps.hooks),
      );
  }

  /** Starts every replica and the Raft tick. */
  start(): void {
    const { sim } = this;
    const { tickMs } = this.settings;
    for (const r of this.replicas) r.start();
    const raftTick = () => {
      for (const r of this.replicas) r.tick();
      sim.after(tickMs, raftTick);
    };
    sim.after(tickMs, raftTick);
  }

  /** Lite: coordinator c heartbeats every other coordinator each gossip interval while it is up. */
  startHeartbeat(c: number): void {
    const { sim, topo } = this;
    const { gossipMs } = this.settings;
    const inc = ++this.heartbeatInc[c];
    const beat = () => {
      if (this.heartbeatInc[c] !== inc || !this.replicas[c].up) return;
      for (let d = 0; d < topo.C; d++) if (d !== c) sendMsg(sim, c, d, { k: 'hb' }, 24);
      this.heartbeats += topo.C - 1;
      sim.setTimer(c, gossipMs, beat);
    };
    sim.setTimer(c, gossipMs * this.rngs[c].next(), beat);
  }

  private deliver(c: number, from: number, payload: unknown): void {
    const rep = this.replicas[c];
    if (payload instanceof Uint8Array) {
      this.deps.gossip?.deliver(c, payload, from);
      return;
    }
    const m = payload as Msg | Message;
    if (!('k' in m)) {
      rep.deliver(m);
      return;
    }
    if (!rep.up) return;
    switch (m.k) {
      case 'hb':
        this.deps.lite.heartbeat(c, from, this.sim.localTime(c));
        return;
      case 'query':
        this.serving.query(c, from, m.q, m.complexity);
        return;
      case 'cmd':
        this.command(c, rep, from, m);
        return;
      case 'sub':
        this.serving.sub(c, from, m);
        return;
      case 'sub-reply':
        this.serving.subReply(c, m.key, m.part);
        return;
      case 'answer':
        this.serving.answer(c, m.key, m.answer);
        return;
      default:
        return;
    }
  }

  private command(c: number, rep: CoordinatorReplica, from: number, m: Msg & { k: 'cmd' }): void {
    const { sim } = this;
    const client = m.replyTo ?? from;
    if (!rep.isLeader()) {
      // Only the leader stamps a command with its clock (cooldowns are measured on the leader's
      // time); a follower forwards it, at most twice, rather than loop on a stale leader hint.
      const lead = rep.leaderHint();
      const hops = m.hops ?? 0;
      if (lead < 0 || lead === c || hops >= 2) {
        sendMsg(sim, c, client, { k: 'cmd-reply', id: m.id, result: null, reason: 'NO_LEADER' }, 48);
      } else {
        const fwd: Msg = { k: 'cmd', id: m.id, cmd: m.cmd, replyTo: client, hops: hops + 1 };
        sendMsg(sim, c, lead, fwd, encodeCommand(m.cmd).length + 24);
      }
      return;
    }
    const cmd = { ...m.cmd, at_ms: Math.max(0, Math.round(sim.localTime(c))) } as Command;
    const t0 = sim.now;
    const ok = rep.propose(
      encodeCommand(cmd),
      (result) => {
        this.commitLatency.push(sim.now - t0);
        const reply: Msg =
          result === null
            ? { k: 'cmd-reply', id: m.id, result: null, reason: 'ALREADY_APPLIED' }
            : { k: 'cmd-reply', id: m.id, result };
        sendMsg(sim, c, client, reply, 96);
      },
      m.id,
    );
    if (!ok) sendMsg(sim, c, client, { k: 'cmd-reply', id: m.id, result: null, reason: 'NO_LEADER' }, 48);
  }

  private crash(c: number): void {
    this.replicas[c].crash();
    this.deps.gossip?.crash(c);
    this.deps.lite.clear(c);
    this.serving.clear(c);
  }

  private restart(c: number): void {
    this.replicas[c].start();
    if (this.deps.gossip !== null) this.deps.gossip.boot(c);
    else this.startHeartbeat(c);
  }
}
