/**
 * The Byzantine members of a run, colluding: each round they share one target set drawn from the entries honest
 * agents reported (a rushing adversary), and one view of each target. What each then sends is
 * `collectByzantine` (byzantine-delta.ts).
 */
import type { Rng } from '../../core/index.js';
import { type AttackName, alieZ, type EntryView } from './attacks.js';
import { type Identity, identityFromRng, MapKeyring } from './deps.js';
import { argBest } from './mdp.js';
import type { RunState } from './run-state.js';

export class Colluders {
  readonly attack: AttackName;
  readonly inflating: boolean;
  /** Whether the colluders send deltas at all (reward flippers only learn; 'none' has none). */
  readonly reporting: boolean;
  private readonly rng: Rng;
  // What a Byzantine reporter sees of one entry (one object, refilled per entry: this runs per report).
  readonly view: EntryView;
  // What the colluders see of each target this round (by its position in the target list): the honest
  // reports' mean and spread, and the consensus's greedy and worst actions in its state. The same for every
  // colluder, so computed once per round.
  readonly seenMu: Float64Array;
  readonly seenSd: Float64Array;
  readonly seenBest: Int32Array;
  readonly seenWorst: Int32Array;
  // Real signatures for the forged-origin attack.
  readonly keyring = new MapKeyring();
  readonly ids: Identity[];
  /** The consensus after each of the last 50 rounds, oldest first (stale-replay only). */
  private readonly history: Float64Array[] = [];

  constructor(run: RunState, root: Rng) {
    const { c, mdp, global } = run;
    const SA = global.length;
    this.attack = c.attack;
    this.inflating = c.attack === 'visit-inflation' || c.attack === 'visit-inflation-quiet';
    this.reporting = c.attack !== 'none' && c.attack !== 'reward-flip' && c.byzantine > 0;
    this.rng = root.fork('attack');
    this.view = {
      entry: 0,
      state: 0,
      action: 0,
      fresh: 0,
      best: 0,
      worst: 0,
      mu: 0,
      sd: 0,
      z: alieZ(c.agents, c.byzantine),
      consensus: global,
      stale: global,
      bases: [global],
      tMin: 0,
      tMax: 0,
      slack: 0,
      actions: mdp.actions,
      alpha: run.learning.alpha,
      bounds: run.bounds,
      round: 0,
      reporter: 0,
      rng: this.rng,
    };
    this.seenMu = new Float64Array(SA);
    this.seenSd = new Float64Array(SA);
    this.seenBest = new Int32Array(SA);
    this.seenWorst = new Int32Array(SA);
    this.ids = run.agents.map((_, i) => identityFromRng(`agent-${i}`, root.fork(`key-${i}`)));
    if (c.attack === 'forged-origin') for (const id of this.ids) this.keyring.add(id.id, id.publicKey);
  }

  /** What the round's reachability check accepts, and what a stale replay replays. */
  openRound(run: RunState): void {
    const { check } = run;
    const view = this.view;
    view.bases = check.bases;
    view.tMin = check.tMin;
    view.tMax = check.tMax;
    view.slack = check.slack;
    view.round = run.round;
    view.stale = this.history.length > 0 ? this.history[0] : run.global;
  }

  /**
   * The colluders' shared targets, drawn from the entries honest agents reported this round (a rushing
   * adversary). Visit inflation poisons every available entry: the targets with the fresh-visit budget (the
   * first `poisoned`), all others with no fresh visits (no weight under a robust rule, 2³²−1 claimed visits
   * under the plain one).
   */
  chooseTargets(run: RunState, honestK: number): { targets: number[]; poisoned: number } {
    const { matrix, mdp } = run;
    const A = mdp.actions;
    const drawn: number[] = [];
    const budget = Math.min(run.c.syncEvery, honestK);
    for (let t = 0; t < budget; t++) drawn.push(matrix.cols[this.rng.int(honestK)]);
    const targets = [...new Set(drawn)];
    const poisoned = targets.length;
    if (this.inflating) {
      const chosen = new Set(targets);
      for (let e = 0; e < run.global.length; e++) {
        if (chosen.has(e) || (mdp.mask[Math.floor(e / A)] & (1 << (e % A))) === 0) continue;
        matrix.add(e);
        targets.push(e);
      }
    }
    return { targets, poisoned };
  }

  /** The honest reports' mean and spread on each target, and the consensus's best and worst actions there. */
  observeTargets(run: RunState, targets: readonly number[]): void {
    const { global, matrix, mdp } = run;
    const { R, mark, q, w } = matrix;
    const A = mdp.actions;
    const honest = run.c.agents - run.c.byzantine;
    for (let t = 0; t < targets.length; t++) {
      const e = targets[t];
      const k = mark[e];
      let mu = 0;
      let n = 0;
      for (let j = 0; j < honest; j++) {
        if (w[k * R + j + 1] > 0) {
          mu += q[k * R + j + 1];
          n++;
        }
      }
      mu = n > 0 ? mu / n : global[e];
      let sd = 0;
      for (let j = 0; j < honest; j++) {
        if (w[k * R + j + 1] > 0) sd += (q[k * R + j + 1] - mu) ** 2;
      }
      const s = Math.floor(e / A);
      this.seenMu[t] = mu;
      this.seenSd[t] = n > 1 ? Math.sqrt(sd / (n - 1)) : 0;
      this.seenBest[t] = argBest(mdp, global, s, false);
      this.seenWorst[t] = argBest(mdp, global, s, true);
    }
  }

  /** A stale replay remembers the consensus. */
  closeRound(run: RunState): void {
    if (this.attack === 'stale-replay') {
      this.history.push(run.global.slice());
      if (this.history.length > 50) this.history.shift();
    }
  }
}
