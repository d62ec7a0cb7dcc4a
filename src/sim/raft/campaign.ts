import { deriveSeed, ElexError, type Rng, summarize } from '../../core/index.js';
import {
  ConfChangeType,
  DEFAULT_MAX_SESSIONS,
  EntryType,
  encodeKv,
  KvOp,
  type KvResult,
  KvStateMachine,
  SESSION_EXPIRED,
} from '../../raft/index.js';
import { FAULT_KINDS, type Fault, installSchedule, randomSchedule } from '../faults.js';
import type { InvariantChecker, Violation } from './checkers.js';
import { RaftCluster } from './cluster.js';
import { checkHistory, type HistoryOp } from './linearizability.js';
import type { Mutation } from './mutations.js';

export interface CampaignOptions {
  runs: number;
  seed: number;
  nodes: number;
  durationMs: number;
  mutation?: Mutation;
  /** Stop at the first run that catches something (mutation mode). */
  stopOnCatch?: boolean;
  clients?: number;
  /**
   * The KV machine's session bound (default `DEFAULT_MAX_SESSIONS`). Below the number of clients, sessions
   * expire under load, and a retry in an expired one must be refused, never executed again.
   */
  maxSessions?: number;
  /** Only this run seed (replaying a reported failure). */
  runSeed?: number;
}

export interface RunResult {
  runSeed: number;
  violations: Violation[];
  linearizable: boolean;
  ackedWrites: number;
  lostAckedWrites: number;
  elections: number;
  recoveriesMs: number[];
  snapshotsInstalled: number;
  ops: number;
  incompleteOps: number;
  confChanges: number;
  transfers: number;
  /** Writes refused because their session had expired (the client gave them up as unknown and reopened). */
  sessionRefusals: number;
}

const KEYS = ['a', 'b', 'c', 'd'];
const ATTEMPT_MS = 250;
const OP_DEADLINE_MS = 2000;
const CLIENT_HOP_MS = 0.2;

interface ClientOp extends HistoryOp {
  client: number;
  seq: number;
  /** Attempts that reached a node in the current (client, seq). */
  sent: number;
}

/**
 * Sequential clients issuing puts, CASes, deletes and reads, retrying on other nodes until a deadline. Each
 * first opens its session (a register entry; the entry's index is the session's id), then runs in it.
 */
class Clients {
  readonly history: ClientOp[] = [];
  private stopped = false;
  private readonly lastSeen = new Map<string, string | null>();
  /** Names each register attempt's answer on the node it was sent to. */
  private nonce = 0;
  /** Writes refused as `E_SESSION_EXPIRED`. */
  sessionRefusals = 0;

  constructor(
    private readonly cluster: RaftCluster,
    private readonly rng: Rng,
    count: number,
  ) {
    const n = cluster.nodes.length;
    for (let c = 1; c <= count; c++)
      this.cluster.sim.after(rng.next() * 20, () =>
        this.open(rng.int(n), (session) => this.next(session, 1)),
      );
  }

