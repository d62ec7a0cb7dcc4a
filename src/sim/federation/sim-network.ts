/**
 * `FederatedQTable` on the deterministic simulator: a `FederationNetwork` whose messages go through
 * `Simulator.send` (seeded latency, loss, partitions, per-type accounting), a clock that reads the member's
 * virtual local time, and a cluster driver that runs each member on simulator timers (learn a few
 * interactions with known rewards, then `federatedSync`), crashes and restarts members, and records what
 * every member believes about aggregators after each sync (for safety and liveness checkers).
 *
 * Everything here is driven by the simulator: no real clock, timer or random source.
 */
import { type Clock, ElexError, isElexError, type Rng, SeededRng } from '../../core/index.js';
import {
  decodeDelta,
  ENVELOPE,
  encodeState,
  FederatedQTable,
  type FederationConfig,
  type FederationNetwork,
  type Identity,
  identityFromRng,
  MapKeyring,
  type VoteState,
} from '../../learning/index.js';
import type { LinkModel } from '../network.js';
import type { SimNodeHandler } from '../simulator.js';
import { Simulator } from '../simulator.js';

/** A member's clock: its simulator node's local (skewed, drifting) virtual time. */
export class SimClock implements Clock {
  constructor(
    private readonly sim: Simulator,
    private readonly node: number,
  ) {}
  now(): number {
    return this.sim.localTime(this.node);
  }
}

/** Accounting type of a federation message, from its envelope byte (see `FederatedQTable`). */
function messageType(m: Uint8Array): string {
  switch (m[0]) {
    case ENVELOPE.delta:
      return 'fed-delta';
    case ENVELOPE.control:
      return 'fed-control';
    case ENVELOPE.certificate:
      return 'fed-certificate';
    default:
      return 'fed-other';
  }
}

/**
 * A `FederationNetwork` over the simulator. `send` copies the bytes and hands them to `sim.send` with their
 * length as the accounted size, so loss, latency, partitions and crashes apply; a delivered message waits in
 * the receiver's inbox until `drain`. While a member is `hold`ing (a sync in progress whose vote must be
 * durable first), its sends are queued and go out on `release` (or are dropped by `discard`, on a crash).
 */
export class SimFederationNetwork implements FederationNetwork {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly inboxes = new Map<string, Uint8Array[]>();
  private readonly held = new Map<string, Array<[string, Uint8Array]>>();
  private readonly drained = new Map<string, Uint8Array[]>();
  /** Sends to or from names that are not registered (counted, then dropped). */
  unknown = 0;
  /** Sees every message delivered into an inbox (checkers; it must not throw). */
  onDeliver: ((to: string, message: Uint8Array) => void) | null = null;

  constructor(readonly sim: Simulator) {}

  /** Maps a member id to its simulator node. */
  register(name: string, node: number): void {
    if (this.ids.has(name)) throw new ElexError('E_CONFIG', `member ${name} registered twice`);
    this.ids.set(name, node);
    this.names[node] = name;
    this.inboxes.set(name, []);
  }

  nodeOf(name: string): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new ElexError('E_NO_NODE', `no member ${name}`);
    return id;
  }

  send(from: string, to: string, message: Uint8Array): void {
    const a = this.ids.get(from);
    const b = this.ids.get(to);
    if (a === undefined || b === undefined) {
      this.unknown++;
      return;
    }
    const queue = this.held.get(from);
    if (queue !== undefined) {
      queue.push([to, message.slice()]);
      return;
    }
    this.sim.send(a, b, message.slice(), messageType(message), message.length);
  }

  drain(id: string): Uint8Array[] {
    const box = this.inboxes.get(id);
    if (box === undefined || box.length === 0) {
      this.drained.set(id, []);
      return [];
    }
    this.inboxes.set(id, []);
    this.drained.set(id, box);
    return box;
  }

  /** The messages of `id`'s last drain (what its last sync read). */
  lastDrained(id: string): readonly Uint8Array[] {
    return this.drained.get(id) ?? [];
  }

  /** Called by the member's node handler when the simulator delivers a message. */
  deliver(to: number, payload: unknown): void {
    const name = this.names[to];
    if (name === undefined || !(payload instanceof Uint8Array)) return;
    this.onDeliver?.(name, payload);
    this.inboxes.get(name)!.push(payload);
  }

  /** Queues `name`'s sends until `release` (persist-before-send). */
  hold(name: string): void {
    if (!this.held.has(name)) this.held.set(name, []);
  }

  release(name: string): void {
    const queue = this.held.get(name);
    if (queue === undefined) return;
    this.held.delete(name);
    for (const [to, m] of queue) this.send(name, to, m);
  }

  /** A crash: the inbox (volatile) and any held sends are gone. */
  discard(name: string): void {
    this.held.delete(name);
    this.inboxes.set(name, []);
    this.drained.delete(name);
  }
}

