/** The three benchmark MDPs of the evaluation. */
import { type Rng, SeededRng } from '../../core/index.js';
import { buildMdp, type Mdp, type Outcome } from './mdp.js';

const FROZEN_LAKE_8X8 = [
  'SFFFFFFF',
  'FFFFFFFF',
  'FFFHFFFF',
  'FFFFFHFF',
  'FFFHFFFF',
  'FHHFFFHF',
  'FHFFHFHF',
  'FFFHFFFG',
];

/** Gymnasium's FrozenLake 8×8, slippery: the intended move or either perpendicular one, 1/3 each. */
export function frozenLake(): Mdp {
  const n = 8;
  const S = n * n;
  const cell = (s: number) => FROZEN_LAKE_8X8[Math.floor(s / n)][s % n];
  // Actions: 0 left, 1 down, 2 right, 3 up.
  const move = (s: number, a: number): number => {
    let r = Math.floor(s / n);
    let c = s % n;
    if (a === 0) c = Math.max(0, c - 1);
    else if (a === 1) r = Math.min(n - 1, r + 1);
    else if (a === 2) c = Math.min(n - 1, c + 1);
    else r = Math.max(0, r - 1);
    return r * n + c;
  };
  const initial = new Float64Array(S);
  initial[0] = 1;
  const mask = new Uint32Array(S).fill(0b1111);
  return buildMdp(
    { name: 'frozen-lake', states: S, actions: 4, gamma: 0.95, initial, mask, horizon: 200 },
    (s, a) => {
      const kind = cell(s);
      if (kind === 'H' || kind === 'G') return [{ p: 1, next: s, r: 0, terminal: true }];
      const out: Outcome[] = [];
      for (const b of [(a + 3) % 4, a, (a + 1) % 4]) {
        const t = move(s, b);
        const k = cell(t);
        out.push({ p: 1 / 3, next: t, r: k === 'G' ? 1 : 0, terminal: k === 'H' || k === 'G' });
      }
      return out;
    },
  );
}

/**
 * A random MDP: 50 states, 5 actions, each (s, a) with a reward uniform in [−1, 1] and two random
 * successors (a likely and an unlikely one); a 10 % chance of termination per step; start uniform. Agents
 * start and explore with their own biases (different behaviour policies).
 */
export function randomMdp(seed = 7): Mdp {
  const rng: Rng = new SeededRng(seed).fork('random-mdp');
  const S = 50;
  const A = 5;
  const table: Outcome[][] = [];
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const w = 0.6 + 0.3 * rng.next();
      const r = 2 * rng.next() - 1;
      const succ = [rng.int(S), rng.int(S)];
      const out: Outcome[] = [
        { p: w * 0.9, next: succ[0], r, terminal: false },
        { p: (1 - w) * 0.9, next: succ[1], r, terminal: false },
        { p: 0.1, next: s, r, terminal: true },
      ];
      table.push(out);
    }
  }
  const initial = new Float64Array(S).fill(1 / S);
  const mask = new Uint32Array(S).fill(0b11111);
  return buildMdp(
    { name: 'random', states: S, actions: A, gamma: 0.95, initial, mask, horizon: 60 },
    (s, a) => table[s * A + a],
  );
}

/**
 * The ELEX query MDP over the state encoding: a query of type t (6), complexity x (3) and confidence bucket
 * c (4 coarse buckets) arrives; the agent answers directly, with context, consults a peer (raises confidence,
 * costs a consultation), asks for clarification (lowers complexity, costs latency) or escalates (a fixed
 * modest outcome). The reward model follows `reward()` in src/learning: rating in [−1, 1], +0.5 when
 * resolved, latency and consultation penalties. ConsultPeer is unavailable at the top confidence bucket,
 * RequestClarification for simple queries. 72 query states + the terminal absorbing outcome.
 */
export function elexQueryMdp(): Mdp {
  const T = 6;
  const X = 3;
  const C = 4;
  const S = T * X * C;
  const id = (t: number, x: number, c: number) => (t * X + x) * C + c;
  const initial = new Float64Array(S);
  for (let t = 0; t < T; t++) for (let x = 0; x < X; x++) initial[id(t, x, 0)] = 1 / (T * X);
  const mask = new Uint32Array(S);
  for (let t = 0; t < T; t++) {
    for (let x = 0; x < X; x++) {
      for (let c = 0; c < C; c++) {
        let m = 0b11111;
        if (c === C - 1) m &= ~(1 << 2);
        if (x === 0) m &= ~(1 << 3);
        mask[id(t, x, c)] = m;
      }
    }
  }
  return buildMdp(
    { name: 'elex-query', states: S, actions: 5, gamma: 0.95, initial, mask, horizon: 20 },
    (s, a) => {
      const c = s % C;
      const x = Math.floor(s / C) % X;
      const t = Math.floor(s / (C * X));
      // Probability that a direct / contextual answer resolves the query.
      const base = (0.25 + 0.2 * c) * (1 - 0.25 * x) * (t === 4 ? 0.7 : 1);
      const answer = (pOk: number, latency: number): Outcome[] => [
        { p: pOk, next: s, r: 1 + 0.5 - latency, terminal: true },
        { p: 1 - pOk, next: s, r: -0.6 - latency, terminal: true },
      ];
      if (a === 0) return answer(Math.min(0.95, base), 0.02);
      if (a === 1) return answer(Math.min(0.95, base + 0.15 + 0.05 * x), 0.1);
      if (a === 2) {
        return [
          { p: 0.8, next: id(t, x, Math.min(C - 1, c + 1)), r: -0.05 - 0.05, terminal: false },
          { p: 0.2, next: s, r: -0.05 - 0.05, terminal: false },
        ];
      }
      if (a === 3) {
        return [
          { p: 0.7, next: id(t, Math.max(0, x - 1), c), r: -0.15, terminal: false },
          { p: 0.3, next: s, r: -0.15, terminal: false },
        ];
      }
      return [{ p: 1, next: s, r: 0.3 + 0.5 - 0.2, terminal: true }];
    },
  );
}

export const MDP_NAMES = ['frozen-lake', 'random', 'elex-query'] as const;
export type MdpName = (typeof MDP_NAMES)[number];

export function mdpByName(name: MdpName): Mdp {
  if (name === 'frozen-lake') return frozenLake();
  if (name === 'random') return randomMdp();
  return elexQueryMdp();
}
