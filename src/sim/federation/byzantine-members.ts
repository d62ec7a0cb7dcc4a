/**
 * Byzantine members for the federation simulator (`sim-network.ts`). Each one is a member of the cluster that
 * runs a real `FederatedQTable` with its own identity and speaks only through the signed codecs
 * (`encodeControl`, `encodeDelta`, `encodeCertificate`): it can sign anything as itself, never as another
 * member. Around its table it can
 *
 * - `double-vote`:    grant every (pre-)vote request it receives, to every candidate of a term (its table's
 *                     own, honest replies are dropped);
 * - `term-inflation`: send vote and pre-vote requests, granted votes and peer deltas with huge terms (up to
 *                     2³¹, so honest members can still take term + 1); the requests claim freshness 0, so
 *                     they win no votes worth counting;
 * - `max-term`:       the same with terms of exactly `MAX_TERM` (a documented limit: members pushed there no
 *                     longer campaign);
 * - `replay`:         re-send messages it received (certificates, heartbeats, aggregates, requests, votes),
 *                     chosen at random from everything it has seen, to honest members;
 * - `forge`:          claim leadership without a certificate: aggregates of its own (poisoned: the negated
 *                     values of its table) and heartbeats at the newest term it knows and the next one, and a
 *                     self-made certificate (its own vote for itself, refused);
 * - `reward-flip`:    learn on the negated reward and report honestly formatted deltas.
 *
 * Unless `campaign` is set, its table's own pre-vote and vote requests are dropped, so it is never elected
 * (the library cannot stop an elected Byzantine aggregator: docs/federation.md, "Threat model").
 *
 * Also here: a certificate watch over what honest members receive, and the seeded attack scenario.
 * Everything random comes from the simulator's named streams.
 */
import { type Rng, SeededRng } from '../../core/index.js';
import { MAX_TERM } from '../../learning/control.js';
import {
  type Control,
  decodeControl,
  deltaSince,
  ENVELOPE,
  electionQuorum,
  encodeCertificate,
  encodeControl,
  encodeDelta,
  envelope,
  type FederatedQTable,
  type FederationNetwork,
  type Identity,
  verifyCertificate,
} from '../../learning/index.js';
import {
  FederationSimCluster,
  type FederationSimOptions,
  type KnownEntry,
  type MemberBehaviour,
  type SimFederationNetwork,
} from './sim-network.js';

export const BYZANTINE_ATTACKS = [
  'double-vote',
  'term-inflation',
  'max-term',
  'replay',
  'forge',
  'reward-flip',
] as const;
export type ByzantineAttack = (typeof BYZANTINE_ATTACKS)[number];

export interface ByzantineSpec {
  attacks: readonly ByzantineAttack[];
  /** Let its table campaign (send its own pre-vote and vote requests). Default false. */
  campaign?: boolean;
}

/** Highest inflated term that still lets an honest member take term + 1 many times over. */
const INFLATED_TERM_MAX = 2 ** 31;
const HISTORY = 256;
/** Seqs of the deltas a Byzantine member crafts (its table's own start at 1). */
const CRAFTED_SEQ = 2 ** 32;

/** What a Byzantine member did (counts per action). */
export interface ByzantineStats {
  grants: number;
  inflated: number;
  replayed: number;
  forgedAggregates: number;
  forgedHeartbeats: number;
  forgedCertificates: number;
  droppedCampaign: number;
  /** Highest term it sent. */
  maxTermSent: number;
}

/**
 * One Byzantine member: the network its table uses (`send` filters, `drain` taps) and the hooks the cluster
 * driver calls (`reward`, `afterSync`).
 */
export class ByzantineMember implements FederationNetwork, MemberBehaviour {
  readonly byzantine = true;
  readonly network: FederationNetwork = this;
  readonly reward: ((e: KnownEntry) => number) | undefined;
  readonly stats: ByzantineStats = {
    grants: 0,
    inflated: 0,
    replayed: 0,
    forgedAggregates: 0,
    forgedHeartbeats: 0,
    forgedCertificates: 0,
    droppedCampaign: 0,
    maxTermSent: 0,
  };
  private readonly attacks: ReadonlySet<ByzantineAttack>;
  private readonly history: Uint8Array[] = [];
  private seen = 0;
  /** Highest term seen in any message received (controls, deltas, certificates). */
  private knownTerm = 0;
  private readonly rng: Rng;