/** One (state, action) the members learn, with its fixed terminal reward: Q* = reward. */
export interface KnownEntry {
  state: bigint;
  action: number;
  reward: number;
}

/** A small fixed task: `states` states × `actions` actions, rewards spread over [−1, 1] (Q* = reward). */
export function knownTask(states = 4, actions = 2): KnownEntry[] {
  const out: KnownEntry[] = [];
  const n = states * actions;
  for (let s = 0; s < states; s++) {
    const state = encodeState({
      queryType: 'kpi',
      complexity: 'moderate',
      confidence: 0.5,
      contextHash: BigInt(1000 + s),
    });
    for (let a = 0; a < actions; a++) {
      const k = s * actions + a;
      out.push({ state, action: a, reward: n === 1 ? 0.5 : -1 + (2 * k) / (n - 1) });
    }
  }
  return out;
}

export interface FederationSimOptions {
  seed: number;
  members: number;
  /** Per-message loss on every link. */
  loss?: number;
  link?: Partial<LinkModel>;
  sync_interval_ms?: number;
  /** Interactions each member learns before each of its syncs. */
  learn_per_sync?: number;
  task?: KnownEntry[];
  /**
   * How many members learn each known entry (entry k: members k, k + 1, … mod `members`). Default: all of
   * them. With fewer, a member knows the other entries only through the federation.
   */
  owners_per_entry?: number;
  /**
   * Keep (term, votedFor) on the member's simulated disk and hold its messages of a sync until that write is
   * durable (Raft's persist-before-reply); a restarted member resumes its term and vote. Without it a
   * restarted member starts at term 0 with no vote (amnesia). Default true.
   */
  persist?: boolean;
  /** Extra `FederationConfig` for every member. */
  federation?: Partial<FederationConfig>;
  /**
   * Per-member behaviour (e.g. a Byzantine member, `byzantine-members.ts`), asked once per member at
   * construction with the member's name and identity; undefined: an honest member.
   */
  behaviour?: (
    name: string,
    identity: Identity,
    cluster: FederationSimCluster,
  ) => MemberBehaviour | undefined;
}

/**
 * How a member departs from the honest driver. Its `FederatedQTable` still runs the real protocol with the
 * member's own identity; the behaviour sits around it.
 */
export interface MemberBehaviour {
  /** Excluded from the honest-member checks (claims, `honest()`); default true. */
  byzantine?: boolean;
  /** The network this member's `FederatedQTable` uses instead of the cluster's (wrap it to filter or tap). */
  network?: FederationNetwork;
  /** The reward this member learns for a known entry (default its `reward`). */
  reward?: (e: KnownEntry) => number;
  /** Called after each of this member's syncs (sends crafted messages, etc.). Throws are recorded as errors. */
  afterSync?: (fqt: FederatedQTable) => void;
}

/** What one member believed after one sync. */
export interface Observation {
  t: number;
  member: string;
  term: number;
  /** The aggregator it follows (or itself while leading), null without one. */
  leader: string | null;
  aggregateTerm: number;
  aggregateRound: number;
  leading: boolean;
}

/** Two members that adopted (or claimed) aggregates of the same term from different origins. */
export interface SafetyViolation {
  term: number;
  origins: [string, string];
  member: string;
  t: number;
}

interface Member {
  name: string;
  node: number;
  fqt: FederatedQTable | null;
  incarnation: number;
  rng: Rng;
  syncs: number;
  /** The known entries this member learns. */
  learns: KnownEntry[];
  /** Refusal counts of earlier incarnations (a restart starts a fresh table). */
  pastRefusals: Map<string, number>;
  identity: Identity;
  behaviour: MemberBehaviour | undefined;
  /** (term, vote) as the table last reported it through `on_vote_state` (what must be made durable). */
  voteState: VoteState;
}

/**
 * `members` FederatedQTables on one simulator. Each member runs on a timer of its node: every sync interval
 * (jittered ±25 % by the node's own random stream) it learns `learn_per_sync` interactions on the known task
 * and syncs (`FederatedQTable.syncNow`, what `federatedSync` runs: no I/O, nothing awaited), so its whole effect
 * happens inside the call; an error it throws is recorded in `errors` (typed ones in `typedThrows`) at once.
 */
