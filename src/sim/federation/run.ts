/**
 * One federated training run on a benchmark MDP: N agents (F of them Byzantine) learn by tabular Q-learning in
 * lockstep and synchronise every `syncEvery` interactions through an elected honest aggregator that merges the
 * round's validated reports with the chosen rule and broadcasts the result, which members adopt.
 *
 * The reports are the columnar deltas of src/learning (q, claimed lifetime visits, fresh visits since the
 * previous sync); weights, validation and rules are the library's. Honest deltas are not serialised (they
 * would decode to themselves); forged-origin deltas go through the real Ed25519 codec.
 */
import { ElexError, type Rng, SeededRng } from '../../core/index.js';
import { type AttackName, alieZ, type EntryView, poisonedValue } from './attacks.js';
import {
  checkDelta,
  DEFAULT_LEARNING,
  type Delta,
  decodeDelta,
  emptyDelta,
  encodeDeltaUnchecked,
  epsilonAt,
  identityFromRng,
  isElexErrorCode,
  MapKeyring,
  type MergeParams,
  newOutput,
  type QBounds,
  qBounds,
  ReporterTrust,
  type ReportSet,
  type RuleName,
  ruleByName,
  shrinkTowardConsensus,
  TD_WINDOW,
  type TrustOptions,
  tdReachable,
  tdStep,
  tdTargetRange,
} from './deps.js';
import { greedyPolicy, type Mdp, policyValue, sampleInitial, sampleOutcome, startValue } from './mdp.js';

const U32_MAX = 0xffffffff;

export interface Solution {
  qStar: Float64Array;
  vStar: number;
  vRandom: number;
}

export interface RunConfig {
  mdp: Mdp;
  solution: Solution;
  agents: number;
  byzantine: number;
  attack: AttackName;
  rule: RuleName;
  seed: number;
  /** Episodes per agent. */
  episodes: number;
  syncEvery: number;
  /** ρ checkpoint period, in episodes per agent. */
  checkEvery: number;
  weightCap: number;
  beta: number;
  /**
   * How agents act. `epsilon-greedy`: the engine's ε-greedy on their own Q (ε 0.1 → 0.01). `diverse`: the
   * same, with exploration biased towards an agent-specific action. `off-policy`: each agent follows a fixed
   * behaviour policy of its own, independent of its Q (the setting of Woo et al. 2023): in state s it takes
   * its preferred action p_i(s) with probability `offPolicyBias`, otherwise a uniformly random available
   * one; ρ is measured on the greedy policy of its Q as always.
   */
  behaviour: Behaviour;
  /** Probability of the agent-specific action under `off-policy` (default 0.5). */
  offPolicyBias?: number;
  /** Refuse reports not reachable from the consensus by TD steps (`tdReachable`). */
  tdCheck: boolean;
  /** Weigh reporters by their trust across rounds (`ReporterTrust`); robust rules only. */
  trust: boolean;
  /** James–Stein shrinkage of each round's decisions towards the consensus (robust rules; off by default). */
  shrink?: boolean;
  /** Reporter-trust options other than the defaults (the α and scale floor come from the MDP). */
  trustOptions?: Partial<TrustOptions>;
  /**
   * Aggregates whose published values a report may be learned from (default `TD_WINDOW`, as
   * `FederatedQTable`): a report passes the reachability check if it is reachable from its entry's value in
   * any of the last `tdWindow` aggregates. 1: the current consensus only. As in the product, until
   * `tdWindow − 1` aggregates are published the check uses the current consensus and one step of slack.
   */
  tdWindow?: number;
  /**
   * Steps the reachability check allows beyond a report's fresh visits (default 0, as `FederatedQTable`).
   * `--td-window 1 --td-slack 1` is the product's check before the window (one step of slack for members
   * that learned from an older aggregate), except that reports with no fresh visits are not checked. Visit
   * inflation pushes to the edge the check accepts, from the most favourable value in the window (at slack 0
   * it coincides with the quiet variant).
   */
  tdSlack?: number;
  /**
   * Measure ρ on the greedy policy of a Polyak–Ruppert average of each honest member's table,
   * q̄ ← q̄ + polyak·(q − q̄) after every round (0 < polyak ≤ 1; off by default). Learning and acting are
   * unchanged: it measures how much of the honest agents' spread is constant-α noise in their tables.
   */
  polyak?: number;
}