  constructor(
    readonly name: string,
    private readonly identity: Identity,
    private readonly cluster: FederationSimCluster,
    private readonly inner: SimFederationNetwork,
    readonly spec: ByzantineSpec,
  ) {
    this.attacks = new Set(spec.attacks);
    this.rng = cluster.sim.rng(`byzantine/${name}`);
    this.reward = this.attacks.has('reward-flip') ? (e) => -e.reward : undefined;
  }

  private has(a: ByzantineAttack): boolean {
    return this.attacks.has(a);
  }

  private control(bytes: Uint8Array): Control | null {
    if (bytes.length < 2 || bytes[0] !== ENVELOPE.control) return null;
    try {
      return decodeControl(bytes.subarray(1), this.cluster.keyring);
    } catch {
      return null;
    }
  }

  private sendControl(to: string, c: Omit<Control, 'from' | 'to'>): void {
    const msg = encodeControl({ ...c, from: this.name, to }, this.identity);
    this.stats.maxTermSent = Math.max(this.stats.maxTermSent, c.term);
    this.inner.send(this.name, to, envelope(ENVELOPE.control, msg));
  }

  private others(): string[] {
    return this.cluster.names.filter((n) => n !== this.name && !this.cluster.byzantine.has(n));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.rng.int(xs.length)];
  }

  // ---- FederationNetwork (what its table sees) --------------------------------------------------------

  send(from: string, to: string, message: Uint8Array): void {
    const c = this.control(message);
    if (c !== null) {
      const request = c.type === 'vote-request' || c.type === 'pre-vote-request';
      if (request && !this.spec.campaign) {
        this.stats.droppedCampaign++;
        return;
      }
      // The double voter answers every request itself (granted); its table's replies are dropped.
      if (this.has('double-vote') && (c.type === 'vote' || c.type === 'pre-vote')) return;
    }
    this.inner.send(from, to, message);
  }

  drain(id: string): Uint8Array[] {
    const msgs = this.inner.drain(id);
    for (const m of msgs) {
      this.remember(m);
      const c = this.control(m);
      if (c !== null) {
        this.knownTerm = Math.max(this.knownTerm, Math.min(c.term, INFLATED_TERM_MAX));
        if (this.has('double-vote') && (c.type === 'vote-request' || c.type === 'pre-vote-request')) {
          this.stats.grants++;
          this.sendControl(c.from, {
            type: c.type === 'vote-request' ? 'vote' : 'pre-vote',
            term: c.term,
            value: 1,
          });
        }
      }
    }
    return msgs;
  }

  /** Reservoir of everything received (uniform over the whole run, so old messages stay replayable). */
  private remember(m: Uint8Array): void {
    this.seen++;
    if (this.history.length < HISTORY) this.history.push(m.slice());
    else {
      const j = this.rng.int(this.seen);
      if (j < HISTORY) this.history[j] = m.slice();
    }
  }

  // ---- crafted messages, after each of its syncs ---------------------------------------------------------

  afterSync(fqt: FederatedQTable): void {
    this.knownTerm = Math.max(this.knownTerm, Math.min(fqt.term, INFLATED_TERM_MAX));
    const targets = this.others();
    if (targets.length === 0) return;
    if (this.has('term-inflation') || this.has('max-term')) this.inflate(fqt, targets);
    if (this.has('replay')) this.replay(targets);
    if (this.has('forge')) this.forge(fqt, targets);
  }

  private hugeTerm(): number {
    if (this.has('max-term')) return MAX_TERM;
    return 2 ** 20 + this.rng.int(INFLATED_TERM_MAX - 2 ** 20);
  }

  private inflate(fqt: FederatedQTable, targets: readonly string[]): void {
    const to = this.pick(targets);
    const term = this.hugeTerm();
    this.stats.inflated++;
    switch (this.rng.int(4)) {
      case 0:
        this.sendControl(to, { type: 'vote-request', term, value: 0 });
        break;
      case 1:
        this.sendControl(to, { type: 'pre-vote-request', term, value: 0 });
        break;
      case 2:
        // A granted vote for the receiver (or for a random member) at a term nobody campaigned for.
        this.sendControl(to, { type: 'vote', term, value: 1 });
        break;
      default: {
        const d = deltaSince(fqt.local_qtable, 0, new Map(), { origin: this.name, kind: 'peer' });
        if (d.count === 0) return;
        d.term = term;
        d.round = fqt.local_qtable.clock;
        d.interactions = 1;
        // A seq of its own choosing, far above its table's: receivers take the crafted delta (so its term is
        // what they judge), and from then on refuse its table's own deltas as older than their window.
        d.epoch = fqt.epoch;
        d.seq = CRAFTED_SEQ + this.stats.inflated;
        this.stats.maxTermSent = Math.max(this.stats.maxTermSent, term);
        this.inner.send(this.name, to, envelope(ENVELOPE.delta, encodeDelta(d, this.identity)));
      }
    }
  }

  private replay(targets: readonly string[]): void {
    if (this.history.length === 0) return;
    for (let i = 0; i < 2; i++) {
      this.stats.replayed++;
      this.inner.send(this.name, this.pick(targets), this.pick(this.history));
    }
  }

  private forge(fqt: FederatedQTable, targets: readonly string[]): void {
    const d = deltaSince(fqt.local_qtable, 0, new Map(), { origin: this.name, kind: 'aggregate' });
    for (let i = 0; i < d.count; i++) {
      d.q[i] = -d.q[i] || 0.5;
      d.visits[i] = 1000;
    }
    // Its own vote for itself: the only vote for it it can sign (refused: a self vote counts twice).
    const self = encodeControl(
      { type: 'vote', from: this.name, to: this.name, term: this.knownTerm + 1, value: 1 },
      this.identity,
    );
    const fake = envelope(ENVELOPE.certificate, encodeCertificate([self]));
    const round = 1_000_000 + this.stats.forgedAggregates;
    for (const term of [this.knownTerm, this.knownTerm + 1]) {
      if (term < 1) continue;
      for (const to of targets) {
        if (term > this.knownTerm) {
          this.stats.forgedCertificates++;
          this.inner.send(this.name, to, fake);
        }
        this.stats.forgedHeartbeats++;
        this.sendControl(to, { type: 'heartbeat', term, value: round });
        if (d.count > 0) {
          d.term = term;
          d.round = round;
          d.interactions = 1;
          this.stats.forgedAggregates++;
          this.inner.send(this.name, to, envelope(ENVELOPE.delta, encodeDelta(d, this.identity)));
        }
      }
    }
  }
}

