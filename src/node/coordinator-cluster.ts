import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { Catalog, Feature } from '../swarm/index.js';
import { httpJson } from './http-client.js';
import { type Kill, KillSchedule, LocalProcesses, type Member } from './processes.js';

export interface CoordinatorClusterOptions {
  /** Replicas of the control plane (the swarm runs 14: quorum 8). */
  nodes: number;
  /** Features activated with their prerequisites, one command each. */
  activations: number;
  /** Pairs of conflicting features activated at once through two different coordinators. */
  conflictPairs: number;
  /** Queries after the commands, through random coordinators, each checked against the final state. */
  queries: number;
  concurrency: number;
  dir: string;
  elexBin: string;
  catalog: Catalog;
  /** SIGKILLs spread over the commands, each victim restarted before the next (`KillSchedule`). */
  kills: number;
  /** Followers SIGKILLed after the commands and not restarted, before the queries (`pickDown`; default 0). */
  down?: number;
  /** Followers SIGSTOPped after them (hung: connections to them open and hang), until the end (default 0). */
  stall?: number;
  /** Whether the coordinators run their gossip failure detector (default true; false: `--no-gossip`). */
  gossip?: boolean;
  progress?: (line: string) => void;
}

export interface CoordinatorClusterReport {
  coordinators: number;
  commands: number;
  /** Commands answered: accepted, or refused with a reason (by code). */
  accepted: number;
  refused: Record<string, number>;
  /**
   * Commands whose first attempt got no answer (timeout, leader change, dropped connection), retried after the
   * workload once every coordinator was back (`retryUnanswered`).
   */
  retried: number;
  /** Commands still without an answer after the retries: outcome unknown, each a violation. */
  unanswered: number;
  conflict_pairs: { issued: number; one_won: number; none_won: number; both_active: number };
  /**
   * Queries answered by the agents across coordinators; `stale` answers disagreed with the final state.
   * `standby`: queries with answers from standby agents (their coordinator was down), and those answers.
   */
  queries: {
    issued: number;
    ok: number;
    cross: number;
    standby: number;
    standby_answers: number;
    failed: Record<string, number>;
    stale: number;
    /** Each query's wall time, client side: a part that waits out a peer's timeout shows here. */
    latency_ms: { mean: number; p50: number; p99: number; max: number };
  };
  /**
   * What the coordinators the queries went through counted (`GET /agents`): parts asked of a standby, requests
   * that got no answer (each a refused connection or a timeout waited), and parts or ratings not asked of their
   * primary because it was remembered down or suspected by the gossip failure detector.
   */
  failover: { parts: number; unanswered: number; remembered: number; suspected: number };
  /** Whether the coordinators ran their gossip failure detector. */
  gossip: boolean;
  /**
   * Per coordinator taken down or stalled, ms from its SIGKILL or SIGSTOP until the first, and until every,
   * coordinator the queries went through saw it suspect or dead in its gossip view (null: not within 20 s, or no
   * gossip). Polled every 100 ms while the queries ran.
   */
  detection_ms: Record<string, { first: number | null; all: number | null }>;
  /** Coordinators SIGKILLed before the queries and left down (`--down`), and those SIGSTOPped (`--stall`). */
  down: number[];
  stalled: number[];
  /** Every coordinator's linearizable `GET /active` returned the same set. */
  replicas_agree: boolean;
  /** Rounds of re-reading before the views met (a command whose answer was lost committed meanwhile). */
  view_rereads: number;
  active_features: number;
  /** Wall time of the command phase (kills and restarts included), and answered commands per second in it. */
  workload_ms: number;
  answered_per_s: number;
  /** Broken invariants in the final state (must be empty). */
  violations: string[];
  /** Each SIGKILL, with the time to the first answer to a command issued after it. */
  kills: Kill[];
  elapsed_ms: number;
}

/** One replica's linearizable view: its active features (null: no answer) and the log index it reflects. */
export interface ReplicaView {
  id: number;
  active: readonly string[] | null;
  applied: number;
}

/**
 * The invariants of the control plane's final state, over every replica's linearizable view (null: it gave
 * none): all views equal; every accepted activation active; every active feature's prerequisites active; no
 * two active features in conflict. Returns the broken ones, in words.
 */
