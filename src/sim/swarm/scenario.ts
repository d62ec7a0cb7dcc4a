import { CounterMetrics, fnv1a, type Rng, summarize } from '../../core/index.js';
import { Channel, GossipChannels, type GossipEvent, GossipNode } from '../../gossip/index.js';
import {
  COMPLEXITIES,
  type Complexity,
  type Delta,
  decodeDelta,
  encodeDelta,
  type Identity,
  identityFromRng,
  MapKeyring,
  QUERY_TYPES,
  type QueryType,
} from '../../learning/index.js';
import { type Entry, type Message, Role } from '../../raft/index.js';
import {
  type AgentAnswer,
  type ControlView,
  decodePatterns,
  encodePatterns,
  FeatureAgent,
  OWN_STATES,
  PATTERNS_PER_BROADCAST,
  type Pattern,
} from '../../swarm/agent/index.js';
import {
  type Catalog,
  type Command,
  type CommandResult,
  encodeCommand,
  type Feature,
} from '../../swarm/index.js';
import {
  aggregateByConfidence,
  chooseAgent,
  extractTargets,
  type SwarmQuery,
} from '../../swarm/routing/index.js';
import { type FaultKind, installSchedule, randomSchedule } from '../faults.js';
import { DeadlineDriver, WIRE_OVERHEAD_BYTES } from '../gossip/cluster.js';
import { InvariantChecker } from '../raft/checkers.js';
import { Simulator } from '../simulator.js';
import { PhiDetector } from './liveness.js';
import { CoordinatorReplica } from './replica.js';
import { idealAction, rate } from './user.js';

export interface SwarmOptions {
  seed: number;
  durationMs: number;
  /** Client queries per simulated second. */
  queryRate: number;
  faults: readonly FaultKind[];
  /** Fraction of agents that are malicious (poisoned deltas). */
  byzantine: number;
  catalog: Catalog;
  gossipIntervalMs?: number;
  heartbeatMs?: number;
  tickMs?: number;
  /**
   * Federation round per agent (jittered ±25 %); an agent also syncs after 10 interactions. Default
   * 60 s, ADR-115's `sync_interval_ms`.
   */
  syncIntervalMs?: number;
  /** A query not answered by then is failed with DEADLINE. */
  queryDeadlineMs?: number;
  /** Mean gap between faults. */
  faultGapMs?: number;
  /**
   * How the three gossip message kinds travel (docs/swarm.md):
   * 'pools' (default): the gossip core (src/gossip) in 15 pools, one per category (its coordinator, a hub,
   * and its agents: health, signed Q-table deltas as user messages to 3 category peers, patterns) and one of
   * the 14 coordinators (their health; patterns relayed between categories).
   * 'core': the gossip core in one pool of all 607 members, deltas replicated on the state channel (slow).
   * 'lite' (alias 'adapter'): direct heartbeats to the category coordinator feeding a phi detector
   * (src/sim/swarm/liveness.ts), deltas and patterns as direct messages.
   */
  gossip?: 'pools' | 'core' | 'lite' | 'adapter';
  /** Scripted crashes on top of the random schedule: every agent of `category` at `atMs` (tests, demos). */
  crashCategories?: ReadonlyArray<{ category: string; atMs: number }>;
  /** Scripted queries on top of the random workload (tests, demos). */
  extraQueries?: ReadonlyArray<{ atMs: number; type: QueryType; text: string; features?: string[] }>;
  /** Called when a query ends (answered or failed); not part of the report. */
  onQueryDone?: (outcome: QueryOutcome) => void;
}

export interface QueryOutcome {
  query: SwarmQuery;
  kind: 'intra' | 'cross';
  ok: boolean;
  reason?: string;
  latencyMs: number;
  /** Simulated time the query was issued. */
  atMs: number;
  /** The agents that answered, and whether each was up when it answered. */
  agents: string[];
  raftIndex: number;
}

type FailReason =
  | 'NO_TARGET'
  | 'NO_LIVE_AGENT'
  | 'COORDINATOR_DOWN'
  | 'NO_LEADER'
  | 'READ_INDEX_TIMEOUT'
  | 'BARRIER_TIMEOUT'
  | 'AGENT_TIMEOUT'
  | 'SUB_TIMEOUT'
  | 'DEADLINE';

interface PartResult {
  ok: boolean;
  reason?: FailReason;
  answers: AgentAnswer[];
}

interface ClientQuery {
  q: SwarmQuery;
  complexity: Complexity;
  kind: 'intra' | 'cross';
  at: number;
  done: boolean;
}

interface ClientCommand {
  cmd: Command;
  at: number;
  attempts: number;
  done: boolean;
  kind: 'workload' | 'register' | 'conflict';
  /** Coordinator for the first attempt (retries go to random ones). */
  firstTo?: number;
  onDone?: (r: CommandResult | null, reason?: string) => void;
}

interface ConflictSet {
  features: [string, string];
  wins: Set<string>;
  open: boolean;
  pending: number;
}

type Msg =
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

interface Violation {
  invariant: string;
  at_ms: number;
  detail: string;
}

const agentName = (f: string) => `agent/${f}`;
/** Plausibility bound for one federation round (an agent answers far fewer than 2 questions a second). */
const MAX_INTERACTIONS_PER_DELTA = 20;
const round3 = (x: number) => Number(x.toFixed(3));

function sortedRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}