/** Verified certificates that honest members received: who each term certified, and any term that certified two. */
export interface CertificateWatch {
  /** term → the member a valid certificate elected (first seen). */
  readonly certified: Map<number, string>;
  readonly conflicts: Array<{ term: number; leaders: [string, string] }>;
  /** Certificates received that did not verify, by error code. */
  readonly refused: Map<string, number>;
  /** Distinct certificate byte strings checked. */
  checked: number;
}

/**
 * Verifies (once per distinct byte string) every certificate delivered to an honest member, exactly as a
 * member does (its category's ids and election quorum), and records whom each term certified.
 */
export function watchCertificates(c: FederationSimCluster, byzantineThreshold = 0.33): CertificateWatch {
  const ids = new Set(c.names);
  const quorum = electionQuorum(c.names.length, byzantineThreshold);
  const w: CertificateWatch = { certified: new Map(), conflicts: [], refused: new Map(), checked: 0 };
  const done = new Set<string>();
  c.network.onDeliver = (to, m) => {
    if (c.byzantine.has(to) || m.length < 2 || m[0] !== ENVELOPE.certificate) return;
    const key = Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64');
    if (done.has(key)) return;
    done.add(key);
    w.checked++;
    try {
      const { leader, term } = verifyCertificate(m.subarray(1), c.keyring, ids, quorum);
      const seen = w.certified.get(term);
      if (seen === undefined) w.certified.set(term, leader);
      else if (seen !== leader) w.conflicts.push({ term, leaders: [seen, leader] });
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'THROWN';
      w.refused.set(code, (w.refused.get(code) ?? 0) + 1);
    }
  };
  return w;
}

/** The one honest aggregator every live honest member follows (see `FederationSimCluster.followers`), or null. */
export function honestAgreedLeader(c: FederationSimCluster): string | null {
  const honest = c.honest();
  const leaders = honest.filter((t) => t.consensus_state.kind === 'Leader');
  if (leaders.length !== 1) return null;
  const following = new Set(c.followers(leaders[0]).map((t) => t.id));
  return honest.every((t) => following.has(t.id)) ? leaders[0].id : null;
}