export function checkControlPlane(
  catalog: Catalog,
  views: readonly ReplicaView[],
  accepted: ReadonlySet<string>,
): { violations: string[]; agree: boolean; active: Set<string> } {
  const violations: string[] = [];
  for (const v of views)
    if (v.active === null) violations.push(`coordinator ${v.id} gave no linearizable view`);
  const canon = views.map((v) => (v.active === null ? null : [...v.active].sort().join()));
  const agree = canon.every((c) => c !== null && c === canon[0]);
  // Replicas that applied the same prefix of the log must hold the same state (State Machine Safety). Views
  // at different indexes may differ while a late command still commits; the caller re-reads until they meet.
  let safetyBroken = false;
  for (let i = 0; i < views.length; i++)
    for (let j = i + 1; j < views.length; j++)
      if (
        canon[i] !== null &&
        canon[j] !== null &&
        views[i].applied === views[j].applied &&
        canon[i] !== canon[j]
      ) {
        safetyBroken = true;
        violations.push(
          `coordinators ${views[i].id} and ${views[j].id} differ at applied index ${views[i].applied}`,
        );
      }
  if (!agree && !safetyBroken && canon.every((c) => c !== null))
    violations.push(
      `coordinators' views did not converge (applied ${views.map((v) => v.applied).join(', ')})`,
    );
  const active = new Set(views.find((v) => v.active !== null)?.active ?? []);
  for (const f of accepted) if (!active.has(f)) violations.push(`accepted ${f} is not active`);
  const reported = new Set<string>();
  for (const id of active) {
    const f = catalog.get(id);
    if (f === undefined) {
      violations.push(`unknown feature ${id} active`);
      continue;
    }
    for (const p of f.requires)
      if (!active.has(p)) violations.push(`${id} active without its prerequisite ${p}`);
    for (const c of f.conflicts) {
      const key = id < c ? `${id} and ${c}` : `${c} and ${id}`;
      if (active.has(c) && !reported.has(key)) {
        reported.add(key);
        violations.push(`${key} both active (they conflict)`);
      }
    }
  }
  return { violations, agree, active };
}

type Op = { kind: 'activate'; feature: Feature } | { kind: 'pair'; a: Feature; b: Feature };

/** Features to activate and conflicting pairs to race, disjoint, in catalogue order. */
function plan(catalog: Catalog, activations: number, pairs: number): Op[] {
  const used = new Set<string>();
  const pairOps: Op[] = [];
  for (const a of catalog.features) {
    if (pairOps.length >= pairs) break;
    const b = a.conflicts.map((id) => catalog.get(id)).find((f) => f !== undefined && !used.has(f.id));
    if (b === undefined || used.has(a.id)) continue;
    used.add(a.id).add(b.id);
    pairOps.push({ kind: 'pair', a, b });
  }
  const acts: Op[] = [];
  for (const f of catalog.features) {
    if (acts.length >= activations) break;
    if (!used.has(f.id)) acts.push({ kind: 'activate', feature: f });
  }
  // Interleave, so pairs race while activations (and the leader's kill) are under way.
  const out: Op[] = [];
  for (let i = 0; i < Math.max(acts.length, pairOps.length); i++) {
    if (i < acts.length) out.push(acts[i]);
    if (i < pairOps.length) out.push(pairOps[i]);
  }
  return out;
}

// The coordinators' replies, validated: a checker that took a malformed reply at its word would skip checks.
const activeReply = z.object({ features: z.array(z.string()), applied: z.number().int() });
const queryReply = z.object({
  ok: z.boolean(),
  reason: z.string().optional(),
  route: z.string().nullable(),
  answers: z.array(z.object({ feature: z.string(), content: z.object({ active: z.boolean() }) })),
  standby: z.array(z.string()),
});
const commandReply = z.object({ ok: z.boolean(), code: z.string().optional() });

/** Every coordinator's linearizable `GET /active` (retried while it has no leader). */
async function readViews(members: readonly Member[]): Promise<ReplicaView[]> {
  const out: ReplicaView[] = [];
  for (const m of members) {
    let view: ReplicaView = { id: m.id, active: null, applied: -1 };
    for (let attempt = 0; attempt < 50 && view.active === null; attempt++) {
      const r = await httpJson(m.http, 'GET', '/active');
      const b = r?.status === 200 ? activeReply.safeParse(r.body) : null;
      if (b?.success) view = { id: m.id, active: [...b.data.features].sort(), applied: b.data.applied };
      else await new Promise((res) => setTimeout(res, 100));
    }
    out.push(view);
  }
  return out;
}