export class FederationSimCluster {
  readonly sim: Simulator;
  readonly network: SimFederationNetwork;
  readonly keyring = new MapKeyring();
  readonly task: KnownEntry[];
  readonly names: string[];
  readonly syncIntervalMs: number;
  /** (term → origin) of every aggregate adopted or claimed, first seen. */
  readonly claims = new Map<number, string>();
  readonly violations: SafetyViolation[] = [];
  /** Errors that are not `ElexError`s (from sync, learning or the driver). */
  readonly errors: unknown[] = [];
  /** Typed errors thrown by sync itself (not refusals it counted). */
  readonly typedThrows = new Map<string, number>();
  observations = 0;
  /** Called after every member sync (tests may record more). */
  onObserve: ((o: Observation, fqt: FederatedQTable) => void) | null = null;
  private readonly members: Member[] = [];
  private readonly opts: Required<
    Pick<FederationSimOptions, 'sync_interval_ms' | 'learn_per_sync' | 'persist'>
  > &
    FederationSimOptions;

  constructor(opts: FederationSimOptions) {
    if (!(opts.members >= 1)) throw new ElexError('E_CONFIG', 'members must be >= 1');
    this.opts = {
      ...opts,
      sync_interval_ms: opts.sync_interval_ms ?? 1000,
      learn_per_sync: opts.learn_per_sync ?? 3,
      persist: opts.persist ?? true,
    };
    this.syncIntervalMs = this.opts.sync_interval_ms;
    this.task = opts.task ?? knownTask();
    this.sim = new Simulator({ seed: opts.seed, link: { ...opts.link, loss: opts.loss ?? 0 } });
    this.network = new SimFederationNetwork(this.sim);
    this.names = Array.from({ length: opts.members }, (_, i) => `m${i}`);
    for (const name of this.names) {
      const handler: SimNodeHandler = {
        deliver: (_from, payload) => this.network.deliver(m.node, payload),
        crash: () => this.onCrash(m),
        restart: () => this.onRestart(m),
      };
      const node = this.sim.addNode(name, handler);
      const m: Member = {
        name,
        node,
        fqt: null,
        incarnation: 0,
        rng: this.sim.nodeRng(node),
        syncs: 0,
        learns: [],
        pastRefusals: new Map(),
        // The key FederatedQTable would derive itself from this seed and id (same key, same trace).
        identity: identityFromRng(name, new SeededRng(opts.seed).fork(name).fork('key')),
        behaviour: undefined,
        voteState: { term: 0, voted_for: null },
      };
      this.network.register(name, node);
      this.members.push(m);
    }
    const owners = Math.min(opts.members, opts.owners_per_entry ?? opts.members);
    this.task.forEach((e, k) => {
      for (let j = 0; j < owners; j++) this.members[(k + j) % opts.members].learns.push(e);
    });
    for (const m of this.members) m.behaviour = opts.behaviour?.(m.name, m.identity, this);
    this.byzantine = new Set(
      this.members
        .filter((m) => m.behaviour !== undefined && m.behaviour.byzantine !== false)
        .map((m) => m.name),
    );
    for (const m of this.members) this.boot(m);
  }

  /** Members whose behaviour is Byzantine (see `MemberBehaviour.byzantine`). */
  readonly byzantine: ReadonlySet<string>;

  /** A member's signing identity (the one its `FederatedQTable` uses). */
  identity(name: string): Identity {
    return this.members[this.network.nodeOf(name)].identity;
  }

  private boot(m: Member): void {
    const disk = this.sim.disk(m.node);
    // The product's durable-state contract: resume from what `on_vote_state` reported and was made durable.
    const durable = this.opts.persist ? (disk.read('federation/vote') as VoteState | undefined) : undefined;
    m.voteState = durable ?? { term: 0, voted_for: null };
    // A new life: one more than the last, durable before this life's first delta leaves (receivers refuse a
    // delta of an earlier life, and this life's seqs start again at 1). Without a disk every life is 0.
    const epoch = this.opts.persist ? ((disk.read('federation/epoch') as number | undefined) ?? 0) + 1 : 0;
    const fqt = new FederatedQTable({
      ...this.opts.federation,
      id: m.name,
      peers: this.names,
      network: m.behaviour?.network ?? this.network,
      keyring: this.keyring,
      identity: m.identity,
      clock: new SimClock(this.sim, m.node),
      seed: this.opts.seed,
      sync_interval_ms: this.syncIntervalMs,
      epoch,
      vote_state: durable,
      on_vote_state: (v) => {
        m.voteState = v;
      },
    });
    m.fqt = fqt;
    if (!this.opts.persist) {
      this.schedule(m);
      return;
    }
    disk.write('federation/epoch', epoch);
    const inc = m.incarnation;
    disk.sync(() => {
      if (m.incarnation === inc) this.schedule(m);
    });
  }