  /** Registers a session through `target`, trying other nodes until one answers; then `then(session)`. */
  private open(target: number, then: (session: number) => void): void {
    if (this.stopped) return;
    const sim = this.cluster.sim;
    let answered = false;
    const retry = () => {
      if (answered) return;
      answered = true;
      sim.after(20 + this.rng.next() * 20, () => this.open(this.pickTarget(target), then));
    };
    sim.after(ATTEMPT_MS, retry);
    if (!sim.isUp(target)) return;
    // A register that applies after its attempt was given up opens a session nobody uses; the bound expires it.
    const cmd = encodeKv({ op: KvOp.Register, client: 0, seq: ++this.nonce, key: '' });
    sim.setTimer(target, CLIENT_HOP_MS, () => {
      this.cluster.nodes[target].clientWrite(cmd, (res: KvResult | null) => {
        if (res === null || res.error !== undefined || res.value === null) {
          sim.after(CLIENT_HOP_MS, retry);
          return;
        }
        const session = Number(res.value);
        sim.after(CLIENT_HOP_MS, () => {
          if (answered) return;
          answered = true;
          then(session);
        });
      });
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private next(client: number, seq: number): void {
    if (this.stopped) return;
    const r = this.rng;
    const key = KEYS[r.int(KEYS.length)];
    const p = r.next();
    const value = `v${client}.${seq}`;
    let op: ClientOp;
    const base = {
      key,
      client,
      seq,
      sent: 0,
      call: this.cluster.sim.now,
      ret: Number.POSITIVE_INFINITY,
      ok: false,
      out: null,
    };
    if (p < 0.4) op = { ...base, kind: 'put', value, expected: null };
    else if (p < 0.6) op = { ...base, kind: 'cas', value, expected: this.lastSeen.get(key) ?? null };
    else if (p < 0.65) op = { ...base, kind: 'delete', value: null, expected: null };
    else op = { ...base, kind: 'get', value: null, expected: null };
    this.history.push(op);
    this.attempt(op, r.int(this.cluster.nodes.length));
  }

  private attempt(op: ClientOp, target: number): void {
    const sim = this.cluster.sim;
    if (op.ret !== Number.POSITIVE_INFINITY) return;
    if (sim.now - op.call > OP_DEADLINE_MS) {
      // Give up: the outcome stays unknown (ret = +∞) and the client moves on.
      sim.after(10, () => this.next(op.client, op.seq + 1));
      return;
    }
    let answered = false;
    const done = (ok: boolean, out: string | null) => {
      if (answered || op.ret !== Number.POSITIVE_INFINITY) return;
      answered = true;
      op.ret = sim.now;
      op.ok = ok;
      op.out = out;
      if (op.kind === 'get' || op.kind === 'put' || (op.kind === 'cas' && ok))
        this.lastSeen.set(op.key, op.kind === 'get' ? out : op.value);
      sim.after(this.rng.next() * 5, () => this.next(op.client, op.seq + 1));
    };
    const retry = () => {
      if (answered) return;
      answered = true;
      sim.after(20 + this.rng.next() * 20, () => this.attempt(op, this.pickTarget(target)));
    };
    // The session expired: refused, not executed. Refused at its only attempt, nothing applied, so the op goes
    // again in a new session (as KvClient does); after other attempts one may have applied, so its outcome
    // stays unknown (ret = +∞) and the client goes on in a new session.
    const expired = () => {
      if (answered || op.ret !== Number.POSITIVE_INFINITY) return;
      answered = true;
      this.sessionRefusals++;
      this.open(this.pickTarget(target), (session) => {
        if (op.sent > 1) return this.next(session, 1);
        op.client = session;
        op.seq = 1;
        op.sent = 0;
        this.attempt(op, this.pickTarget(target));
      });
    };
    const node = this.cluster.nodes[target];
    sim.after(ATTEMPT_MS, retry);
    if (!sim.isUp(target)) return;
    sim.setTimer(target, CLIENT_HOP_MS, () => {
      if (op.kind === 'get') {
        node.clientRead(
          op.key,
          (v) => sim.after(CLIENT_HOP_MS, () => done(true, v)),
          () => sim.after(CLIENT_HOP_MS, retry),
        );
        return;
      }
      const cmd =
        op.kind === 'put'
          ? encodeKv({ op: KvOp.Put, client: op.client, seq: op.seq, key: op.key, value: op.value! })
          : op.kind === 'delete'
            ? encodeKv({ op: KvOp.Delete, client: op.client, seq: op.seq, key: op.key })
            : encodeKv({
                op: KvOp.Cas,
                client: op.client,
                seq: op.seq,
                key: op.key,
                expected: op.expected,
                value: op.value!,
              });
      op.sent++;
      node.clientWrite(cmd, (res: KvResult | null) => {
        if (res?.error === SESSION_EXPIRED) sim.after(CLIENT_HOP_MS, expired);
        else if (res === null || res.error !== undefined) sim.after(CLIENT_HOP_MS, retry);
        else sim.after(CLIENT_HOP_MS, () => done(res.ok, res.value));
      });
    });
  }

  /** Prefer the known leader, else another node. */
  private pickTarget(prev: number): number {
    const l = this.cluster.leader();
    if (l !== null && this.rng.next() < 0.7) return l.id;
    const n = this.cluster.nodes.length;
    return (prev + 1 + this.rng.int(n - 1)) % n;
  }
}

/** Random leadership transfers and single-server membership cycles (remove → learner → voter). */
function scheduleAdmin(
  cluster: RaftCluster,
  rng: Rng,
  untilMs: number,
  counts: { conf: number; transfers: number },
) {
  const sim = cluster.sim;
  const n = cluster.nodes.length;
  const tick = () => {
    if (sim.now >= untilMs) return;
    const l = cluster.leader();
    if (l !== null && l.rn !== null) {
      const r = l.raft!;
      const missing = [...Array(n).keys()].filter((i) => !r.conf.voters.includes(i));
      const p = rng.next();
      try {
        if (missing.length > 0 && p < 0.5) {
          const x = missing[0];
          const isLearner = r.conf.learners.includes(x);
          l.rn.proposeConfChange({
            type: isLearner ? ConfChangeType.AddVoter : ConfChangeType.AddLearner,
            node: x,
          });
          counts.conf++;
        } else if (missing.length === 0 && n >= 3 && p < 0.15) {
          const x = rng.int(n);
          l.rn.proposeConfChange({ type: ConfChangeType.Remove, node: x });
          counts.conf++;
        } else if (p > 0.85) {
          const to = r.conf.voters[rng.int(r.conf.voters.length)];
          if (to !== l.id) {
            l.rn.transferLeadership(to);
            counts.transfers++;
          }
        }
        l.guard(() => {});
      } catch (e) {
        if (!(e instanceof ElexError)) throw e;
      }
    }
    sim.after(150 + rng.next() * 300, tick);
  };
  sim.after(300, tick);
}

function healAll(cluster: RaftCluster): void {
  const sim = cluster.sim;
  sim.heal();
  sim.setDefaultLink({ loss: 0, duplicate: 0, reorder: 0, spikeProb: 0 });
  for (const node of cluster.nodes) {
    sim.setClock(node.id, 0, 0);
    if (!sim.isUp(node.id)) sim.restart(node.id);
  }
}

/** Proposes whatever membership changes bring every node back as a voter (after the heal). */
function repairMembership(cluster: RaftCluster): boolean {
  const n = cluster.nodes.length;
  const l = cluster.stableLeader();
  if (l === null || l.rn === null) return false;
  const r = l.raft!;
  if (r.conf.voters.length === n) return true;
  const x = [...Array(n).keys()].find((i) => !r.conf.voters.includes(i))!;
  try {
    l.rn.proposeConfChange({
      type: r.conf.learners.includes(x) ? ConfChangeType.AddVoter : ConfChangeType.AddLearner,
      node: x,
    });
    l.guard(() => {});
  } catch (e) {
    if (!(e instanceof ElexError)) throw e;
  }
  return false;
}

function converged(cluster: RaftCluster): boolean {
  const l = cluster.stableLeader();
  if (l === null) return false;
  const r = l.raft!;
  if (r.conf.voters.length !== cluster.nodes.length) return false;
  if (r.log.term(r.log.committed) !== r.term) return false;
  for (const node of cluster.nodes) {
    const nr = node.raft;
    if (nr === null || node.kv.appliedIndex !== r.log.committed || nr.log.applied !== r.log.committed)
      return false;
  }
  return true;
}

function describe(cluster: RaftCluster): string {
  return cluster.nodes
    .map((n) => {
      const r = n.raft;
      if (r === null) return `n${n.id}:down`;
      return `n${n.id}:${['F', 'P', 'C', 'L'][r.role]} t${r.term} lead${r.lead} c${r.log.committed} a${r.log.applied} last${r.log.lastIndex()} v[${r.conf.voters}] l[${r.conf.learners}]`;
    })
    .join('; ');
}

/** What the end-of-run checks read of a node: its id and its KV machine. */
export interface FinalNode {
  readonly id: number;
  readonly kv: KvStateMachine;
}

/** The end-of-run checks' view of a client operation. */
export type FinalOp = Pick<ClientOp, 'kind' | 'ret' | 'client' | 'seq'>;

/**
 * The end-of-run checks, once every node converged: every acknowledged write is applied on every node, and
 * every node's state is byte-identical to the committed log's at its applied index (so nodes at the same
 * applied index hold identical state). Returns the acknowledged and lost counts.
 *
 * An acknowledged write is found in the committed log (`checker.committed`: every entry some node applied,
 * which State Machine Safety checked they agree on), replayed through a fresh KV machine to learn where each
 * (client, seq) executed; a node that did not apply that far lacks it. (A node's session seq alone cannot
 * say: it is the client's highest executed seq, so a lost write followed by a later one of the same client
 * looked applied.)
 */
export function checkFinalState(
  history: readonly FinalOp[],
  nodes: readonly FinalNode[],
  checker: Pick<InvariantChecker, 'violate' | 'committed'>,
  maxSessions?: number,
): { acked: number; lost: number } {
  const executedAt = new Map<string, number>();
  const replay = new KvStateMachine(
    (client, seq, index) => {
      const k = `${client}:${seq}`;
      if (!executedAt.has(k)) executedAt.set(k, index);
    },
    maxSessions !== undefined ? { maxSessions } : {},
  );
  // Each node's state must be the log's at its applied index (not merely equal to the others': a departure
  // every node shares, or one node behind the rest, was not seen).
  const byApplied = new Map<number, FinalNode[]>();
  let top = 0;
  for (const n of nodes) {
    top = Math.max(top, n.kv.appliedIndex);
    byApplied.set(n.kv.appliedIndex, [...(byApplied.get(n.kv.appliedIndex) ?? []), n]);
  }
  const compare = (i: number) => {
    const here = byApplied.get(i);
    if (here === undefined) return;
    const want = Buffer.from(replay.snapshot());
    for (const n of here)
      if (Buffer.compare(Buffer.from(n.kv.snapshot()), want) !== 0)
        checker.violate(
          'state-machine-safety',
          `node ${n.id} state differs from the committed log's at index ${i}`,
        );
  };
  compare(0);
  let replayed = 0;
  for (let i = 1; i <= top; i++) {
    const e = checker.committed.get(i);
    if (e === undefined) {
      // Every index was applied by someone (a snapshot is only ever of an applied state): a gap is a bug.
      checker.violate('state-machine-safety', `no node applied index ${i}, below applied index ${top}`);
      break;
    }
    if (e.type === EntryType.Normal) replay.apply(i, e.data);
    else replay.appliedIndex = i;
    replayed = i;
    compare(i);
  }
  // Every acknowledged write is applied exactly once on every node.
  let acked = 0;
  let lost = 0;
  for (const op of history) {
    if (op.kind === 'get' || op.ret === Number.POSITIVE_INFINITY) continue;
    acked++;
    const at = executedAt.get(`${op.client}:${op.seq}`);
    if (at === undefined) {
      lost++;
      checker.violate(
        'lost-acked-write',
        `client ${op.client} seq ${op.seq} was acknowledged but never executed in the committed log (1..${replayed})`,
      );
      continue;
    }
    for (const node of nodes) {
      // Applied that far, the node's state is the log's (compared above): it holds the write. (Its session
      // may have expired since, so the session's seq says nothing here.)
      if (node.kv.appliedIndex < at) {
        lost++;
        checker.violate(
          'lost-acked-write',
          `node ${node.id} (applied ${node.kv.appliedIndex}) lacks client ${op.client} seq ${op.seq} (executed at ${at})`,
        );
        break;
      }
    }
  }
  // State Machine Safety at the end: equal applied index, byte-identical state.
  const snaps = nodes.map((n) => n.kv.snapshot());
  for (let i = 1; i < snaps.length; i++) {
    if (nodes[i].kv.appliedIndex !== nodes[0].kv.appliedIndex) continue;
    if (Buffer.compare(Buffer.from(snaps[i]), Buffer.from(snaps[0])) !== 0)
      checker.violate(
        'state-machine-safety',
        `node ${nodes[i].id} state differs from node ${nodes[0].id} at the same applied index`,
      );
  }
  return { acked, lost };
}

export function runOne(runSeed: number, o: CampaignOptions): RunResult {
  const cluster = new RaftCluster({
    seed: runSeed,
    nodes: o.nodes,
    mutation: o.mutation,
    snapshotEvery: 40,
    snapshotKeep: 8,
    ...(o.maxSessions !== undefined ? { maxSessions: o.maxSessions } : {}),
  });
  const sim = cluster.sim;
  const checker = cluster.checker;
  const faults: Fault[] = randomSchedule(sim.rng('faults'), {
    nodes: o.nodes,
    durationMs: o.durationMs,
    kinds: FAULT_KINDS,
    meanGapMs: 250,
    meanDurationMs: 300,
    maxVictims: Math.max(1, Math.floor((o.nodes - 1) / 2)),
  });
  const recoveries: number[] = [];
  let pending: { at: number; term: number } | null = null;
  checker.onLeader = (_node, term) => {
    if (pending !== null && term > pending.term) {
      recoveries.push(sim.now - pending.at);
      pending = null;
    }
  };
  installSchedule(sim, faults, {
    onStart: (f) => {
      if (f.kind !== 'crash' || pending !== null) return;
      const l = cluster.leader();
      if (l !== null && f.nodes.includes(l.id)) pending = { at: sim.now, term: l.raft!.term };
    },
  });
  const counts = { conf: 0, transfers: 0 };
  scheduleAdmin(cluster, sim.rng('admin'), o.durationMs, counts);
  const clients = new Clients(cluster, sim.rng('clients'), o.clients ?? 3);

  let healAt = o.durationMs;
  for (const f of faults) healAt = Math.max(healAt, f.atMs + f.durationMs);
  healAt += 1;
  sim.runUntil(healAt);
  healAll(cluster);
  if (!sim.runUntilTrue(() => cluster.stableLeader() !== null, 2000))
    checker.violate('liveness', `no leader within 2 s of healing (at ${healAt} ms)`);
  // Bring every node back as a voter, retrying every 50 ms (a change proposed before the heal may still be
  // in flight and remove someone after we looked).
  let repairing = true;
  const repair = () => {
    if (!repairing) return;
    repairMembership(cluster);
    sim.after(50, repair);
  };
  repair();
  sim.runFor(300);
  clients.stop();
  // Let in-flight operations finish (their deadline is OP_DEADLINE_MS).
  sim.runFor(OP_DEADLINE_MS + ATTEMPT_MS);
  // A no-op-free nudge: the leader's commit must reach every node.
  if (!sim.runUntilTrue(() => converged(cluster), 5000))
    checker.violate('convergence', `nodes did not converge within 5 s after healing: ${describe(cluster)}`);
  repairing = false;

  const { acked, lost } = checkFinalState(clients.history, cluster.nodes, checker, o.maxSessions);
  const lin = checkHistory(clients.history);
  if (!lin.ok)
    checker.violate('linearizability', `key ${lin.key}${lin.exhausted ? ' (search budget exhausted)' : ''}`);
  return {
    runSeed,
    violations: checker.violations.filter((v) => v.invariant !== 'linearizability'),
    linearizable: lin.ok,
    ackedWrites: acked,
    lostAckedWrites: lost,
    elections: cluster.metrics.get('raft.elections'),
    recoveriesMs: recoveries,
    snapshotsInstalled: cluster.metrics.get('raft.snapshots_installed'),
    ops: clients.history.length,
    incompleteOps: clients.history.filter((h) => h.ret === Number.POSITIVE_INFINITY).length,
    confChanges: cluster.metrics.get('raft.conf_changes'),
    transfers: counts.transfers,
    sessionRefusals: clients.sessionRefusals,
  };
}

export interface CampaignReport {
  runs: number;
  seed: number;
  nodes: number;
  duration_ms: number;
  mutation: string | null;
  violations: Violation[];
  linearizability_failures: number;
  acked_writes: number;
  lost_acked_writes: number;
  elections: number;
  leader_recovery_ms: { p50: number; p99: number; max: number };
  snapshots_installed: number;
  client_ops: number;
  incomplete_ops: number;
  conf_changes_applied: number;
  transfers_requested: number;
  /** The KV machine's session bound, and the writes refused because their session had expired. */
  max_sessions: number;
  session_refusals: number;
  caught?: boolean;
  caught_at_run?: number | null;
}

export function runSeedFor(seed: number, i: number): number {
  return deriveSeed(seed, `raft-run/${i}`) >>> 1;
}

export function runCampaign(
  o: CampaignOptions,
  onProgress?: (done: number, total: number) => void,
): CampaignReport {
  const violations: Violation[] = [];
  let linFail = 0;
  let acked = 0;
  let lost = 0;
  let elections = 0;
  let snaps = 0;
  let ops = 0;
  let incomplete = 0;
  let conf = 0;
  let transfers = 0;
  let refusals = 0;
  const recov: number[] = [];
  let caughtAt: number | null = null;
  let runs = 0;
  const seeds =
    o.runSeed !== undefined ? [o.runSeed] : Array.from({ length: o.runs }, (_, i) => runSeedFor(o.seed, i));
  for (let i = 0; i < seeds.length; i++) {
    const r = runOne(seeds[i], o);
    runs++;
    if (violations.length < 50) violations.push(...r.violations.slice(0, 50 - violations.length));
    if (!r.linearizable) linFail++;
    acked += r.ackedWrites;
    lost += r.lostAckedWrites;
    elections += r.elections;
    snaps += r.snapshotsInstalled;
    ops += r.ops;
    incomplete += r.incompleteOps;
    conf += r.confChanges;
    transfers += r.transfers;
    refusals += r.sessionRefusals;
    recov.push(...r.recoveriesMs);
    onProgress?.(i + 1, seeds.length);
    const caught = r.violations.length > 0 || !r.linearizable || r.lostAckedWrites > 0;
    if (caught && caughtAt === null) {
      caughtAt = i + 1;
      if (o.stopOnCatch) break;
    }
  }
  const report: CampaignReport = {
    runs,
    seed: o.seed,
    nodes: o.nodes,
    duration_ms: o.durationMs,
    mutation: o.mutation ?? null,
    violations,
    linearizability_failures: linFail,
    acked_writes: acked,
    lost_acked_writes: lost,
    elections,
    leader_recovery_ms: summarize(recov, 1),
    snapshots_installed: snaps,
    client_ops: ops,
    incomplete_ops: incomplete,
    conf_changes_applied: conf,
    transfers_requested: transfers,
    max_sessions: o.maxSessions ?? DEFAULT_MAX_SESSIONS,
    session_refusals: refusals,
  };
  if (o.mutation !== undefined) {
    report.caught = caughtAt !== null;
    report.caught_at_run = caughtAt;
  }
  return report;
}