const sameViews = (views: readonly ReplicaView[]) =>
  views.every((v) => v.active !== null && v.active.join() === views[0].active?.join());

/**
 * `o.queries` queries after the commands, each about two features of different categories (every fourth
 * about one), through the live coordinators in turn. Nothing changes the control plane any more, so every
 * agent's answer must say of its feature what the final state says (linearizable reads make that so at once).
 */
async function runQueries(
  o: CoordinatorClusterOptions,
  live: readonly Member[],
  active: ReadonlySet<string>,
  violations: string[],
): Promise<CoordinatorClusterReport['queries']> {
  const out = {
    issued: 0,
    ok: 0,
    cross: 0,
    standby: 0,
    standby_answers: 0,
    failed: {} as Record<string, number>,
    stale: 0,
    latency_ms: { mean: 0, p50: 0, p99: 0, max: 0 },
  };
  const took: number[] = [];
  const cats = o.catalog.categories;
  for (let i = 0; i < o.queries; i++) {
    const c1 = cats[(i * 5) % cats.length];
    const c2 = cats[(i * 5 + 3) % cats.length];
    const f1 = c1.features[(i * 7) % c1.features.length];
    const f2 = c2.features[(i * 11) % c2.features.length];
    const features = i % 4 === 3 ? [f1] : [f1, f2];
    const at = live[i % live.length];
    out.issued++;
    const t0 = performance.now();
    const r = await httpJson(
      at.http,
      'POST',
      '/query',
      JSON.stringify({ id: i + 1, type: 'parameter', text: '', features }),
      // Two timeouts (a primary and its standby both hung) and the answer still arrives.
      10_000,
    );
    took.push(performance.now() - t0);
    const p = r === null ? null : queryReply.safeParse(r.body);
    const body = p?.success ? p.data : null;
    if (body?.ok !== true) {
      const reason =
        body?.reason ??
        (r === null ? 'NO_ANSWER' : r.status === 200 && !p?.success ? 'BAD_REPLY' : `HTTP_${r.status}`);
      out.failed[reason] = (out.failed[reason] ?? 0) + 1;
      // A violation, not only a count: every query is meant to be answered (a quorum is up and every category
      // keeps its primary or its standby), and a run whose queries all failed used to pass.
      violations.push(`query ${i + 1} failed: ${reason}`);
      continue;
    }
    out.ok++;
    if (body.route === 'cross') out.cross++;
    if (body.standby.length > 0) out.standby++;
    out.standby_answers += body.standby.length;
    for (const a of body.answers)
      if (a.content.active !== active.has(a.feature)) {
        out.stale++;
        violations.push(
          `query ${i + 1}: ${a.feature} answered active=${a.content.active}, the control plane says ${active.has(a.feature)}`,
        );
      }
  }
  took.sort((a, b) => a - b);
  const at = (q: number) => (took.length === 0 ? 0 : Math.round(took[Math.ceil(q * took.length) - 1]));
  const mean = took.length === 0 ? 0 : Math.round(took.reduce((a, b) => a + b, 0) / took.length);
  out.latency_ms = { mean, p50: at(0.5), p99: at(0.99), max: at(1) };
  return out;
}

const agentsReply = z.object({
  failover: z.object({
    parts: z.number(),
    unanswered: z.number(),
    remembered: z.number(),
    suspected: z.number(),
  }),
});

const gossipView = z.object({ failover: z.object({ gossip: z.record(z.string(), z.string()).nullable() }) });

/** A coordinator's gossip view (`GET /agents`): each other id's liveness; null when it gives none. */
async function gossipOf(m: Member): Promise<Record<string, string> | null> {
  const r = await httpJson(m.http, 'GET', '/agents', undefined, 1000);
  const p = r?.status === 200 ? gossipView.safeParse(r.body) : null;
  return p?.success ? p.data.failover.gossip : null;
}