  private schedule(m: Member): void {
    const delay = this.syncIntervalMs * (0.75 + 0.5 * m.rng.next());
    const inc = m.incarnation;
    this.sim.setTimer(m.node, delay, () => {
      if (m.incarnation !== inc || m.fqt === null) return;
      this.tick(m, m.fqt);
      this.schedule(m);
    });
  }

  private tick(m: Member, fqt: FederatedQTable): void {
    try {
      for (let i = 0; i < this.opts.learn_per_sync && m.learns.length > 0; i++) {
        const e = m.learns[m.rng.int(m.learns.length)];
        const reward = m.behaviour?.reward ? m.behaviour.reward(e) : e.reward;
        fqt.learner.learn(e.state, e.action, reward, null);
      }
    } catch (e) {
      this.errors.push(e);
    }
    const persist = this.opts.persist;
    const before = m.voteState;
    const aggregate = fqt.lastAggregate;
    const had = [aggregate.term, aggregate.round];
    if (persist) this.network.hold(m.name);
    // Synchronously: its throw is counted now, in the run. Through `federatedSync`'s promise it was counted in a
    // microtask after the run had returned, so a report read at once said 0 (until session 24).
    try {
      fqt.syncNow();
    } catch (e) {
      if (isElexError(e)) this.typedThrows.set(e.code, (this.typedThrows.get(e.code) ?? 0) + 1);
      else this.errors.push(e);
    }
    m.syncs++;
    if (m.behaviour?.afterSync) {
      try {
        m.behaviour.afterSync(fqt);
      } catch (e) {
        this.errors.push(e);
      }
    }
    const now = fqt.lastAggregate;
    this.observe(m, fqt, now.term !== had[0] || now.round !== had[1]);
    if (!persist) return;
    const after = m.voteState;
    if (after.term === before.term && after.voted_for === before.voted_for) {
      this.network.release(m.name);
      return;
    }
    const disk = this.sim.disk(m.node);
    disk.write('federation/vote', after);
    const inc = m.incarnation;
    // The votes and requests of this sync go out once (term, vote) is durable; a crash first drops them.
    disk.sync(() => {
      if (m.incarnation === inc) this.network.release(m.name);
    });
  }

  private observe(m: Member, fqt: FederatedQTable, changed: boolean): void {
    this.observations++;
    const leading = fqt.consensus_state.kind === 'Leader';
    const o: Observation = {
      t: this.sim.now,
      member: m.name,
      term: fqt.term,
      leader: fqt.leader,
      aggregateTerm: fqt.lastAggregate.term,
      aggregateRound: fqt.lastAggregate.round,
      leading,
    };
    // A leader claims its term; a follower that adopted an aggregate in this sync claims the aggregate's term
    // for its origin. Only honest members' beliefs count (a Byzantine member's table may believe anything).
    if (!this.byzantine.has(m.name)) {
      if (leading) this.claim(fqt.term, m.name, m.name);
      else if (changed && fqt.lastAggregate.round > 0)
        for (const origin of this.adoptedOrigins(m.name, fqt))
          this.claim(fqt.lastAggregate.term, origin, m.name);
    }
    this.onObserve?.(o, fqt);
  }

  /**
   * Origins of the aggregates stamped with `fqt`'s last adopted (term, round) that its last sync read, with a
   * valid signature (what it adopted is among them). Several (a Byzantine member may sign an aggregate of
   * its own with the same stamp): the one it now follows if among them, else all of them. None found (it
   * cannot happen while adoption needs a delivered aggregate): the member's leader.
   */
  private adoptedOrigins(name: string, fqt: FederatedQTable): string[] {
    const { term, round } = fqt.lastAggregate;
    const found = new Set<string>();
    for (const msg of this.network.lastDrained(name)) {
      // Deltas only; the kind is read by decoding (the kind byte also carries the 'addressed' flag).
      if (msg[0] !== ENVELOPE.delta) continue;
      try {
        const d = decodeDelta(msg.subarray(1), this.keyring, { actions: fqt.learner.config.actions });
        if (d.kind === 'aggregate' && d.term === term && d.round === round) found.add(d.origin);
      } catch {
        // refused by the member too
      }
    }
    if (found.size === 0) return fqt.leader === null ? [] : [fqt.leader];
    if (fqt.leader !== null && found.has(fqt.leader)) return [fqt.leader];
    return [...found];
  }