/** The product's reachability slack (`FederatedQTable`): none beyond the fresh visits, within its window. */
export const DEFAULT_TD_SLACK = 0;

export const BEHAVIOURS = ['epsilon-greedy', 'diverse', 'off-policy'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** Agent i's preferred action in state s under the off-policy behaviour (differs between agents). */
export function preferredAction(i: number, s: number, actions: number): number {
  return (i * 7 + s * 3) % actions;
}

export interface RunResult {
  rho: number[];
  qErrorInf: number;
  greedyAgreement: number;
  episodesTo09: number | null;
  refused: Record<string, number>;
  nonFinite: number;
  /** Final smoothed trust ratio per agent (null: never scored or trust off); diagnostics, not in the JSON. */
  trustRatios: (number | null)[];
}

interface Agent {
  q: Float64Array;
  visits: Float64Array;
  fresh: Uint16Array;
  touched: Int32Array;
  nTouched: number;
  s: number;
  h: number;
  episodes: number;
  steps: number;
  rng: Rng;
  id: number;
  pref: number;
  byz: boolean;
  learns: boolean;
}

/** ρ = (V^π(s₀) − V^random)/(V* − V^random) of the greedy policy of q. */
export function rhoOf(mdp: Mdp, sol: Solution, q: ArrayLike<number>): number {
  const v = startValue(mdp, policyValue(mdp, greedyPolicy(mdp, q), 1e-7));
  return (v - sol.vRandom) / (sol.vStar - sol.vRandom);
}

function argBest(mdp: Mdp, q: Float64Array, s: number, worst: boolean): number {
  const A = mdp.actions;
  let best = -1;
  for (let a = 0; a < A; a++) {
    if ((mdp.mask[s] & (1 << a)) === 0) continue;
    if (best < 0 || (worst ? q[s * A + a] < q[s * A + best] : q[s * A + a] > q[s * A + best])) best = a;
  }
  return best;
}

export function runFederation(c: RunConfig): RunResult {
  const tdSlack = c.tdSlack ?? DEFAULT_TD_SLACK;
  if (!Number.isInteger(tdSlack) || tdSlack < 0 || tdSlack > 10)
    throw new ElexError('E_CONFIG', `tdSlack must be an integer in 0..10, got ${c.tdSlack}`);
  const tdWindow = c.tdWindow ?? TD_WINDOW;
  if (!Number.isInteger(tdWindow) || tdWindow < 1 || tdWindow > 50)
    throw new ElexError('E_CONFIG', `tdWindow must be an integer in 1..50, got ${c.tdWindow}`);
  if (c.polyak !== undefined && !(c.polyak > 0 && c.polyak <= 1))
    throw new ElexError('E_CONFIG', `polyak must be in (0, 1], got ${c.polyak}`);
  const { mdp } = c;
  const S = mdp.states;
  const A = mdp.actions;
  const SA = S * A;
  const N = c.agents;
  const root = new SeededRng(c.seed);
  const bounds: QBounds = qBounds(mdp.rMin, mdp.rMax, mdp.gamma);
  const learning = { ...DEFAULT_LEARNING, actions: A, gamma: mdp.gamma };
  const attack = c.attack;
  const refused: Record<string, number> = {};
  const refuse = (code: string, n = 1) => {
    refused[code] = (refused[code] ?? 0) + n;
  };
  let nonFinite = 0;

  // Byzantine agents are the last F; honest ones learn, Byzantine ones learn only in 'none' and 'reward-flip'.
  const agents: Agent[] = [];
  for (let i = 0; i < N; i++) {
    const byz = i >= N - c.byzantine;
    agents.push({
      q: new Float64Array(SA),
      visits: new Float64Array(SA),
      fresh: new Uint16Array(SA),
      touched: new Int32Array(c.syncEvery),
      nTouched: 0,
      s: -1,
      h: 0,
      episodes: 0,
      steps: 0,
      rng: root.fork(`agent-${i}`),
      id: i,
      pref: i % A,
      byz,
      learns: !byz || attack === 'none' || attack === 'reward-flip',
    });
  }
  const honest = agents.filter((a) => !a.byz);
  const global = new Float64Array(SA);
  const globalN = new Float64Array(SA);
  const history: Float64Array[] = [];
  const attackRng = root.fork('attack');
  const rule = ruleByName(c.rule);
  const plain = c.rule === 'visit-weighted';
  const params: MergeParams = {
    beta: c.beta,
    f: c.byzantine,
    clipRadius: learning.alpha * (mdp.rMax - mdp.rMin),
    bounds,
  };
  const z = alieZ(N, c.byzantine);
  // What a Byzantine reporter sees of one entry (one object, refilled per entry: this runs per report).
  const view: EntryView = {
    entry: 0,
    state: 0,
    action: 0,
    fresh: 0,
    best: 0,
    worst: 0,
    mu: 0,
    sd: 0,
    z,
    consensus: global,
    stale: global,
    bases: [global],
    tMin: 0,
    tMax: 0,
    slack: 0,
    actions: A,
    alpha: learning.alpha,
    bounds,
    round: 0,
    reporter: 0,
    rng: attackRng,
  };
  const equivocators = new Set<number>();
  const lastRound = new Map<number, number>();

  // Real signatures for the forged-origin attack.
  const keyring = new MapKeyring();
  const ids = agents.map((_, i) => identityFromRng(`agent-${i}`, root.fork(`key-${i}`)));
  if (attack === 'forged-origin') for (const id of ids) keyring.add(id.id, id.publicKey);

  const diverse = c.behaviour === 'diverse';
  const offPolicy = c.behaviour === 'off-policy';
  const bias = c.offPolicyBias ?? 0.5;
  const step = (ag: Agent): void => {
    const rng = ag.rng;
    if (ag.s < 0) {
      ag.s = diverse ? (sampleInitial(mdp, rng) + ag.pref * 7) % S : sampleInitial(mdp, rng);
      if (diverse && mdp.initial[ag.s] === 0) ag.s = sampleInitial(mdp, rng);
      ag.h = 0;
    }
    const s = ag.s;
    const mask = mdp.mask[s];
    const eps = offPolicy ? 1 : epsilonAt(learning, ag.steps);
    let a = -1;
    if (rng.next() < eps) {
      const p = offPolicy ? preferredAction(ag.id, s, A) : ag.pref;
      if ((diverse || offPolicy) && rng.next() < (offPolicy ? bias : 0.5) && mask & (1 << p)) a = p;
      else {
        do a = rng.int(A);
        while ((mask & (1 << a)) === 0);
      }
    } else {
      let best = -Infinity;
      let ties = 0;
      for (let b = 0; b < A; b++) {
        if ((mask & (1 << b)) === 0) continue;
        const x = ag.q[s * A + b];
        if (x > best) {
          best = x;
          a = b;
          ties = 1;
        } else if (x === best) {
          ties++;
          if (rng.int(ties) === 0) a = b;
        }
      }
    }
    const k = sampleOutcome(mdp, s, a, rng);
    const s2 = mdp.next[k];
    let r = mdp.reward[k];
    if (ag.byz && attack === 'reward-flip') r = mdp.rMin + mdp.rMax - r;
    let mx = 0;
    if (!mdp.terminal[k]) {
      mx = -Infinity;
      for (let b = 0; b < A; b++) if (mdp.mask[s2] & (1 << b)) mx = Math.max(mx, ag.q[s2 * A + b]);
    }
    const e = s * A + a;
    const v = tdStep(ag.q[e], r, mx, learning.alpha, learning.gamma);
    ag.q[e] = Math.max(bounds.min, Math.min(bounds.max, Math.fround(v)));
    ag.visits[e] = Math.min(U32_MAX, ag.visits[e] + 1);
    if (ag.fresh[e]++ === 0) ag.touched[ag.nTouched++] = e;
    ag.steps++;
    ag.h++;
    if (mdp.terminal[k] || ag.h >= mdp.horizon) {
      ag.s = -1;
      ag.episodes++;
    } else ag.s = s2;
  };

  // Scratch for one round.
  const mark = new Int32Array(SA).fill(-1);
  const cols = new Int32Array(SA);
  const R = N + 1; // row 0: the aggregator's current consensus; row i+1: agent i.
  const qm = new Float64Array(SA * R);
  const wm = new Float64Array(SA * R);
  const fm = new Float64Array(SA * R);
  const trust =
    !plain && c.trust
      ? new ReporterTrust({
          ...c.trustOptions,
          alpha: learning.alpha,
          minScale: 0.1 * (mdp.rMax - mdp.rMin),
        })
      : null;
  const rowIds = ['consensus', ...agents.map((_, i) => `agent-${i}`)];
  const out = newOutput(SA);
  const usedW = new Float64Array(SA * R);
  let round = 0;

  const inflating = attack === 'visit-inflation' || attack === 'visit-inflation-quiet';
  const byzDelta = (count: number): Delta => {
    const d = emptyDelta('peer', 'byz', count);
    d.interactions = c.syncEvery;
    return d;
  };

  // (agent, entry) pairs whose consensus goes back to a member whose delta was refused as unreachable.
  const resend: number[] = [];
  // The consensus as published before each of the last `tdWindow − 1` rounds (newest first).
  const published: Float64Array[] = [];

  // The round's report matrix: entry e is column mark[e] (−1: not reported this round), cols[k] is column k's
  // entry, K columns so far; row 0 is the consensus, row i + 1 agent i.
  let K = 0;
  const add = (e: number): number => {
    if (mark[e] < 0) {
      mark[e] = K;
      cols[K] = e;
      for (let r = 0; r < R; r++) wm[K * R + r] = 0;
      K++;
    }
    return mark[e];
  };
  const put = (i: number, k: number, q: number, w: number, fresh: number): void => {
    qm[k * R + i + 1] = q;
    wm[k * R + i + 1] = w;
    fm[k * R + i + 1] = fresh;
  };

  // The round's TD-reachability check, as `FederatedQTable`'s: target range, window and slack (`openRound`).
  let tMin = 0;
  let tMax = 0;
  let slack = 0;
  let bases: Float64Array[] = [global];
  // As in `FederatedQTable`, the plain ADR-115 merge has no reachability check (it trusts claimed visits),
  // and a report with no fresh visits (no weight under a robust rule) is not checked.
  const reachable = (e: number, q: number, fresh: number): boolean => {
    if (!c.tdCheck || plain || fresh === 0) return true;
    const steps = Math.min(c.syncEvery, fresh) + slack;
    return bases.some((b) => tdReachable(b[e], q, steps, learning.alpha, tMin, tMax, 1e-4));
  };

  /** TD bounds from the consensus table, and the values each entry was published with in the window. */
  const openRound = (): void => {
    K = 0;
    let vMin = 0;
    let vMax = 0;
    for (let e = 0; e < SA; e++) {
      if (global[e] < vMin) vMin = global[e];
      if (global[e] > vMax) vMax = global[e];
    }
    ({ tMin, tMax } = tdTargetRange(vMin, vMax, mdp.rMin, mdp.rMax, mdp.gamma, learning.alpha));
    // The consensus, and the aggregates before it once enough were published; one step of slack until then.
    const windowed = published.length >= tdWindow - 1;
    bases = windowed ? [global, ...published] : [global];
    slack = windowed ? tdSlack : Math.max(1, tdSlack);
    view.bases = bases;
    view.tMin = tMin;
    view.tMax = tMax;
    view.slack = slack;
    view.round = round;
    view.stale = history.length > 0 ? history[0] : global;
  };

  /**
   * Every learner's delta (its entries touched since the last round), refused whole if any value is
   * unreachable. Returns how many columns the honest agents' reports opened (they come first).
   */
  const collectLearners = (): number => {
    let honestEntries = 0;
    for (let i = 0; i < N; i++) {
      const ag = agents[i];
      if (!ag.learns) continue;
      let ok = true;
      for (let t = 0; t < ag.nTouched; t++) {
        const e = ag.touched[t];
        if (!reachable(e, Math.fround(ag.q[e]), ag.fresh[e])) {
          ok = false;
          resend.push(i, e);
        }
      }
      if (!ok) {
        refuse(ag.byz ? 'E_UNREACHABLE' : 'HONEST_UNREACHABLE');
        continue;
      }
      for (let t = 0; t < ag.nTouched; t++) {
        const e = ag.touched[t];
        put(
          i,
          add(e),
          Math.fround(ag.q[e]),
          plain ? ag.visits[e] : Math.min(c.weightCap, ag.fresh[e]),
          ag.fresh[e],
        );
      }
      if (!ag.byz) honestEntries = K;
    }
    return honestEntries;
  };

  /**
   * The colluders' shared targets, drawn from the entries honest agents reported this round (a rushing
   * adversary). Visit inflation poisons every available entry: the targets with the fresh-visit budget (the
   * first `poisoned`), all others with no fresh visits (no weight under a robust rule, 2³²−1 claimed visits
   * under the plain one).
   */
  const chooseTargets = (honestK: number): { targets: number[]; poisoned: number } => {
    const drawn: number[] = [];
    const budget = Math.min(c.syncEvery, honestK);
    for (let t = 0; t < budget; t++) drawn.push(cols[attackRng.int(honestK)]);
    const targets = [...new Set(drawn)];
    const poisoned = targets.length;
    if (inflating) {
      const chosen = new Set(targets);
      for (let e = 0; e < SA; e++) {
        if (chosen.has(e) || (mdp.mask[Math.floor(e / A)] & (1 << (e % A))) === 0) continue;
        add(e);
        targets.push(e);
      }
    }
    return { targets, poisoned };
  };

  // What the colluders see of each target this round (by its position in the target list): the honest
  // reports' mean and spread, and the consensus's greedy and worst actions in its state. The same for every
  // colluder, so computed once per round.
  const seenMu = new Float64Array(SA);
  const seenSd = new Float64Array(SA);
  const seenBest = new Int32Array(SA);
  const seenWorst = new Int32Array(SA);
  const observeTargets = (targets: readonly number[]): void => {
    for (let t = 0; t < targets.length; t++) {
      const e = targets[t];
      const k = mark[e];
      let mu = 0;
      let n = 0;
      for (let j = 0; j < N - c.byzantine; j++) {
        if (wm[k * R + j + 1] > 0) {
          mu += qm[k * R + j + 1];
          n++;
        }
      }
      mu = n > 0 ? mu / n : global[e];
      let sd = 0;
      for (let j = 0; j < N - c.byzantine; j++) {
        if (wm[k * R + j + 1] > 0) sd += (qm[k * R + j + 1] - mu) ** 2;
      }
      const s = Math.floor(e / A);
      seenMu[t] = mu;
      seenSd[t] = n > 1 ? Math.sqrt(sd / (n - 1)) : 0;
      seenBest[t] = argBest(mdp, global, s, false);
      seenWorst[t] = argBest(mdp, global, s, true);
    }
  };

  /** Byzantine member i's delta on the targets, through the checks every member's delta goes through. */
  const collectByzantine = (i: number, targets: readonly number[], poisoned: number): void => {
    if (equivocators.has(i)) {
      refuse('E_EQUIVOCATION');
      return;
    }
    const d = byzDelta(targets.length);
    view.reporter = i;
    for (let t = 0; t < targets.length; t++) {
      const e = targets[t];
      view.entry = e;
      view.state = Math.floor(e / A);
      view.action = e % A;
      view.mu = seenMu[t];
      view.sd = seenSd[t];
      view.best = seenBest[t];
      view.worst = seenWorst[t];
      view.fresh = t < poisoned ? 1 : 0;
      d.hi[t] = 0;
      d.lo[t] = view.state;
      d.action[t] = view.action;
      d.q[t] = poisonedValue(attack, view);
      d.visits[t] = inflating ? U32_MAX : Math.max(1, Math.round(globalN[e]));
      d.fresh[t] = view.fresh;
    }
    if (attack === 'forged-origin') {
      // Claims to come from honest agent 0, signed with the attacker's own key.
      d.origin = ids[0].id;
      try {
        decodeDelta(encodeDeltaUnchecked(d, ids[i]), keyring, { actions: Math.max(5, A) });
        refuse('ACCEPTED_FORGERY');
      } catch (err) {
        refuse(isElexErrorCode(err) ?? 'E_UNKNOWN');
      }
      return;
    }
    if (attack === 'stale-replay') {
      // A replay of an honest agent's earlier signed delta: its round is not newer than the last seen.
      const victim = i % (N - c.byzantine);
      const last = lastRound.get(victim) ?? 0;
      if (round - 20 <= last) refuse('E_STALE');
    }
    const verdict = checkDelta(d, { bounds, maxInteractions: c.syncEvery });
    if (!verdict.ok) {
      refuse(verdict.code);
      return;
    }
    for (let t = 0; t < d.count; t++) {
      if (!reachable(d.lo[t] * A + d.action[t], d.q[t], d.fresh[t])) {
        refuse('E_UNREACHABLE');
        return;
      }
    }
    for (let t = 0; t < d.count; t++) {
      const k = mark[d.lo[t] * A + d.action[t]];
      put(i, k, d.q[t], plain ? d.visits[t] : Math.min(c.weightCap, d.fresh[t]), d.fresh[t]);
    }
    if (attack === 'equivocation') equivocators.add(i);
  };

  /**
   * The rule decides every reported entry, behind reporter trust, and every member adopts the decision; an
   * entry with nothing kept is restated (`FederatedQTable`'s `restateUndecided`).
   */
  const decide = (): void => {
    // Row 0: the consensus so far (ADR-115's local table: weighted by its visits under the plain rule; the
    // centre of clipping otherwise, with no weight of its own).
    for (let k = 0; k < K; k++) {
      const e = cols[k];
      qm[k * R] = global[e];
      wm[k * R] = plain ? globalN[e] : 0;
    }
    const set: ReportSet = {
      entries: K,
      reporters: R,
      q: qm.subarray(0, K * R),
      w: wm.subarray(0, K * R),
      self: 0,
    };
    if (trust) {
      trust.observe(set, fm, rowIds);
      trust.weigh(set, rowIds);
    }
    const used = usedW.subarray(0, K * R);
    used.set(set.w);
    const o = { q: out.q.subarray(0, K), w: out.w.subarray(0, K), used };
    rule(set, params, o);
    if (!plain && c.shrink) shrinkTowardConsensus(set, 0, o, used);
    for (let k = 0; k < K; k++) {
      const e = cols[k];
      mark[e] = -1;
      const v = o.q[k];
      if (o.w[k] > 0 && !Number.isFinite(v)) nonFinite++;
      if (!(o.w[k] > 0) || !Number.isFinite(v)) {
        // Nothing kept: the aggregate restates the consensus, so a member whose report was dropped does not
        // drift from it.
        for (const ag of agents) if (ag.learns) ag.q[e] = global[e];
        continue;
      }
      global[e] = Math.fround(Math.max(bounds.min, Math.min(bounds.max, v)));
      // Visits behind the decided value: only the reports the rule kept.
      let n = plain ? 0 : globalN[e];
      for (let r = plain ? 0 : 1; r < R; r++) n += used[k * R + r];
      globalN[e] = Math.min(U32_MAX, n);
      // Every member adopts the aggregate for the decided entries.
      for (const ag of agents) {
        if (!ag.learns) continue;
        ag.q[e] = global[e];
        ag.visits[e] = globalN[e];
      }
    }
  };

  /** Resends, fresh visits cleared, and what later rounds check against (the window) or replay (history). */
  const closeRound = (before: Float64Array | null): void => {
    // A refused member gets the consensus of its unreachable entries back (FederatedQTable's resend).
    for (let j = 0; j < resend.length; j += 2) agents[resend[j]].q[resend[j + 1]] = global[resend[j + 1]];
    resend.length = 0;
    for (const ag of agents) {
      for (let t = 0; t < ag.nTouched; t++) ag.fresh[ag.touched[t]] = 0;
      ag.nTouched = 0;
    }
    if (before !== null) {
      published.unshift(before);
      if (published.length > tdWindow - 1) published.pop();
    }
    if (attack === 'stale-replay') {
      history.push(global.slice());
      if (history.length > 50) history.shift();
    }
  };

  /** One synchronous round of the evaluated aggregator. */
  const roundSync = (): void => {
    round++;
    const before = tdWindow > 1 ? global.slice() : null;
    openRound();
    const honestK = collectLearners();
    if (attack !== 'none' && attack !== 'reward-flip' && c.byzantine > 0 && honestK > 0) {
      const { targets, poisoned } = chooseTargets(honestK);
      observeTargets(targets);
      for (let i = N - c.byzantine; i < N; i++) collectByzantine(i, targets, poisoned);
    }
    for (let i = 0; i < N - c.byzantine; i++) lastRound.set(i, round);
    if (K > 0) decide();
    closeRound(before);
  };

  let episodesTo09: number | null = null;
  const tail = 5;
  const rhoSum = new Float64Array(honest.length);
  let tailChecks = 0;
  let nextCheck = c.checkEvery;
  const learners = agents.filter((a) => a.learns);
  const meanEpisodes = () => {
    let t = 0;
    for (const h of honest) t += h.episodes;
    return t / honest.length;
  };
  const polyak = c.polyak ?? 0;
  const averaged = polyak > 0 ? honest.map((h) => Float64Array.from(h.q)) : [];
  // The table ρ is measured on: the member's own, or its Polyak average.
  const measured = (i: number): ArrayLike<number> => (polyak > 0 ? averaged[i] : honest[i].q);
  for (;;) {
    for (let t = 0; t < c.syncEvery; t++) for (const ag of learners) step(ag);
    if (N > 1) roundSync();
    for (let i = 0; i < averaged.length; i++) {
      const avg = averaged[i];
      const q = honest[i].q;
      for (let e = 0; e < avg.length; e++) avg[e] += polyak * (q[e] - avg[e]);
    }
    const ep = meanEpisodes();
    if (ep >= nextCheck) {
      nextCheck += c.checkEvery;
      const inTail = ep >= c.episodes - tail * c.checkEvery;
      if (episodesTo09 === null || inTail) {
        let m = 0;
        for (let i = 0; i < honest.length; i++) {
          const r = rhoOf(mdp, c.solution, measured(i));
          m += r;
          if (inTail) rhoSum[i] += r;
        }
        if (inTail) tailChecks++;
        if (episodesTo09 === null && m / honest.length >= 0.9) episodesTo09 = Math.round(ep);
      }
    }
    if (ep >= c.episodes) break;
  }
  const rho: number[] = [];
  let qErr = 0;
  let agree = 0;
  let agreeN = 0;
  for (let i = 0; i < honest.length; i++) {
    const h = honest[i];
    // ρ is averaged over the last checkpoints (constant α keeps the greedy policy jittering).
    rho.push(tailChecks > 0 ? rhoSum[i] / tailChecks : rhoOf(mdp, c.solution, measured(i)));
    for (let e = 0; e < SA; e++) {
      if (!Number.isFinite(h.q[e])) nonFinite++;
      const s = Math.floor(e / A);
      if (mdp.mask[s] & (1 << (e % A))) qErr = Math.max(qErr, Math.abs(h.q[e] - c.solution.qStar[e]));
    }
    for (let s = 0; s < S; s++) {
      const g = argBest(mdp, h.q, s, false);
      const o = argBest(mdp, c.solution.qStar, s, false);
      agreeN++;
      if (Math.abs(c.solution.qStar[s * A + g] - c.solution.qStar[s * A + o]) <= 1e-9) agree++;
    }
  }
  return {
    rho,
    qErrorInf: qErr / 1,
    greedyAgreement: agree / agreeN,
    episodesTo09,
    refused,
    nonFinite,
    trustRatios: agents.map((_, i) => trust?.ratioOf(`agent-${i}`) ?? null),
  };
}