/** Waits (at most 15 s) until every coordinator's gossip view has every other one alive. */
async function gossipMet(members: readonly Member[], say: (line: string) => void): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < 15_000) {
    const views = await Promise.all(members.map(gossipOf));
    if (views.every((v) => v !== null && Object.values(v).every((s) => s === 'alive'))) {
      say(`gossip met: every coordinator sees the others alive (${Math.round(performance.now() - t0)} ms)`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  say('gossip had not met within 15 s: taking coordinators down anyway');
}

/**
 * How long the coordinators' failure detectors took to see each of `targets` (ids) suspect or dead: polls every
 * member's `GET /agents` every 100 ms, for at most `limitMs`, from `since` (performance.now() at the signal).
 */
async function watchDetection(
  members: readonly Member[],
  targets: readonly number[],
  since: number,
  limitMs = 20_000,
): Promise<CoordinatorClusterReport['detection_ms']> {
  const seen = new Map<number, Map<number, number>>(targets.map((t) => [t, new Map()]));
  const out: CoordinatorClusterReport['detection_ms'] = {};
  const done = () => [...seen.values()].every((by) => by.size === members.length);
  while (targets.length > 0 && !done() && performance.now() - since < limitMs) {
    await Promise.all(
      members.map(async (m) => {
        const view = await gossipOf(m);
        const at = Math.round(performance.now() - since);
        for (const t of targets) {
          const status = view?.[String(t)];
          if ((status === 'suspect' || status === 'dead') && !seen.get(t)!.has(m.id))
            seen.get(t)!.set(m.id, at);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const [t, by] of seen) {
    const times = [...by.values()];
    out[String(t)] = {
      first: times.length > 0 ? Math.min(...times) : null,
      all: times.length === members.length ? Math.max(...times) : null,
    };
  }
  return out;
}

/** The failover counters of the coordinators the queries went through, summed (one that gives none: 0). */
async function failoverCounts(members: readonly Member[]): Promise<CoordinatorClusterReport['failover']> {
  const sum = { parts: 0, unanswered: 0, remembered: 0, suspected: 0 };
  for (const m of members) {
    const r = await httpJson(m.http, 'GET', '/agents');
    const p = r?.status === 200 ? agentsReply.safeParse(r.body) : null;
    if (!p?.success) continue;
    for (const k of ['parts', 'unanswered', 'remembered', 'suspected'] as const) sum[k] += p.data.failover[k];
  }
  return sum;
}

/**
 * `k` coordinators to take down for good before the queries: never the leader, and every other id after it in
 * the sorted ids, so no two are next to each other and every category keeps its primary or its standby (the
 * next id) up. A quorum (the caller's check) leaves enough of them: k ≤ n − (⌊n/2⌋ + 1) ≤ ⌈(n − 1)/2⌉.
 */
export function pickDown(ids: readonly number[], leader: number, k: number): number[] {
  const sorted = [...ids].sort((a, b) => a - b);
  const at = sorted.indexOf(leader);
  const after = Array.from({ length: sorted.length - 1 }, (_, j) => sorted[(at + 1 + j) % sorted.length]);
  return [...after.filter((_, j) => j % 2 === 0), ...after.filter((_, j) => j % 2 === 1)].slice(0, k);
}

/**
 * SIGKILLs `o.down` followers and SIGSTOPs `o.stall` more (`pickDown`), neither restarted: the queries then run
 * without them. A stalled coordinator keeps its ports, so a request to it hangs until the asker's timeout.
 */
async function takeDown(
  o: CoordinatorClusterOptions,
  procs: LocalProcesses,
  say: (line: string) => void,
): Promise<{ down: number[]; stalled: number[] }> {
  const k = (o.down ?? 0) + (o.stall ?? 0);
  if (k === 0) return { down: [], stalled: [] };
  // A coordinator its peers have not heard of yet cannot be suspected: take down only once gossip has met.
  if (o.gossip ?? true) await gossipMet(procs.members, say);
  const leader = await procs.waitForLeader(15_000);
  const picked = pickDown(
    procs.members.map((m) => m.id),
    leader.id,
    k,
  );
  const down = picked.slice(0, o.down ?? 0);
  const stalled = picked.slice(down.length);
  const member = (id: number) => procs.members.find((m) => m.id === id)!;
  for (const id of down) procs.kill(member(id));
  for (const id of stalled) procs.stall(member(id));
  if (down.length > 0) say(`SIGKILL to ${down.join(', ')} (leader ${leader.id}), left down`);
  if (stalled.length > 0) say(`SIGSTOP to ${stalled.join(', ')} (leader ${leader.id}), left hung`);
  say('their categories go to standby agents');
  return { down, stalled };
}

type Answer = z.infer<typeof commandReply>;

/** One activation sent by the workload, its answer (null: none), and whether that answer is a retry's. */
interface Sent {
  feature: string;
  answer: Answer | null;
  retried: boolean;
}

/**
 * Whether a command's feature is active by the log's word: accepted, or refused ALREADY_ACTIVE on a retry (the
 * lost first attempt, or another command's prerequisites, activated it; nothing deactivates in this workload).
 */
const won = (c: Sent): boolean => c.answer?.ok === true || (c.retried && c.answer?.code === 'ALREADY_ACTIVE');

/** Attempts per unanswered command in `retryUnanswered`. */
const RETRY_ATTEMPTS = 5;

/**
 * Retries each command whose first attempt got no answer, once a leader is back (after the kill schedule has
 * settled), up to RETRY_ATTEMPTS times; fills in its answer. Returns how many were retried.
 *
 * Safe without client sessions (the coordinator API has none): the state machine refuses an activation of an
 * active feature (ALREADY_ACTIVE, checked before anything else) and applies it only when inactive, and nothing
 * in this workload deactivates, so a command applies at most once however often it is sent. And once a retry is
 * answered, the lost attempt's fate is settled: applied before it (the retry says ALREADY_ACTIVE), or never
 * (an entry the leader that committed the retry does not hold before it can no longer commit).
 */
async function retryUnanswered(
  procs: LocalProcesses,
  sent: Sent[],
  pick: () => Member,
  concurrency: number,
  say: (line: string) => void,
): Promise<number> {
  const todo = sent.filter((c) => c.answer === null);
  if (todo.length === 0) return 0;
  say(`${todo.length} commands got no answer: retrying them now that every coordinator is back`);
  let at = 0;
  const worker = async () => {
    while (at < todo.length) {
      const c = todo[at++];
      c.retried = true;
      for (let attempt = 0; attempt < RETRY_ATTEMPTS && c.answer === null; attempt++) {
        await procs.waitForLeader(15_000).catch(() => null);
        c.answer = await activate(pick, c.feature);
        if (c.answer === null) await new Promise((res) => setTimeout(res, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return todo.length;
}

/** One activation through `m`: its answer, or null when none came (outcome unknown). 503 is retried. */
async function activate(m: () => Member, feature: string): Promise<Answer | null> {
  const body = JSON.stringify({ op: 'activate', feature, with_prerequisites: true });
  const until = Date.now() + 5000;
  for (;;) {
    const r = await httpJson(m().http, 'POST', '/commands', body);
    if (r === null || r.status === 504) return null;
    if (r.status === 503 && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 20));
      continue;
    }
    if (r.status !== 200 && r.status !== 409) return null;
    const p = commandReply.safeParse(r.body);
    return p.success ? p.data : null;
  }
}

/**
 * A local control plane of `elex coordinator` processes: activations with prerequisites and races between
 * conflicting features through different coordinators, the leader SIGKILLed a third of the way in and
 * restarted two thirds in; then every coordinator's linearizable view is read and the invariants checked; then
 * `o.down` followers are SIGKILLed for good and `o.queries` queries are checked against the final state.
 */
export async function runCoordinatorCluster(o: CoordinatorClusterOptions): Promise<CoordinatorClusterReport> {
  const started = Date.now();
  const say = o.progress ?? (() => {});
  const gossip = o.gossip ?? true;
  const procs = await LocalProcesses.start(
    'coordinator',
    o.nodes,
    o.elexBin,
    o.dir,
    undefined,
    gossip ? [] : ['--no-gossip'],
  );
  try {
    const first = await procs.waitForLeader(15_000);
    say(`${o.nodes} coordinators up; leader ${first.id} in term ${first.term}`);
    const ops = plan(o.catalog, o.activations, o.conflictPairs);
    const planned = ops.filter((x) => x.kind === 'pair').length;
    if (planned < o.conflictPairs)
      say(`the catalogue has ${planned} disjoint conflicting pairs: racing those (${o.conflictPairs} asked)`);
    // Every command sent and its answer (null: none yet); tallied once the unanswered ones are retried.
    const sent: Sent[] = [];
    const pairs = { issued: 0, one_won: 0, none_won: 0, both_active: 0 };
    const pairList: Array<[Sent, Sent]> = [];
    const schedule = new KillSchedule(procs, ops.length, o.kills, say, () => next);
    let next = 0;
    let rr = 0;
    const pick = () => {
      const live = procs.live;
      return live[rr++ % live.length];
    };
    const record = (feature: string, answer: Answer | null, t0: number): Sent => {
      if (answer !== null) schedule.acked(t0);
      const s: Sent = { feature, answer, retried: false };
      sent.push(s);
      return s;
    };
    const worker = async () => {
      while (next < ops.length) {
        const i = next++;
        await schedule.before(i);
        const op = ops[i];
        const t0 = Date.now();
        if (op.kind === 'activate') record(op.feature.id, await activate(pick, op.feature.id), t0);
        else {
          pairs.issued++;
          const ma = pick();
          const mb = pick();
          const [ra, rb] = await Promise.all([activate(() => ma, op.a.id), activate(() => mb, op.b.id)]);
          pairList.push([record(op.a.id, ra, t0), record(op.b.id, rb, t0)]);
        }
      }
    };
    const workStart = Date.now();
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const workloadMs = Date.now() - workStart;
    await schedule.settle();
    // A command whose answer was lost (the whole workload may be in flight at a kill) used to be counted and
    // forgotten: a run with no command answered passed, its invariants checked against nothing.
    const retried = await retryUnanswered(procs, sent, pick, o.concurrency, say);
    let accepted = 0;
    const refused: Record<string, number> = {};
    const acceptedFeatures = new Set<string>();
    for (const c of sent) {
      if (c.answer === null) continue;
      if (c.answer.ok) accepted++;
      else refused[c.answer.code ?? '?'] = (refused[c.answer.code ?? '?'] ?? 0) + 1;
      if (won(c)) acceptedFeatures.add(c.feature);
    }
    for (const [a, b] of pairList) {
      const n = [a, b].filter(won).length;
      if (n === 1) pairs.one_won++;
      else if (n === 0) pairs.none_won++;
    }
    const commands = sent.length;
    const unanswered = sent.filter((c) => c.answer === null).length;
    say(
      `${commands} commands (${accepted} accepted, ${retried} retried, ${unanswered} unanswered); reading every coordinator's view`,
    );

    // A command whose answer was lost may still commit after the workload: re-read until the views meet.
    let views = await readViews(procs.members);
    let rereads = 0;
    for (; rereads < 50 && !sameViews(views); rereads++) {
      await new Promise((res) => setTimeout(res, 100));
      views = await readViews(procs.members);
    }
    if (rereads > 0) say(`views met after ${rereads} re-read(s): a late command committed meanwhile`);
    const { violations, agree, active } = checkControlPlane(o.catalog, views, acceptedFeatures);
    if (unanswered > 0)
      violations.push(
        `${unanswered} of ${commands} commands got no answer, even retried ${RETRY_ATTEMPTS} times once every coordinator was back`,
      );
    for (const [a, b] of pairList) if (active.has(a.feature) && active.has(b.feature)) pairs.both_active++;
    const { down, stalled } = await takeDown(o, procs, say);
    const takenAt = performance.now();
    const entry = procs.live.filter((m) => m.stalled !== true);
    const detection = gossip ? watchDetection(entry, [...down, ...stalled], takenAt) : Promise.resolve({});
    const queries = await runQueries(o, entry, active, violations);
    const failover = await failoverCounts(entry);
    const detection_ms = await detection;
    say(
      `${queries.ok} of ${queries.issued} queries answered (${queries.cross} across categories, ${queries.standby} with standby agents)`,
    );
    return {
      coordinators: o.nodes,
      commands,
      accepted,
      refused,
      retried,
      unanswered,
      conflict_pairs: pairs,
      queries,
      failover,
      gossip,
      detection_ms,
      down,
      stalled,
      replicas_agree: agree,
      view_rereads: rereads,
      active_features: active.size,
      workload_ms: workloadMs,
      // Answered within the workload: a retry's answer came after it.
      answered_per_s: Math.round(((commands - retried) * 1000) / Math.max(1, workloadMs)),
      violations,
      kills: schedule.kills,
      elapsed_ms: Date.now() - started,
    };
  } finally {
    await procs.stopAll();
  }
}