  private claim(term: number, origin: string, member: string): void {
    const seen = this.claims.get(term);
    if (seen === undefined) this.claims.set(term, origin);
    else if (seen !== origin)
      this.violations.push({ term, origins: [seen, origin], member, t: this.sim.now });
  }

  private onCrash(m: Member): void {
    if (m.fqt !== null) {
      for (const [k, v] of m.fqt.refusals) m.pastRefusals.set(k, (m.pastRefusals.get(k) ?? 0) + v);
    }
    m.fqt = null;
    m.incarnation++;
    this.network.discard(m.name);
  }

  private onRestart(m: Member): void {
    m.incarnation++;
    this.boot(m);
  }

  // ---- scenario helpers ----------------------------------------------------------------------------

  crash(name: string): void {
    this.sim.crash(this.network.nodeOf(name));
  }

  restart(name: string): void {
    this.sim.restart(this.network.nodeOf(name));
  }

  /** Cuts `names` off from everyone else (both directions) until `sim.heal(id)`. */
  isolate(names: readonly string[]): number {
    const inside = names.map((n) => this.network.nodeOf(n));
    const outside = this.names.map((n) => this.network.nodeOf(n)).filter((i) => !inside.includes(i));
    return this.sim.partition({ kind: 'symmetric', sides: [inside, outside] });
  }

  table(name: string): FederatedQTable | null {
    return this.members[this.network.nodeOf(name)].fqt;
  }

  live(): FederatedQTable[] {
    const out: FederatedQTable[] = [];
    for (const m of this.members) if (m.fqt !== null) out.push(m.fqt);
    return out;
  }

  /** Live honest members (not `byzantine`). */
  honest(): FederatedQTable[] {
    return this.live().filter((t) => !this.byzantine.has(t.id));
  }

  leaders(): FederatedQTable[] {
    return this.live().filter((t) => t.consensus_state.kind === 'Leader');
  }

  /**
   * Live members that follow `leader`: the leader itself, and every member whose last adopted aggregate is
   * of the leader's term (by the safety check, from `leader`) and at most `lag` rounds behind the leader's
   * own round, i.e. that keeps adopting its aggregates. A member that has missed aggregates for three sync
   * intervals forgets `leader` until the next one arrives; within the lag it still counts. A member stuck
   * refusing the leader's aggregates falls behind and does not.
   */
  followers(leader: FederatedQTable, lag = 3): FederatedQTable[] {
    const round = leader.lastAggregate.round;
    return this.live().filter(
      (t) =>
        t === leader ||
        (t.lastAggregate.term === leader.term &&
          t.lastAggregate.round > 0 &&
          t.lastAggregate.round >= round - lag &&
          (t.leader === leader.id || t.leader === null)),
    );
  }

  /**
   * The one aggregator every live member follows (the leader itself leading, every other member naming it
   * with an adopted aggregate of its term), or null.
   */
  agreedLeader(): string | null {
    const leaders = this.leaders();
    if (leaders.length !== 1) return null;
    return this.followers(leaders[0]).length === this.live().length ? leaders[0].id : null;
  }

  /** The aggregator that a majority of all members (live ones, itself included) follow, or null. */
  majorityLeader(): FederatedQTable | null {
    for (const l of this.leaders())
      if (this.followers(l).length >= Math.floor(this.names.length / 2) + 1) return l;
    return null;
  }

  /** Largest |Q − Q*| over the known entries and `tables` (default: the live members). */
  maxError(tables = this.live()): number {
    let worst = 0;
    for (const t of tables)
      for (const e of this.task) worst = Math.max(worst, Math.abs(t.learner.q(e.state, e.action) - e.reward));
    return worst;
  }