/** An aggregator that every live honest member follows, Byzantine or not (its id), or null. */
export function agreedAggregator(c: FederationSimCluster): string | null {
  const honest = c.honest();
  for (const l of c.leaders()) {
    const following = new Set(c.followers(l).map((t) => t.id));
    if (honest.every((t) => following.has(t.id))) return l.id;
  }
  return null;
}

export interface ByzantineScenarioOptions {
  seed: number;
  members: number;
  /** How many members are Byzantine (chosen by the seed). */
  byzantine: number;
  attacks: readonly ByzantineAttack[];
  campaign?: boolean;
  loss: number;
  boundMs?: number;
  partitionMs?: number;
  owners_per_entry?: number;
  federation?: FederationSimOptions['federation'];
}

/** Which members are Byzantine: `count` of them, drawn from the seed. */
function chooseByzantine(seed: number, names: readonly string[], count: number): string[] {
  const pool = [...names];
  const choose = new SeededRng(seed).fork('byzantine-members');
  const bad: string[] = [];
  for (let i = 0; i < count; i++) bad.push(pool.splice(choose.int(pool.length), 1)[0]);
  return bad;
}

/**
 * The fault scenario of `runFederationScenario` with Byzantine members: elect; cut the first aggregator off
 * for `partitionMs` while an honest member crashes for half of it; heal; wait up to `boundMs` for every live
 * honest member to follow one aggregator; run 20 s more. Byzantine members attack throughout.
 */
export function runByzantineScenario(o: ByzantineScenarioOptions) {
  const bound = o.boundMs ?? 60_000;
  const partitionMs = o.partitionMs ?? 20_000;
  const names = Array.from({ length: o.members }, (_, i) => `m${i}`);
  const bad = chooseByzantine(o.seed, names, o.byzantine);
  const agents = new Map<string, ByzantineMember>();
  const c = new FederationSimCluster({
    seed: o.seed,
    members: o.members,
    loss: o.loss,
    owners_per_entry: o.owners_per_entry,
    federation: o.federation,
    behaviour: (name, identity, cluster) => {
      if (!bad.includes(name)) return undefined;
      const b = new ByzantineMember(name, identity, cluster, cluster.network, {
        attacks: o.attacks,
        campaign: o.campaign,
      });
      agents.set(name, b);
      return b;
    },
  });
  const certs = watchCertificates(c);
  const sim = c.sim;
  /** Terms at which an honest member followed (adopted from, or saw leading) a Byzantine aggregator. */
  const byzantineLed = new Set<number>();
  let observations = 0;
  c.onObserve = (ob) => {
    if (c.byzantine.has(ob.member)) return;
    observations++;
    if (ob.leader !== null && c.byzantine.has(ob.leader)) byzantineLed.add(ob.aggregateTerm);
  };
  const honestLeader = () => {
    const ls = c.honest().filter((t) => t.consensus_state.kind === 'Leader');
    return ls.length === 1 ? ls[0] : null;
  };
  const elected = sim.runUntilTrue(() => agreedAggregator(c) !== null, bound) ? sim.now : null;
  const firstId = agreedAggregator(c);
  const first = firstId === null ? (honestLeader() ?? c.leaders()[0] ?? null) : c.table(firstId);
  const isolated = first?.id ?? names.find((n) => !bad.includes(n))!;
  sim.runFor(10_000);
  const scenario = sim.rng('scenario');
  const others = names.filter((n) => n !== isolated && !bad.includes(n));
  const victim = others[scenario.int(others.length)];
  const cut = c.isolate([isolated]);
  sim.runFor(partitionMs / 4);
  c.crash(victim);
  sim.runFor(partitionMs / 2);
  c.restart(victim);
  sim.runFor(partitionMs / 4);
  sim.heal(cut);
  const healAt = sim.now;
  const agreedAt = sim.runUntilTrue(() => agreedAggregator(c) !== null, bound) ? sim.now - healAt : null;
  const agreedAfterHeal = agreedAggregator(c);
  sim.runFor(20_000);
  const agreed = agreedAggregator(c);
  const honest = c.honest();
  const stats = Object.fromEntries([...agents].map(([n, b]) => [n, { ...b.stats }]));
  return {
    cluster: c,
    certs,
    byzantine: bad,
    agents,
    victim,
    isolated,
    elected,
    healAt,
    agreedAt,
    agreedAfterHeal,
    agreed,
    /** A Byzantine member was certified, or followed by an honest member, at some term. */
    byzantineElected: byzantineLed.size > 0 || [...certs.certified.values()].some((l) => bad.includes(l)),
    observations,
    maxHonestTerm: Math.max(...honest.map((t) => t.term)),
    maxError: c.maxError(honest),
    maxSpread: c.maxSpread(honest),
    summary: {
      ...c.summary(),
      byzantine: bad,
      stats,
      certified: Object.fromEntries(certs.certified),
      cert_conflicts: certs.conflicts.length,
      cert_refused: Object.fromEntries([...certs.refused].sort()),
      agreed_at: agreedAt,
      agreed,
    },
  };
}