function bump(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/**
 * The whole swarm in the simulator: 14 coordinators in one Raft group whose state machine is the coordinator
 * machine, 593 feature agents, heartbeats with phi-accrual detection, federated Q-learning among the agents of
 * a category, pattern broadcasts, and a client issuing queries (with feedback) and control-plane commands
 * under a seeded fault schedule. Returns the report of issue 6.
 */
export function runSwarm(o: SwarmOptions, onProgress?: (doneMs: number, totalMs: number) => void) {
  const cat = o.catalog;
  const gossipMs = o.gossipIntervalMs ?? 1000;
  const heartbeatMs = o.heartbeatMs ?? 50;
  const tickMs = o.tickMs ?? 10;
  const syncMs = o.syncIntervalMs ?? 60_000;
  const deadlineMs = o.queryDeadlineMs ?? 3000;
  const sim = new Simulator({ seed: o.seed, link: { profile: 'lan' }, perLinkAccounting: false });
  const C = cat.categories.length;
  const F = cat.features.length;
  const CLIENT = C + F;
  const violations: Violation[] = [];
  const violate = (invariant: string, detail: string) => {
    if (violations.length < 50) violations.push({ invariant, at_ms: Math.round(sim.now), detail });
  };

  // ---- topology ----------------------------------------------------------------------------------
  const catIndex = new Map<string, number>();
  cat.categories.forEach((c, i) => {
    catIndex.set(c.id, i);
  });
  const featureNode = new Map<string, number>();
  cat.features.forEach((f, i) => {
    featureNode.set(f.id, C + i);
  });
  const categoryAgents: number[][] = cat.categories.map((c) => c.features.map((f) => featureNode.get(f)!));
  const featureOf = (node: number): Feature => cat.features[node - C];
  const agentCategory = Int32Array.from(cat.features, (f) => catIndex.get(f.category)!);
  const names = Array.from({ length: C + F }, (_, n) =>
    n < C ? cat.categories[n].coordinator : agentName(cat.features[n - C].id),
  );
  const nodeName = (node: number) => names[node];

  const checker = new InvariantChecker(sim, o.seed, C);
  const voters = [...Array(C).keys()];
  const commitLatency: number[] = [];
  const firstApplied = new Map<number, true>();
  let commandsCommitted = 0;
  const conflictSets: ConflictSet[] = [];
  let openSet: ConflictSet | null = null;

  const replicas: CoordinatorReplica[] = [];
  const detectors: PhiDetector[] = [];
  const coordRng: Rng[] = [];
  const replicaOpts = {
    raft: { heartbeatMs, electionTimeoutMs: 150, preVote: true, checkQuorum: true },
    voters,
    tickMs,
    snapshotEvery: 500,
    snapshotKeep: 100,
  };

  // ---- agents ------------------------------------------------------------------------------------
  const agentRng = sim.rng('agents');
  const byzRng = sim.rng('byzantine');
  const malicious = new Uint8Array(F);
  {
    const want = Math.floor(o.byzantine * F);
    const order = [...Array(F).keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = byzRng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < want; i++) malicious[order[i]] = 1;
  }
  const agents: (FeatureAgent | null)[] = new Array(F).fill(null);
  const agentIncarnation = new Uint32Array(F);
  const seenPatterns: Set<string>[] = Array.from({ length: F }, () => new Set<string>());
  const newAgent = (i: number) =>
    new FeatureAgent(
      agentName(cat.features[i].id),
      cat.features[i],
      agentRng.fork(`${i}/${agentIncarnation[i]}`),
      {
        malicious: malicious[i] === 1,
      },
    );
  let deltaMsgs = 0;
  let patternMsgs = 0;
  let patternsBroadcast = 0;
  let patternsIgnored = 0;
  let heartbeats = 0;

  const send = (from: number, to: number, m: Msg, bytes: number) => sim.send(from, to, m, m.k, bytes);
  const deltaBytes = (d: Delta) => 96 + d.count * 12;
  const answerBytes = (a: AgentAnswer) =>
    96 + a.content.activationOrder.length * 14 + a.content.parameters.length * 24;

  const gossipPattern = (i: number, p: Pattern, rng: Rng) => {
    for (let k = 0; k < 3; k++) {
      const to = C + rng.int(F);
      if (to === C + i) continue;
      patternMsgs++;
      send(C + i, to, { k: 'pattern', p }, 48);
    }
  };

  // ADR-115: an agent syncs every sync interval or after 10 interactions, whichever comes first.
  const SYNC_AFTER_INTERACTIONS = 10;
  const interactionsSinceSync = new Uint16Array(F);
  const syncRound = new Uint32Array(F);
  const syncNow: Array<() => void> = new Array(F).fill(() => {});
  const startAgent = (i: number) => {
    agentIncarnation[i]++;
    agents[i] = newAgent(i);
    const node = C + i;
    const inc = agentIncarnation[i];
    const rng = sim.nodeRng(node).fork(`a/${inc}`);
    const coord = catIndex.get(cat.features[i].category)!;
    const peers = categoryAgents[coord].filter((n) => n !== node);
    const hb = () => {
      if (agentIncarnation[i] !== inc || useCore) return;
      heartbeats++;
      send(node, coord, { k: 'hb' }, 24);
      sim.setTimer(node, gossipMs, hb);
    };
    sim.setTimer(node, gossipMs * rng.next(), hb);
    const sync = () => {
      const a = agents[i];
      if (a === null || agentIncarnation[i] !== inc) return;
      interactionsSinceSync[i] = 0;
      a.mergePending();
      const d = a.takeDelta();
      const g = useCore ? gnodes[node] : null;
      if (g !== null) {
        // The gossip core: the signed delta is this agent's `q` key on the state channel (chunked if large),
        // its new patterns one broadcast on the pattern channel; Scuttlebutt carries both to every member.
        if (d !== null) {
          const bytes = encodeDelta(d, identityOf(i));
          if (usePools) {
            // Pools: a user message to `fanout` random live agents of the pool (ADR-115's gossip_fanout),
            // not replicated state: only the category learns from it, and not every member every round.
            if (bytes.length <= g.config.maxUserBytes) {
              gdrivers[node]!.sendUser(bytes, DELTA_FANOUT, isAgentName);
              deltaMsgs++;
            } else bump(gossipRefused, 'E_TOO_LARGE');
          } else {
            if (bytes.length <= g.config.maxValueBytes) g.set(Channel.state, 'q', bytes);
            else new GossipChannels(g).setStateChunked('q', bytes);
            deltaMsgs++;
          }
        }
        const ps = a.newPatterns();
        for (let k = 0; k < ps.length; k += PATTERNS_PER_BROADCAST) {
          const batch = ps.slice(k, k + PATTERNS_PER_BROADCAST);
          for (const p of batch) seenPatterns[i].add(`${p.origin}:${p.hi}:${p.lo}:${p.action}`);
          patternsBroadcast += batch.length;
          patternMsgs++;
          g.broadcastPattern(encodePatterns(batch));
        }
      } else if (!useCore) {
        if (d !== null && peers.length > 0) {
          for (let k = 0; k < Math.min(3, peers.length); k++) {
            deltaMsgs++;
            send(node, peers[rng.int(peers.length)], { k: 'delta', delta: d }, deltaBytes(d));
          }
        }
        for (const p of a.newPatterns()) {
          patternsBroadcast++;
          seenPatterns[i].add(`${p.origin}:${p.hi}:${p.lo}:${p.action}`);
          gossipPattern(i, p, rng);
        }
      }
      const round = ++syncRound[i];
      sim.setTimer(node, syncMs * (0.75 + 0.5 * rng.next()), () => {
        if (syncRound[i] === round) sync(); // else an early sync (10 interactions) re-armed the timer
      });
    };
    const first = ++syncRound[i];
    sim.setTimer(node, syncMs * rng.next(), () => {
      if (syncRound[i] === first) sync();
    });
    syncNow[i] = sync;
  };

  const agentDeliver = (i: number, from: number, m: Msg) => {
    const a = agents[i];
    if (a === null) return;
    const node = C + i;
    switch (m.k) {
      case 'ask': {
        const about = cat.get(m.feature)!;
        const ans = a.answer(m.queryId, m.type, m.complexity, about, m.view);
        send(node, from, { k: 'answer', key: m.key, answer: ans }, answerBytes(ans));
        return;
      }
      case 'feedback':
        a.feedback(m.queryId, m.rating, m.resolved, m.latencyMs, m.feature);
        if (++interactionsSinceSync[i] >= SYNC_AFTER_INTERACTIONS) syncNow[i]();
        return;
      case 'delta':
        a.receiveDelta(m.delta, MAX_INTERACTIONS_PER_DELTA);
        return;
      case 'pattern': {
        const id = `${m.p.origin}:${m.p.hi}:${m.p.lo}:${m.p.action}`;
        const seen = seenPatterns[i];
        if (seen.has(id)) return;
        seen.add(id);
        if (!a.applyPattern(m.p)) patternsIgnored++;
        gossipPattern(i, m.p, sim.nodeRng(node));
        return;
      }
      default:
        return;
    }
  };

  // ---- coordinators ------------------------------------------------------------------------------
  interface Part {
    done: boolean;
    finish: (p: PartResult) => void;
  }
  const asks: Map<number, (a: AgentAnswer | null) => void>[] = [];
  const subs: Map<number, Part>[] = [];
  let nextKey = 1;

  const fail = (reason: FailReason): PartResult => ({ ok: false, reason, answers: [] });

  /** Serves a part of a query with this coordinator's agents once its replica has applied `barrier`. */
  const serveLocal = (
    c: number,
    q: SwarmQuery,
    complexity: Complexity,
    features: string[],
    barrier: number,
    done: (p: PartResult) => void,
  ) => {
    const rep = replicas[c];
    if (!rep.up) return;
    let finished = false;
    const finish = (p: PartResult) => {
      if (finished) return;
      finished = true;
      done(p);
    };
    const inc = rep.incarnation;
    sim.setTimer(c, 800, () => {
      if (rep.incarnation === inc) finish(fail('BARRIER_TIMEOUT'));
    });
    rep.whenApplied(barrier, (index) => {
      if (finished) return;
      const m = rep.machine;
      const now = sim.localTime(c);
      const answers: AgentAnswer[] = [];
      let remaining = features.length;
      const alive = (n: number) => isAlive(c, n, now) && m.agent(agentName(featureOf(n).id)) !== undefined;
      for (const f of features) {
        const own = featureNode.get(f)!;
        const tried = new Set<number>();
        const view: ControlView = { active: m.isActive(f), values: m.valuesOf(f), raftIndex: index };
        const ask = (attempt: number) => {
          const choice = chooseAgent(own, categoryAgents[c], alive, q.id + attempt, tried);
          if (choice === null) {
            finish(fail(attempt === 0 ? 'NO_LIVE_AGENT' : 'AGENT_TIMEOUT'));
            return;
          }
          tried.add(choice.agent);
          const key = nextKey++;
          asks[c].set(key, (ans) => {
            if (finished) return;
            if (ans === null) {
              if (attempt < 1) ask(attempt + 1);
              else finish(fail('AGENT_TIMEOUT'));
              return;
            }
            answers.push(ans);
            if (--remaining === 0) finish({ ok: true, answers });
          });
          sim.setTimer(c, 300, () => {
            const w = asks[c].get(key);
            if (w !== undefined) {
              asks[c].delete(key);
              w(null);
            }
          });
          send(
            c,
            choice.agent,
            { k: 'ask', key, queryId: q.id, type: q.type, complexity, feature: f, view },
            96 + f.length,
          );
        };
        ask(0);
        if (finished) return;
      }
    });
  };

  const coordQuery = (c: number, from: number, q: SwarmQuery, complexity: Complexity) => {
    const reply = (p: PartResult, raftIndex: number) =>
      send(
        c,
        from,
        { k: 'reply', id: q.id, ok: p.ok, reason: p.reason, answers: p.answers, raftIndex },
        64 + p.answers.reduce((s, a) => s + answerBytes(a), 0),
      );
    const t = extractTargets(cat, q);
    if (t.features.length === 0) return reply(fail('NO_TARGET'), 0);
    const now = sim.localTime(c);
    const byCat = new Map<number, string[]>();
    for (const f of t.features) {
      const ci = catIndex.get(cat.get(f)!.category)!;
      const list = byCat.get(ci);
      if (list) list.push(f);
      else byCat.set(ci, [f]);
    }
    // Dispatch one part per category to its coordinator (ourselves included), gather, aggregate.
    const dispatch = (barrier: number, done: (results: PartResult[]) => void) => {
      const results: PartResult[] = [];
      let remaining = byCat.size;
      let finished = false;
      const got = (p: PartResult) => {
        if (finished) return;
        results.push(p);
        if (!p.ok || --remaining === 0) {
          finished = true;
          done(p.ok ? results : [p]);
        }
      };
      for (const [ci, feats] of [...byCat].sort((a, b) => a[0] - b[0])) {
        if (ci === c) {
          serveLocal(c, q, complexity, feats, barrier, got);
          continue;
        }
        if (!isAlive(c, ci, now)) {
          got(fail('COORDINATOR_DOWN'));
          if (finished) return;
          continue;
        }
        const key = nextKey++;
        const part: Part = { done: false, finish: got };
        subs[c].set(key, part);
        const inc = replicas[c].incarnation;
        sim.setTimer(c, 1200, () => {
          if (replicas[c].incarnation !== inc) return;
          if (subs[c].delete(key)) got(fail('SUB_TIMEOUT'));
        });
        send(c, ci, { k: 'sub', key, q, complexity, features: feats, barrier }, 96 + 16 * feats.length);
      }
    };
    const finishWith = (results: PartResult[], barrier: number) => {
      const failed = results.find((r) => !r.ok);
      if (failed) return reply(failed, barrier);
      const all = results.flatMap((r) => r.answers);
      const agg = aggregateByConfidence(all);
      reply({ ok: true, answers: agg.answers }, Math.max(barrier, agg.raftIndex));
    };
    if (byCat.size === 1) {
      dispatch(0, (rs) => finishWith(rs, 0));
      return;
    }
    // Cross-category: a ReadIndex fixes the control-plane state every part must have applied.
    const rep = replicas[c];
    const inc = rep.incarnation;
    let settled = false;
    const ok = rep.readIndex((index) => {
      if (settled || rep.incarnation !== inc) return;
      settled = true;
      dispatch(index, (rs) => finishWith(rs, index));
    });
    if (!ok) return reply(fail('NO_LEADER'), 0);
    sim.setTimer(c, 1000, () => {
      if (settled || rep.incarnation !== inc) return;
      settled = true;
      reply(fail('READ_INDEX_TIMEOUT'), 0);
    });
  };

  for (let c = 0; c < C; c++) {
    detectors.push(new PhiDetector());
    asks.push(new Map());
    subs.push(new Map());
    coordRng.push(sim.rng(`coord/${c}`));
    sim.addNode(cat.categories[c].coordinator, {
      deliver: (from, payload) => {
        const rep = replicas[c];
        if (payload instanceof Uint8Array) return gDeliver(c, payload, from);
        const m = payload as Msg | Message;
        if (!('k' in m)) return rep.deliver(m);
        if (!rep.up) return;
        switch (m.k) {
          case 'hb':
            detectors[c].heartbeat(from, sim.localTime(c));
            return;
          case 'query':
            coordQuery(c, from, m.q, m.complexity);
            return;
          case 'cmd': {
            const client = m.replyTo ?? from;
            if (!rep.isLeader()) {
              // Only the leader stamps a command with its clock (cooldowns are measured on the leader's
              // time); a follower forwards it, at most twice, rather than loop on a stale leader hint.
              const lead = rep.leaderHint();
              const hops = m.hops ?? 0;
              if (lead < 0 || lead === c || hops >= 2) {
                send(c, client, { k: 'cmd-reply', id: m.id, result: null, reason: 'NO_LEADER' }, 48);
              } else {
                const fwd: Msg = { k: 'cmd', id: m.id, cmd: m.cmd, replyTo: client, hops: hops + 1 };
                send(c, lead, fwd, encodeCommand(m.cmd).length + 24);
              }
              return;
            }
            const cmd = { ...m.cmd, at_ms: Math.max(0, Math.round(sim.localTime(c))) } as Command;
            const t0 = sim.now;
            const ok = rep.propose(
              encodeCommand(cmd),
              (result) => {
                commitLatency.push(sim.now - t0);
                const reply: Msg =
                  result === null
                    ? { k: 'cmd-reply', id: m.id, result: null, reason: 'ALREADY_APPLIED' }
                    : { k: 'cmd-reply', id: m.id, result };
                send(c, client, reply, 96);
              },
              m.id,
            );
            if (!ok) send(c, client, { k: 'cmd-reply', id: m.id, result: null, reason: 'NO_LEADER' }, 48);
            return;
          }
          case 'sub':
            serveLocal(c, m.q, m.complexity, m.features, m.barrier, (part) =>
              send(c, from, { k: 'sub-reply', key: m.key, part }, 64 + part.answers.length * 160),
            );
            return;
          case 'sub-reply': {
            const p = subs[c].get(m.key);
            if (p) {
              subs[c].delete(m.key);
              p.finish(m.part);
            }
            return;
          }
          case 'answer': {
            const w = asks[c].get(m.key);
            if (w) {
              asks[c].delete(m.key);
              w(m.answer);
            }
            return;
          }
          default:
            return;
        }
      },
      crash: () => {
        replicas[c].crash();
        if (useCore) gCrash(c);
        detectors[c].clear();
        asks[c].clear();
        subs[c].clear();
      },
      restart: () => {
        replicas[c].start();
        if (useCore) gBoot(c);
        else startCoordHeartbeat(c);
      },
    });
  }
  for (let c = 0; c < C; c++) {
    replicas.push(
      new CoordinatorReplica(sim, c, cat, replicaOpts, checker, {
        onApply: (r, e, reqId, result) => onApply(r, e, reqId, result),
      }),
    );
  }
  for (let i = 0; i < F; i++) {
    sim.addNode(agentName(cat.features[i].id), {
      deliver: (from, payload) =>
        payload instanceof Uint8Array
          ? gDeliver(C + i, payload, from)
          : agentDeliver(i, from, payload as Msg),
      crash: () => {
        if (useCore) gCrash(C + i);
        agents[i] = null;
        agentIncarnation[i]++;
        seenPatterns[i].clear();
      },
      restart: () => {
        if (useCore) gBoot(C + i);
        startAgent(i);
      },
    });
  }

  // ---- the gossip core (--gossip core) -------------------------------------------------------------
  const mode = o.gossip ?? 'pools';
  const usePools = mode === 'pools';
  const useCore = mode === 'core' || usePools;
  /** `core`: one pool of all 607 members. `pools`: a pool per category (its coordinator and agents), one of coordinators. */
  const gnodes: (GossipNode | null)[] = new Array(C + F).fill(null);
  const gdrivers: (DeadlineDriver | null)[] = new Array(C + F).fill(null);
  /** The coordinators' pool (pools mode): a coordinator's second gossip node. */
  const wnodes: (GossipNode | null)[] = new Array(C).fill(null);
  const wdrivers: (DeadlineDriver | null)[] = new Array(C).fill(null);
  const gGen = new Uint32Array(C + F);
  const gossipMetrics = new CounterMetrics();
  const gSeeds = [0, 1, 2].map(nodeName);
  const gIndex = new Map<string, number>();
  for (let n = 0; n < C + F; n++) gIndex.set(nodeName(n), n);
  const categoryOfNode = (n: number) => (n < C ? n : catIndex.get(featureOf(n).category)!);
  const DELTA_FANOUT = 3;
  const LAN_RING_MONITORS = 2;
  const isAgentName = (name: string) => (gIndex.get(name) ?? 0) >= C;
  // Each agent signs its deltas (Ed25519, the learning module's delta codec); every member knows the keys.
  const keyring = new MapKeyring();
  const identities: (Identity | null)[] = new Array(F).fill(null);
  const identityOf = (i: number): Identity => {
    let id = identities[i];
    if (id === null) {
      id = identityFromRng(agentName(cat.features[i].id), sim.rng(`identity/${i}`));
      identities[i] = id;
    }
    return id;
  };
  if (useCore)
    for (let i = 0; i < F; i++) keyring.add(agentName(cat.features[i].id), identityOf(i).publicKey);
  /**
   * Decoding (signature check included) is a pure function of the bytes: the simulator memoizes it across
   * the members that receive the same value, as 40 processes would each compute the same result.
   */
  const decoded = new Map<number, { bytes: Uint8Array; d: Delta | string }>(); // by FNV-1a of the bytes
  const sameBytes = (a: Uint8Array, b: Uint8Array) => {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  const decodeMemo = (bytes: Uint8Array): Delta | string => {
    const h = fnv1a(bytes);
    const hit = decoded.get(h);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) return hit.d;
    let d: Delta | string;
    try {
      d = decodeDelta(bytes, keyring, { maxBytes: 64 * 1024 });
    } catch (e) {
      d = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'E_DECODE';
    }
    if (decoded.size >= 8192) decoded.clear();
    decoded.set(h, { bytes, d });
    return d;
  };
  let gossipDeltasReceived = 0;
  let gossipPatternsReceived = 0;
  /** Patterns an agent got from its coordinator: found in another category, relayed by the two pools. */
  let gossipPatternsRelayedIn = 0;
  const gossipRefused = new Map<string, number>();
  const onAgentKey = (i: number, g: GossipNode, e: GossipEvent & { kind: 'key' | 'user' }) => {
    const a = agents[i];
    if (a === null || e.member === g.name) return;
    const from = gIndex.get(e.member);
    const isPattern = e.kind === 'key' && e.channel === 'pattern';
    if (from === undefined || (from < C && !(usePools && isPattern))) return;
    if (e.kind === 'user' || e.channel === 'state') {
      if (categoryOfNode(from) !== categoryOfNode(C + i)) return; // federation is per category
      let bytes: Uint8Array | undefined;
      if (e.kind === 'user') bytes = e.value;
      else if (e.key === 'q') bytes = e.value;
      else if (e.key === 'q#') bytes = new GossipChannels(g).stateChunked(e.member, 'q');
      if (bytes === undefined) return;
      const d = decodeMemo(bytes);
      if (typeof d === 'string' || d.origin !== e.member) {
        bump(gossipRefused, typeof d === 'string' ? d : 'E_ORIGIN');
        return;
      }
      gossipDeltasReceived++;
      a.receiveDelta(d, MAX_INTERACTIONS_PER_DELTA);
    } else if (e.channel === 'pattern') {
      let ps: Pattern[];
      try {
        ps = decodePatterns(e.value, e.member);
      } catch {
        bump(gossipRefused, 'E_PATTERN');
        return;
      }
      const seen = seenPatterns[i];
      for (const p of ps) {
        const id = `${p.origin}:${p.hi}:${p.lo}:${p.action}`;
        if (seen.has(id)) continue;
        seen.add(id);
        gossipPatternsReceived++;
        if (from < C) gossipPatternsRelayedIn++;
        if (!a.applyPattern(p)) patternsIgnored++;
      }
    }
  };
  // Failure detection as the coordinators' cores see it (events, not sampling).
  const detectedCrash = new Set<number>();
  const deathsSeen = new Set<string>();
  let coreFalseDeaths = 0;
  let coreExcusedDeaths = 0;
  let crashesRecoveredUndetected = 0;
  const onCoordMember = (c: number, e: GossipEvent & { kind: 'member' }) => {
    if (e.status !== 'suspect' && e.status !== 'dead') return;
    const n = gIndex.get(e.name);
    if (n === undefined) return;
    if (n >= C && categoryOfNode(n) === c && !detectedCrash.has(n)) {
      const t0 = crashedAt.get(n);
      if (t0 !== undefined && e.gen === gGen[n] - 1) {
        detectedCrash.add(n);
        detectionMs.push(sim.now - t0);
      }
    }
    if (e.status !== 'dead') return;
    const key = `${e.name}/${e.gen}/${e.inc}`;
    if (deathsSeen.has(key)) return;
    deathsSeen.add(key);
    if (gnodes[n] === null || gnodes[n]!.generation !== e.gen) return; // really gone
    const excused = excusedUntil[n] > sim.now || lossyUntil > sim.now || sim.status(n) !== 'up';
    if (excused) coreExcusedDeaths++;
    else coreFalseDeaths++;
  };
  /**
   * Pools mode relays patterns between the two levels: a coordinator forwards what its agents broadcast to
   * the coordinators' pool and what other coordinators forward into its category's pool, once per gossip
   * interval in batches (a member's pattern channel is a ring of `patternSlots` broadcasts: bursts would
   * overwrite each other).
   */
  const relayUp: Pattern[][] = Array.from({ length: C }, () => []);
  const relayDown: Pattern[][] = Array.from({ length: C }, () => []);
  let patternsRelayed = 0;
  const relayPatterns = (c: number, bytes: Uint8Array, member: string, up: boolean) => {
    try {
      (up ? relayUp[c] : relayDown[c]).push(...decodePatterns(bytes, member));
    } catch {
      bump(gossipRefused, 'E_PATTERN');
    }
  };
  const flushRelay = (c: number, gen: number) => {
    if (gGen[c] !== gen) return;
    const send = (g: GossipNode | null, q: Pattern[]) => {
      for (let k = 0; g !== null && k < q.length; k += PATTERNS_PER_BROADCAST) {
        const batch = q.slice(k, k + PATTERNS_PER_BROADCAST);
        patternsRelayed += batch.length;
        g.broadcastPattern(encodePatterns(batch));
      }
      q.length = 0;
    };
    send(wnodes[c], relayUp[c]);
    send(gnodes[c], relayDown[c]);
    sim.setTimer(c, gossipMs, () => flushRelay(c, gen));
  };
  const poolSeeds = (n: number): string[] => {
    if (!usePools) return gSeeds;
    const c = categoryOfNode(n);
    return [c, ...categoryAgents[c].slice(0, 2)].map(nodeName);
  };
  // Category pools: the coordinator is the pool's hub (every agent heartbeats it, it watches every agent),
  // so a failure is seen first-hand even when a whole ring neighbourhood fails at once; it is also the only
  // member that acts on an agent's liveness (routing). Each agent has LAN_RING_MONITORS ring monitors
  // besides: a second opinion (Lifeguard confirmations) and coverage while the coordinator restarts.
  // The coordinators' pool (14 members, no hub): 5 ring monitors.
  const gConfig = { gossipIntervalMs: gossipMs, heartbeatIntervalMs: gossipMs };
  const lanConfig = (n: number) =>
    usePools ? { ...gConfig, monitors: LAN_RING_MONITORS, hubs: [nodeName(categoryOfNode(n))] } : gConfig;
  const wanConfig = { ...gConfig, monitors: 5 };
  const newDriver = (n: number, node: GossipNode, gen: number, live: () => boolean) =>
    new DeadlineDriver(
      sim,
      n,
      node,
      {
        send: (to, data, kind) => {
          const j = gIndex.get(to);
          if (j !== undefined) sim.send(n, j, data, kind, data.length + WIRE_OVERHEAD_BYTES);
        },
      },
      () => gGen[n] === gen && live(),
    );
  /** Member n's node in its category's pool (`lan`) or, for a coordinator, in the coordinators' pool. */
  const newGossipNode = (n: number, gen: number, pool: 'lan' | 'wan') =>
    new GossipNode({
      name: nodeName(n),
      generation: gen,
      seeds: pool === 'wan' ? gSeeds : poolSeeds(n),
      rng: sim.nodeRng(n).fork(pool === 'wan' ? `gossip-wan/${gen}` : `gossip/${gen}`),
      now: sim.localTime(n),
      config: pool === 'wan' ? wanConfig : lanConfig(n),
      metrics: gossipMetrics,
    });
  const gBoot = (n: number) => {
    const gen = ++gGen[n];
    const node = newGossipNode(n, gen, 'lan');
    gnodes[n] = node;
    if (n >= C) {
      const i = n - C;
      node.subscribe((e) => {
        if (e.kind === 'user' || (e.kind === 'key' && e.channel !== 'health')) onAgentKey(i, node, e);
      });
    } else {
      if (usePools) for (const a of categoryAgents[n]) agentAliveAtHub[a] = 0; // a new view knows nobody yet
      node.subscribe((e) => {
        if (e.kind === 'member') {
          if (usePools) {
            const j = gIndex.get(e.name);
            if (j !== undefined && j >= C) agentAliveAtHub[j] = e.status === 'alive' ? 1 : 0;
          }
          onCoordMember(n, e);
        } else if (usePools && e.kind === 'key' && e.channel === 'pattern' && e.member !== node.name)
          relayPatterns(n, e.value, e.member, true);
      });
    }
    const driver = newDriver(n, node, gen, () => gnodes[n] === node);
    gdrivers[n] = driver;
    driver.start();
    if (usePools && n < C) {
      const wan = newGossipNode(n, gen, 'wan');
      wnodes[n] = wan;
      wan.subscribe((e) => {
        if (e.kind === 'member') onCoordMember(n, e);
        else if (e.kind === 'key' && e.channel === 'pattern' && e.member !== wan.name)
          relayPatterns(n, e.value, e.member, false);
      });
      const wd = newDriver(n, wan, gen, () => wnodes[n] === wan);
      wdrivers[n] = wd;
      wd.start();
      sim.setTimer(n, gossipMs, () => flushRelay(n, gen));
    }
  };
  /** Coordinators hear their category's pool from agents and the coordinators' pool from coordinators. */
  const gDeliver = (n: number, data: Uint8Array, from: number) => {
    if (usePools && n < C && from < C) wdrivers[n]?.receive(data);
    else gdrivers[n]?.receive(data);
  };
  /**
   * Pools: an agent's liveness as its coordinator's node sees it, kept from that node's member events (what
   * `liveness()` would answer, without a map lookup per agent per routing decision and per sample).
   */
  const agentAliveAtHub = new Uint8Array(C + F);
  const gCrash = (n: number) => {
    gnodes[n] = null;
    gdrivers[n] = null;
    if (n < C) {
      wnodes[n] = null;
      wdrivers[n] = null;
      relayUp[n].length = 0;
      relayDown[n].length = 0;
    }
    gGen[n]++;
  };
  function isAlive(c: number, n: number, now: number): boolean {
    if (!useCore) return detectors[c].alive(n, now);
    if (usePools && n >= C) return gnodes[c] !== null && agentAliveAtHub[n] === 1;
    const view = usePools && n < C ? wnodes[c] : gnodes[c];
    return view?.liveness(nodeName(n)) === 'alive';
  }

  const coordHbInc = new Uint32Array(C);
  const startCoordHeartbeat = (c: number) => {
    const inc = ++coordHbInc[c];
    const beat = () => {
      if (coordHbInc[c] !== inc || !replicas[c].up) return;
      for (let d = 0; d < C; d++) if (d !== c) send(c, d, { k: 'hb' }, 24);
      heartbeats += C - 1;
      sim.setTimer(c, gossipMs, beat);
    };
    sim.setTimer(c, gossipMs * coordRng[c].next(), beat);
  };

  // ---- the log oracle: first application of every index ---------------------------------------
  const refusedByCode = new Map<string, number>();
  function onApply(r: CoordinatorReplica, e: Entry, _reqId: number, result: CommandResult | null): void {
    if (firstApplied.has(e.index)) return;
    firstApplied.set(e.index, true);
    if (result === null) return;
    commandsCommitted++;
    if (openSet !== null && result.ok && result.op === 'activate') {
      for (const f of result.activated) if (openSet.features.includes(f)) openSet.wins.add(f);
    }
    void r;
  }

  // ---- client --------------------------------------------------------------------------------------
  const clientRng = sim.rng('client');
  const queries = new Map<number, ClientQuery>();
  let nextQuery = 1;
  const failedBy = new Map<string, number>();
  const latIntra: number[] = [];
  const latCross: number[] = [];
  let answered = 0;
  let answersWithIndex = 0;
  const commands = new Map<number, ClientCommand>();
  let nextCmd = 1;
  let accepted = 0;
  const rejectedBy = new Map<string, number>();
  const cmdFailedBy = new Map<string, number>();
  const byOp = new Map<string, number>();
  let registered = 0;

  const sendCommand = (cc: ClientCommand, id: number) => {
    cc.attempts++;
    const to = cc.attempts === 1 && cc.firstTo !== undefined ? cc.firstTo : clientRng.int(C);
    send(CLIENT, to, { k: 'cmd', id, cmd: cc.cmd }, encodeCommand(cc.cmd).length + 16);
    const attempt = cc.attempts;
    sim.after(1500, () => {
      if (cc.done || cc.attempts !== attempt) return;
      if (sim.now - cc.at >= 9000) {
        cc.done = true;
        cc.onDone?.(null, 'TIMEOUT');
      } else sendCommand(cc, id);
    });
  };
  const issueCommand = (
    cmd: Command,
    kind: ClientCommand['kind'],
    onDone?: ClientCommand['onDone'],
    firstTo?: number,
  ) => {
    const id = nextCmd++;
    const cc: ClientCommand = { cmd, at: sim.now, attempts: 0, done: false, kind, onDone, firstTo };
    commands.set(id, cc);
    sendCommand(cc, id);
  };
  const recordCommand = (cmd: Command, r: CommandResult | null, reason?: string) => {
    if (cmd.op === 'register_agent') {
      if (r?.ok) registered++;
      return;
    }
    const tag = r === null ? `failed:${reason}` : r.ok ? 'accepted' : `refused:${r.code}`;
    bump(byOp, `${cmd.op} ${tag}`);
    if (cmd.op !== 'activate') {
      if (r !== null && !r.ok) bump(refusedByCode, r.code);
      return;
    }
    if (r === null) bump(cmdFailedBy, reason ?? 'UNKNOWN');
    else if (r.ok) accepted++;
    else bump(rejectedBy, r.code);
  };

  const clientDeliver = (_from: number, m: Msg) => {
    if (m.k === 'reply') {
      const cq = queries.get(m.id);
      if (cq === undefined || cq.done) return;
      cq.done = true;
      queries.delete(m.id);
      const lat = sim.now - cq.at;
      o.onQueryDone?.({
        query: cq.q,
        kind: cq.kind,
        ok: m.ok,
        reason: m.reason,
        latencyMs: lat,
        atMs: cq.at,
        agents: m.answers.map((a) => a.agent),
        raftIndex: m.raftIndex,
      });
      if (!m.ok) {
        bump(failedBy, m.reason ?? 'UNKNOWN');
        return;
      }
      answered++;
      (cq.kind === 'intra' ? latIntra : latCross).push(lat);
      if (m.answers.every((a) => a.raftIndex > 0)) answersWithIndex++;
      for (const a of m.answers) {
        if (a.raftIndex < m.raftIndex && cq.kind === 'cross')
          violate(
            'consistency-barrier',
            `query ${m.id}: answer at index ${a.raftIndex} below barrier ${m.raftIndex}`,
          );
        const node = featureNode.get(a.agent.slice('agent/'.length));
        if (node === undefined) continue;
        const { rating, resolved } = rate(cq.q.type, cq.complexity, a.action);
        // The feature names which of the agent's answers was rated (it may have answered for a dead peer too).
        const fb = {
          k: 'feedback',
          queryId: m.id,
          feature: a.feature,
          rating,
          resolved,
          latencyMs: lat,
        } as const;
        send(CLIENT, node, fb, 40);
      }
    } else if (m.k === 'cmd-reply') {
      const cc = commands.get(m.id);
      if (cc === undefined || cc.done) return;
      if (m.result === null) return; // NO_LEADER here: the retry timer tries another coordinator
      cc.done = true;
      commands.delete(m.id);
      cc.onDone?.(m.result);
    }
  };
  sim.addNode('client', { deliver: (from, payload) => clientDeliver(from, payload as Msg) });

  // Oracle view for the workload generator: the most advanced live replica.
  const oracle = () => {
    let best: CoordinatorReplica | null = null;
    for (const r of replicas) if (r.up && (best === null || r.appliedIndex > best.appliedIndex)) best = r;
    return best?.machine ?? null;
  };

  const sendQuery = (q: SwarmQuery, complexity: Complexity, kind: 'intra' | 'cross') => {
    const id = q.id;
    const cq: ClientQuery = { q, complexity, kind, at: sim.now, done: false };
    queries.set(id, cq);
    const to = clientRng.int(C);
    send(CLIENT, to, { k: 'query', q, complexity }, 64 + q.text.length);
    sim.after(deadlineMs, () => {
      if (cq.done) return;
      cq.done = true;
      queries.delete(id);
      bump(failedBy, 'DEADLINE');
      o.onQueryDone?.({
        query: q,
        kind,
        ok: false,
        reason: 'DEADLINE',
        latencyMs: deadlineMs,
        atMs: cq.at,
        agents: [],
        raftIndex: 0,
      });
    });
  };
  for (const x of o.extraQueries ?? []) {
    sim.after(x.atMs, () => {
      issued++;
      const q: SwarmQuery = { id: nextQuery++, type: x.type, text: x.text, features: x.features };
      const t = extractTargets(cat, q);
      sendQuery(q, 'simple', t.categories.length > 1 ? 'cross' : 'intra');
    });
  }

  const issueQuery = () => {
    const id = nextQuery++;
    const type = QUERY_TYPES[clientRng.int(QUERY_TYPES.length)];
    const complexity = COMPLEXITIES[clientRng.int(COMPLEXITIES.length)];
    const u = clientRng.next();
    let q: SwarmQuery;
    let kind: 'intra' | 'cross' = 'intra';
    if (u < 0.02) {
      q = { id, type, text: 'how is the weather in the core network today' };
    } else if (u < 0.72) {
      const f = cat.features[clientRng.int(F)];
      q =
        clientRng.next() < 0.5
          ? { id, type, text: `How do I tune ${f.id} (${f.name})?` }
          : { id, type, text: 'question about one feature', features: [f.id] };
    } else {
      kind = 'cross';
      const a = cat.features[clientRng.int(F)];
      let b = cat.features[clientRng.int(F)];
      for (let k = 0; k < 8 && b.category === a.category; k++) b = cat.features[clientRng.int(F)];
      if (b.category === a.category) kind = 'intra';
      q = { id, type, text: `Does ${a.id} interact with ${b.id}?`, features: [a.id, b.id] };
    }
    q.context = { complexity };
    sendQuery(q, complexity, kind);
  };

  const conflictPairs: [string, string][] = [];
  for (const f of cat.features) {
    if (f.activation_order.length > 3) continue;
    for (const g of f.conflicts) {
      const gf = cat.get(g);
      if (gf && f.id < g && gf.activation_order.length <= 3) conflictPairs.push([f.id, g]);
    }
  }
  let nextPair = 0;

  const workloadCommand = () => {
    const m = oracle();
    if (m === null) return;
    const at_ms = 0;
    const u = clientRng.next();
    if (openSet === null && conflictPairs.length > 0 && u < 0.15) {
      for (let tries = 0; tries < conflictPairs.length; tries++) {
        const [a, b] = conflictPairs[nextPair++ % conflictPairs.length];
        const da = m.dependencyCheck(a);
        const db = m.dependencyCheck(b);
        if (!(da.ok && db.ok && da.can_activate_with_prerequisites && db.can_activate_with_prerequisites))
          continue;
        const set: ConflictSet = { features: [a, b], wins: new Set(), open: true, pending: 2 };
        conflictSets.push(set);
        openSet = set;
        const close = () => {
          if (--set.pending > 0) return;
          sim.after(500, () => {
            set.open = false;
            if (openSet === set) openSet = null;
          });
        };
        // The two activations go, at the same instant, to two different coordinators.
        const first = clientRng.int(C);
        const targets = [first, (first + 1 + clientRng.int(C - 1)) % C];
        for (const [k, f] of [a, b].entries())
          issueCommand(
            { op: 'activate', feature: f, with_prerequisites: true, at_ms },
            'conflict',
            (r, reason) => {
              recordCommand({ op: 'activate', feature: f, at_ms }, r, reason);
              close();
            },
            targets[k],
          );
        return;
      }
    }
    if (openSet !== null && u < 0.5) return; // no other activations while a conflict set is open
    let cmd: Command;
    const active = m.activeFeatures();
    if (u < 0.45) {
      const f = cat.features[clientRng.int(F)];
      cmd = { op: 'activate', feature: f.id, with_prerequisites: clientRng.next() < 0.7, at_ms };
    } else if (u < 0.6 && active.length > 0) {
      const f = active[clientRng.int(active.length)];
      cmd = { op: 'deactivate', feature: f, cascade: clientRng.next() < 0.3, at_ms };
    } else if (u < 0.88 && cat.zones.length > 0) {
      const withZones = active.filter((f) => cat.zonesFor(f).length > 0);
      if (withZones.length === 0) return;
      const f = withZones[clientRng.int(withZones.length)];
      const zs = cat.zonesFor(f);
      const z = zs[clientRng.int(zs.length)];
      const zone = m.zone(z.parameter) ?? z;
      const cur = m.value(f, z.parameter) ?? (zone.safe_min + zone.safe_max) / 2;
      const step = clientRng.next() < 0.1 ? 0.5 : 0.05;
      const v =
        cur === 0 ? (zone.safe_max - zone.safe_min) * 0.01 : cur * (1 + step * (clientRng.next() * 2 - 1));
      cmd = { op: 'set_parameter', feature: f, parameter: z.parameter, value: Number(v.toFixed(3)), at_ms };
    } else {
      const z = cat.zones[clientRng.int(cat.zones.length)];
      const zone = m.zone(z.parameter) ?? z;
      const span = zone.safe_max - zone.safe_min;
      const bad = clientRng.next() < 0.1;
      cmd = {
        op: 'update_safe_zone',
        parameter: z.parameter,
        zone: {
          absolute_min: zone.absolute_min,
          absolute_max: zone.absolute_max,
          safe_min: bad ? zone.safe_max + 1 : Math.max(zone.absolute_min, zone.safe_min + span * 0.05),
          safe_max: bad ? zone.safe_min : zone.safe_max,
          change_limit_percent: zone.change_limit_percent,
          cooldown_seconds: zone.cooldown_seconds,
        },
        at_ms,
      };
    }
    if (openSet !== null && (cmd.op === 'activate' || cmd.op === 'deactivate')) return;
    issueCommand(cmd, 'workload', (r, reason) => recordCommand(cmd, r, reason));
  };

  // ---- start everything --------------------------------------------------------------------------
  for (const r of replicas) r.start();
  const raftTick = () => {
    for (const r of replicas) r.tick();
    sim.after(tickMs, raftTick);
  };
  sim.after(tickMs, raftTick);
  if (useCore) for (let n = 0; n < C + F; n++) gBoot(n);
  else for (let c = 0; c < C; c++) startCoordHeartbeat(c);
  for (let i = 0; i < F; i++) startAgent(i);

  // Agent registration (the routing index) through the log, from t = 300 ms.
  sim.after(300, () => {
    cat.features.forEach((f, i) => {
      sim.after(Math.floor(i / 40) * 50, () =>
        issueCommand(
          { op: 'register_agent', agent: agentName(f.id), feature: f.id, at_ms: 0 },
          'register',
          (r, reason) =>
            recordCommand(
              { op: 'register_agent', agent: agentName(f.id), feature: f.id, at_ms: 0 },
              r,
              reason,
            ),
        ),
      );
    });
  });

  const workStart = 2000;
  const durationMs = o.durationMs;
  let issued = 0;
  const scheduleQuery = () => {
    const gap = -Math.log(1 - clientRng.next()) * (1000 / o.queryRate);
    sim.after(gap, () => {
      if (sim.now >= durationMs) return;
      issued++;
      issueQuery();
      scheduleQuery();
    });
  };
  if (o.queryRate > 0) sim.after(workStart, scheduleQuery);
  const scheduleCommand = () => {
    sim.after(500 + clientRng.next() * 1500, () => {
      if (sim.now >= durationMs - 10_000) return;
      workloadCommand();
      scheduleCommand();
    });
  };
  sim.after(workStart + 1000, scheduleCommand);

  // ---- faults ----------------------------------------------------------------------------------------
  const faultCounts = new Map<string, number>();
  const crashedAt = new Map<number, number>();
  const detectionMs: number[] = [];
  const excusedUntil = new Float64Array(C + F + 1);
  let lossyUntil = 0;
  let excusedSuspicions = 0;
  const coordKinds = o.faults;
  const agentKinds = o.faults.filter((k) => k === 'crash' || k === 'pause' || k.startsWith('partition'));
  const horizon = Math.max(0, durationMs - 8000);
  const gap = o.faultGapMs ?? 4000;
  const coordSchedule = randomSchedule(sim.rng('faults/coordinators'), {
    nodes: C,
    durationMs: horizon,
    kinds: coordKinds,
    meanGapMs: gap,
    meanDurationMs: 2000,
    maxVictims: 6,
  });
  const agentSchedule = randomSchedule(sim.rng('faults/agents'), {
    nodes: F,
    durationMs: horizon,
    kinds: agentKinds,
    meanGapMs: gap,
    meanDurationMs: 4000,
    maxVictims: 40,
  });
  installSchedule(sim, coordSchedule, {
    onStart: (f) => {
      bump(faultCounts, `coordinator ${f.kind}`);
      // A paused, crashed or skewed monitor misjudges its members for a while; a lossy network delays beats.
      const until = sim.now + f.durationMs + 5000;
      if (
        f.kind === 'pause' ||
        f.kind === 'crash' ||
        f.kind === 'clock-skew' ||
        f.kind.startsWith('partition')
      )
        for (const n of f.nodes) excusedUntil[n] = until;
      if (f.kind === 'loss' || f.kind === 'spike' || f.kind === 'reorder' || f.kind.startsWith('partition'))
        lossyUntil = Math.max(lossyUntil, until);
    },
  });
  installSchedule(sim, agentSchedule, {
    nodeId: (i) => C + i,
    onStart: (f) => {
      bump(faultCounts, `agent ${f.kind}`);
      if (f.kind === 'crash')
        for (const n of f.nodes) {
          crashedAt.set(C + n, sim.now);
          detectedCrash.delete(C + n);
        }
      // Paused, crashed or cut-off agents are rightly suspected (a partial partition too: monitors on the
      // far side suspect, and the rumor reaches a coordinator that still hears the agent).
      if (f.kind === 'pause' || f.kind === 'crash' || f.kind.startsWith('partition'))
        for (const n of f.nodes) excusedUntil[C + n] = sim.now + f.durationMs + 5000;
      // A partition splits the agents in two: suspicions on either side are the fault's.
      if (f.kind.startsWith('partition')) lossyUntil = Math.max(lossyUntil, sim.now + f.durationMs + 5000);
    },
    onEnd: (f) => {
      if (f.kind === 'crash')
        for (const n of f.nodes) {
          crashedAt.delete(C + n);
          // The core suspects ~4.5 s after the last heartbeat (phi 8 with a 3 s acceptable pause): a crash
          // shorter than that ends in a restart (a new generation) before anyone could tell.
          if (useCore && !detectedCrash.has(C + n)) crashesRecoveredUndetected++;
        }
    },
  });

  for (const k of o.crashCategories ?? []) {
    const ci = catIndex.get(k.category);
    if (ci === undefined) continue;
    sim.after(k.atMs, () => {
      bump(faultCounts, 'agent crash (scripted)');
      for (const n of categoryAgents[ci]) {
        sim.crash(n);
        crashedAt.set(n, sim.now);
        detectedCrash.delete(n);
      }
    });
  }

  // ---- sampling: leader/term timeline, membership, policy quality, replica agreement ------------
  const tl = {
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
  let lastCommitN = 0;
  let lastIntraN = 0;
  let lastCrossN = 0;
  const maxFrom = (xs: number[], from: number) => {
    let m = 0;
    for (let i = from; i < xs.length; i++) if (xs[i] > m) m = xs[i];
    return round3(m);
  };
  const quality: [number, number][] = [];
  /** Replica agreement is checked every 10 s in short runs, about 60 times in long ones. */
  const replicaCheckMs = Math.max(10_000, Math.round(durationMs / 60 / 10_000) * 10_000);
  let leaderChanges = 0;
  let lastLeader = -1;
  let falseSuspicions = 0;
  let livenessReady = false;
  const suspected = new Uint8Array(F);
  let lastAnswered = 0;
  let lastFailed = 0;
  const totalFailed = () => [...failedBy.values()].reduce((s, x) => s + x, 0);

  const policyQuality = (): number => {
    let good = 0;
    let total = 0;
    for (let i = 0; i < F; i++) {
      const a = agents[i];
      if (a === null || a.malicious) continue;
      for (const s of OWN_STATES) {
        total++;
        if (a.strictBest(s.state) === idealAction(s.type, s.complexity)) good++;
      }
    }
    return total === 0 ? 0 : round3(good / total);
  };

  const checkReplicas = () => {
    const byIndex = new Map<number, { id: number; snap: string }>();
    for (const r of replicas) {
      if (!r.up) continue;
      const s = r.machine.snapshot();
      const key = `${s.length}:${fnv1a(s)}`;
      const other = byIndex.get(r.appliedIndex);
      if (other === undefined) byIndex.set(r.appliedIndex, { id: r.id, snap: key });
      else if (other.snap !== key)
        violate(
          'replicas-differ',
          `${nodeName(other.id)} and ${nodeName(r.id)} differ at applied index ${r.appliedIndex}`,
        );
      for (const v of r.machine.invariants())
        violate(`state-machine ${v.kind}`, `${nodeName(r.id)} at ${r.appliedIndex}: ${v.message}`);
    }
  };

  const sampleSecond = () => {
    const now = sim.now;
    let leader = -1;
    let term = 0;
    let commit = 0;
    for (const r of replicas) {
      const rf = r.raft;
      if (rf === null) continue;
      if (rf.role === Role.Leader && rf.term >= term) {
        leader = r.id;
        term = rf.term;
      }
      if (rf.term > term && leader < 0) term = rf.term;
      commit = Math.max(commit, rf.log.committed);
    }
    if (leader >= 0 && leader !== lastLeader) {
      if (lastLeader >= 0) leaderChanges++;
      lastLeader = leader;
    }
    let up = 0;
    let seen = 0;
    for (let i = 0; i < F; i++) {
      const node = C + i;
      const isUp = sim.status(node) === 'up';
      if (isUp) up++;
      const c = agentCategory[i];
      const alive = replicas[c].up && isAlive(c, node, sim.localTime(c));
      if (alive) seen++;
      if (replicas[c].up && livenessReady) {
        if (!alive && suspected[i] === 0) {
          suspected[i] = 1;
          const t0 = crashedAt.get(node);
          if (t0 !== undefined) {
            if (!useCore) detectionMs.push(now - t0); // the core's detections come from its events
          } else if (isUp && (excusedUntil[node] > now || excusedUntil[c] > now || lossyUntil > now))
            excusedSuspicions++;
          else if (isUp) falseSuspicions++;
        } else if (alive) suspected[i] = 0;
      }
    }
    // Sampling starts once every up agent has been seen alive (the core's membership formed; the lite
    // adapter's first heartbeats) or after 20 s: before that "not seen yet" is not a suspicion.
    if (!livenessReady && now >= 5000 && (seen === up || now >= 20_000)) livenessReady = true;
    tl.t_s.push(Math.round(now / 1000));
    tl.leader.push(leader);
    tl.term.push(term);
    tl.commit_index.push(commit);
    tl.agents_up.push(up);
    tl.agents_seen_alive.push(seen);
    tl.queries_answered.push(answered - lastAnswered);
    const tf = totalFailed();
    tl.queries_failed.push(tf - lastFailed);
    lastAnswered = answered;
    lastFailed = tf;
    tl.commit_latency_max_ms.push(maxFrom(commitLatency, lastCommitN));
    tl.query_latency_max_ms.push(Math.max(maxFrom(latIntra, lastIntraN), maxFrom(latCross, lastCrossN)));
    lastCommitN = commitLatency.length;
    lastIntraN = latIntra.length;
    lastCrossN = latCross.length;
    if (Math.round(now) % 30_000 === 0) quality.push([Math.round(now / 1000), policyQuality()]);
    if (Math.round(now) % replicaCheckMs === 0) checkReplicas();
  };

  quality.push([0, policyQuality()]);
  const wallStart = performance.now();
  const endMs = durationMs + deadlineMs + 1000;
  for (let t = 0; t < endMs; ) {
    const next = Math.min(endMs, t + 1000);
    sim.runUntil(next);
    t = next;
    sampleSecond();
    onProgress?.(Math.min(t, durationMs), durationMs);
  }
  const wallMs = performance.now() - wallStart;
  checkReplicas();
  if (quality[quality.length - 1][0] !== Math.round(endMs / 1000))
    quality.push([Math.round(endMs / 1000), policyQuality()]);

  for (const v of checker.violations) violate(`raft ${v.invariant}`, v.detail);
  const hung = queries.size;
  let exactlyOne = 0;
  let none = 0;
  for (const s of conflictSets) {
    if (s.wins.size === 1) exactlyOne++;
    else if (s.wins.size === 0) none++;
    else violate('conflicting-activations', `${s.features.join(' and ')} were both activated`);
  }

  // Learning totals.
  let deltasMerged = 0;
  let patternsApplied = 0;
  let feedbacks = 0;
  const refusedDeltas = new Map<string, number>();
  for (const a of agents) {
    if (a === null) continue;
    deltasMerged += a.stats.deltasMerged;
    patternsApplied += a.stats.patternsApplied;
    feedbacks += a.stats.feedbacks;
    for (const [k, v] of a.stats.refused) bump(refusedDeltas, k, v);
  }
  let finalTerm = 0;
  let snapshots = 0;
  let duplicates = 0;
  for (const r of replicas) {
    duplicates += r.duplicatesSkipped;
    finalTerm = Math.max(finalTerm, r.raft?.term ?? 0);
    snapshots += r.snapshotsTaken;
  }
  const acc = sim.accounting;
  const raftMsgs = [...acc.byType].filter(([k]) => k.startsWith('Msg') || /^[A-Z]/.test(k));
  const typeCount = (k: string) => acc.byType.get(k)?.messages ?? 0;
  const gossipKinds = [...acc.byType]
    .filter(([k]) => k.startsWith('gossip/'))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  /** The core's cost per member and second of simulated time, by message kind (UDP/IP headers included). */
  const coreTraffic = () => {
    const per = (C + F) * (endMs / 1000);
    const by_kind: Record<string, { messages_per_member_per_s: number; bytes_per_member_per_s: number }> = {};
    let m = 0;
    let b = 0;
    for (const [k, c] of gossipKinds) {
      m += c.messages;
      b += c.bytes;
      by_kind[k] = {
        messages_per_member_per_s: Number((c.messages / per).toFixed(2)),
        bytes_per_member_per_s: Number((c.bytes / per).toFixed(1)),
      };
    }
    return {
      messages_per_member_per_s: Number((m / per).toFixed(2)),
      bytes_per_member_per_s: Number((b / per).toFixed(1)),
      by_kind,
    };
  };
  const l = (xs: number[]) => {
    const s = summarize(xs, 1);
    return { p50: s.p50, p99: s.p99 };
  };
  const failedTotal = totalFailed();

  return {
    scenario: 'swarm',
    seed: o.seed,
    duration_ms: durationMs,
    options: {
      query_rate: o.queryRate,
      faults: [...o.faults],
      byzantine: o.byzantine,
      coordinators: C,
      agents: F,
      gossip_interval_ms: gossipMs,
      heartbeat_ms: heartbeatMs,
      tick_ms: tickMs,
      sync_interval_ms: syncMs,
      gossip: usePools ? 'pools' : useCore ? 'core' : 'lite',
      query_deadline_ms: deadlineMs,
    },
    invariant_violations: violations,
    queries: {
      issued,
      answered,
      failed_by_reason: sortedRecord(failedBy),
      hung,
      latency_ms: { intra: l(latIntra), cross: l(latCross) },
      cross_category: latCross.length,
      answers_with_raft_index: answersWithIndex,
      accounted: answered + failedTotal + hung === issued,
    },
    activations: {
      accepted,
      rejected_by_reason: sortedRecord(rejectedBy),
      failed_by_reason: sortedRecord(cmdFailedBy),
      conflict_sets: { issued: conflictSets.length, exactly_one_won: exactlyOne, none_committed: none },
    },
    control_plane: {
      commands_committed: commandsCommitted,
      agents_registered: registered,
      by_op: sortedRecord(byOp),
      other_refusals: sortedRecord(refusedByCode),
    },
    learning: {
      byzantine_agents: malicious.reduce((s, x) => s + x, 0),
      feedbacks,
      policy_quality: quality,
      initial_quality: quality[0][1],
      final_quality: quality[quality.length - 1][1],
      delta_messages: deltaMsgs,
      deltas_merged: deltasMerged,
      deltas_refused_by_reason: sortedRecord(refusedDeltas),
      patterns_broadcast: patternsBroadcast,
      patterns_applied: patternsApplied,
      patterns_ignored_already_learned: patternsIgnored,
      pattern_messages: patternMsgs,
    },
    raft: {
      voters: C,
      quorum: (C >> 1) + 1,
      final_term: finalTerm,
      leader_changes: leaderChanges,
      commit_index: tl.commit_index[tl.commit_index.length - 1] ?? 0,
      commit_latency_ms: summarize(commitLatency, 1),
      snapshots,
      duplicate_entries_skipped: duplicates,
      messages: raftMsgs.reduce((s, [, c]) => s + c.messages, 0),
    },
    gossip: {
      implementation: usePools
        ? 'gossip core (src/gossip) in pools: one per category (its coordinator as hub and its agents: health; signed Q-table deltas as user messages to 3 category peers; patterns) and one of the 14 coordinators (their health; patterns relayed between categories)'
        : useCore
          ? 'gossip core (src/gossip) in one pool of all members: ring monitors, phi-accrual, Lifeguard suspicion, Scuttlebutt; deltas on the state channel, patterns on the pattern channel'
          : 'lite: heartbeat + phi-accrual adapter (src/sim/swarm/liveness.ts), deltas and patterns as direct messages',
      gossip_core_messages: gossipKinds.reduce((s, [, c]) => s + c.messages, 0),
      members: C + F,
      heartbeats: useCore ? typeCount('gossip/heartbeat') : heartbeats,
      heartbeat_messages: useCore ? typeCount('gossip/heartbeat') : typeCount('hb'),
      ...(useCore ? coreTraffic() : {}),
      failure_detection: {
        agent_crashes_detected: detectionMs.length,
        detection_ms: summarize(detectionMs, 0),
        suspicions_explained_by_faults: excusedSuspicions,
        false_suspicions: falseSuspicions,
        ...(useCore
          ? {
              crashes_recovered_before_detection: crashesRecoveredUndetected,
              false_deaths: coreFalseDeaths,
              deaths_during_faults: coreExcusedDeaths,
            }
          : {}),
      },
      delta_messages: useCore ? deltaMsgs : typeCount('delta'),
      pattern_messages: useCore ? patternMsgs : typeCount('pattern'),
      ...(useCore
        ? {
            deltas_received: gossipDeltasReceived,
            patterns_received: gossipPatternsReceived,
            ...(usePools
              ? {
                  patterns_relayed: patternsRelayed,
                  patterns_received_from_other_categories: gossipPatternsRelayedIn,
                }
              : {}),
            refused_by_reason: sortedRecord(gossipRefused),
            counters: gossipMetrics.toJSON(),
          }
        : {}),
    },
    network: acc.summary(),
    faults_injected: sortedRecord(faultCounts),
    timeline: { ...tl, policy_quality: quality, commit_latency_ms: summarize(commitLatency, 1) },
    trace_hash: sim.traceHash(),
    events: sim.eventsProcessed,
    perf: {
      wall_ms: Math.round(wallMs),
      sim_speedup: Number((endMs / Math.max(wallMs, 1e-9)).toFixed(1)),
    },
  };
}

export type SwarmReport = ReturnType<typeof runSwarm>;