  /** Largest spread (max − min) of Q over `tables` (default: the live members), per known entry. */
  maxSpread(tables = this.live()): number {
    let worst = 0;
    for (const e of this.task) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const t of tables) {
        const q = t.learner.q(e.state, e.action);
        lo = Math.min(lo, q);
        hi = Math.max(hi, q);
      }
      if (hi >= lo) worst = Math.max(worst, hi - lo);
    }
    return worst;
  }

  /** Refusal counts per code, summed over members and their incarnations (sorted by code). */
  refusals(): Record<string, number> {
    const sum = new Map<string, number>();
    for (const m of this.members) {
      for (const [k, v] of m.pastRefusals) sum.set(k, (sum.get(k) ?? 0) + v);
      if (m.fqt !== null) for (const [k, v] of m.fqt.refusals) sum.set(k, (sum.get(k) ?? 0) + v);
    }
    return Object.fromEntries([...sum].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** A JSON-able fingerprint of the run: per-member state, refusals, traffic and the trace hash. */
  summary() {
    return {
      seed: this.sim.seed,
      now: this.sim.now,
      trace_hash: this.sim.traceHash(),
      members: this.members.map((m) => ({
        name: m.name,
        up: m.fqt !== null,
        incarnation: m.incarnation,
        syncs: m.syncs,
        term: m.fqt?.term ?? null,
        state: m.fqt?.consensus_state.kind ?? null,
        leader: m.fqt?.leader ?? null,
        aggregate: m.fqt ? [m.fqt.lastAggregate.term, m.fqt.lastAggregate.round] : null,
        q: m.fqt ? this.task.map((e) => Math.round(m.fqt!.learner.q(e.state, e.action) * 1e6) / 1e6) : null,
      })),
      claims: Object.fromEntries(this.claims),
      refusals: this.refusals(),
      violations: this.violations.length,
      errors: this.errors.length,
      network: this.sim.accounting.summary(),
    };
  }
}

export interface FederationScenarioOptions {
  seed: number;
  members: number;
  loss: number;
  /** Time allowed for each phase's goal (first election; agreement and convergence after the heal). */
  boundMs?: number;
  /** How long the first aggregator stays cut off. */
  partitionMs?: number;
  /** Q tolerance for convergence (spread between members and distance from the known value). */
  tolerance?: number;
  persist?: boolean;
}

/**
 * The scripted fault scenario: elect; cut the aggregator off for `partitionMs`; meanwhile crash a random other
 * member (the scenario's own random stream) for half of it; heal; then wait for every live member to follow
 * one aggregator with Q converged, and keep running 20 s to see that it holds. Times are virtual ms; a goal
 * not reached within `boundMs` is null.
 */
export function runFederationScenario(o: FederationScenarioOptions) {
  const bound = o.boundMs ?? 60_000;
  const partitionMs = o.partitionMs ?? 20_000;
  const tol = o.tolerance ?? 0.05;
  const c = new FederationSimCluster({
    seed: o.seed,
    members: o.members,
    loss: o.loss,
    owners_per_entry: 2,
    persist: o.persist,
  });
  const sim = c.sim;
  const converged = () => c.agreedLeader() !== null && c.maxSpread() < tol && c.maxError() < tol;
  const elected = sim.runUntilTrue(() => c.majorityLeader() !== null, bound) ? sim.now : null;
  const first = c.majorityLeader() ?? c.leaders()[0] ?? null;
  const isolated = first?.id ?? c.names[0];
  const firstTerm = first?.term ?? 0;
  sim.runFor(10_000);
  const scenario = sim.rng('scenario');
  const others = c.names.filter((n) => n !== isolated);
  const victim = others[scenario.int(others.length)];
  const cut = c.isolate([isolated]);
  sim.note('isolate', c.network.nodeOf(isolated));
  sim.runFor(partitionMs / 4);
  c.crash(victim);
  sim.runFor(partitionMs / 2);
  const during = c.majorityLeader();
  const duringLeader = during ? { id: during.id, term: during.term } : null;
  c.restart(victim);
  sim.runFor(partitionMs / 4);
  sim.heal(cut);
  const healAt = sim.now;
  const agreedAt = sim.runUntilTrue(() => c.agreedLeader() !== null, bound) ? sim.now - healAt : null;
  const convergedAt = sim.runUntilTrue(converged, healAt + bound - sim.now) ? sim.now - healAt : null;
  sim.runFor(20_000);
  const final = c.majorityLeader();
  return {
    cluster: c,
    seed: o.seed,
    members: o.members,
    loss: o.loss,
    victim,
    isolated,
    firstTerm,
    elected,
    duringLeader,
    healAt,
    agreedAt,
    convergedAt,
    /** Still agreed and converged 20 s later. */
    holds: converged(),
    finalLeader: final ? { id: final.id, term: final.term } : null,
    agreed: c.agreedLeader(),
    maxError: c.maxError(),
    maxSpread: c.maxSpread(),
    summary: c.summary(),
  };
}