export interface ByzantineSplitOptions {
  seed: number;
  members: number;
  byzantine: number;
  attacks: readonly ByzantineAttack[];
  loss: number;
  /** How long the honest members stay split (default 30 s). */
  splitMs?: number;
  /** The members' `byzantine_threshold` (default the library's 0.33); 0 makes the quorum a simple majority. */
  threshold?: number;
}

/**
 * The double voter's best case (docs/aggregator-election.md, "Quorum": n = 5, a Byzantine voter with two honest ones on
 * each side): after a first election the honest members are split into two halves (and a rest, alone) that
 * cannot reach each other, while the Byzantine members reach everyone (a partial partition with them as
 * bridges) and vote for every candidate. With the Byzantine quorum neither half can elect; with a simple
 * majority (`threshold` 0) both can, in the same term. Then heal, and wait up to 60 s for agreement.
 */
export function runByzantineSplit(o: ByzantineSplitOptions) {
  const names = Array.from({ length: o.members }, (_, i) => `m${i}`);
  const bad = chooseByzantine(o.seed, names, o.byzantine);
  const agents = new Map<string, ByzantineMember>();
  const threshold = o.threshold ?? 0.33;
  const c = new FederationSimCluster({
    seed: o.seed,
    members: o.members,
    loss: o.loss,
    federation: { byzantine_threshold: threshold },
    behaviour: (name, identity, cluster) => {
      if (!bad.includes(name)) return undefined;
      const b = new ByzantineMember(name, identity, cluster, cluster.network, { attacks: o.attacks });
      agents.set(name, b);
      return b;
    },
  });
  const certs = watchCertificates(c, threshold);
  const sim = c.sim;
  const elected = sim.runUntilTrue(() => agreedAggregator(c) !== null, 60_000) ? sim.now : null;
  sim.runFor(5_000);
  const honest = names.filter((n) => !bad.includes(n));
  const rng = sim.rng('split');
  for (let i = honest.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [honest[i], honest[j]] = [honest[j], honest[i]];
  }
  const half = Math.floor(honest.length / 2);
  const sides = [honest.slice(0, half), honest.slice(half, 2 * half), honest.slice(2 * half)]
    .filter((s) => s.length > 0)
    .map((s) => s.map((n) => c.network.nodeOf(n)));
  const termsBefore = new Set(certs.certified.keys());
  const cut = sim.partition({ kind: 'partial', sides, bridges: bad.map((n) => c.network.nodeOf(n)) });
  sim.runFor(o.splitMs ?? 30_000);
  /** Terms first certified while the honest members were split. */
  const certifiedDuringSplit = [...certs.certified.keys()].filter((t) => !termsBefore.has(t));
  sim.heal(cut);
  const healAt = sim.now;
  const agreedAt = sim.runUntilTrue(() => agreedAggregator(c) !== null, 60_000) ? sim.now - healAt : null;
  sim.runFor(10_000);
  return {
    cluster: c,
    certs,
    byzantine: bad,
    agents,
    sides: sides.map((s) => s.map((i) => names[i])),
    elected,
    certifiedDuringSplit,
    agreedAt,
    agreed: agreedAggregator(c),
    summary: { ...c.summary(), certified: Object.fromEntries(certs.certified), agreed_at: agreedAt },
  };
}
