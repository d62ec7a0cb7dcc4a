import { ElexError, exponential, type Rng } from '../core/index.js';

/** Per-link latency shapes. Base is the floor; the tail is exponential with the given mean. */
export const LATENCY_PROFILES = {
  loopback: { baseMs: 0.02, tailMeanMs: 0.02 },
  lan: { baseMs: 0.2, tailMeanMs: 0.3 },
  wan: { baseMs: 20, tailMeanMs: 10 },
} as const;
export type LatencyProfile = keyof typeof LATENCY_PROFILES;

/** The fault knobs of one link (or the network default). Probabilities are per message. */
export interface LinkModel {
  profile: LatencyProfile;
  loss: number;
  duplicate: number;
  /** Probability a message escapes per-link FIFO order and takes extra random delay. */
  reorder: number;
  /** Probability of a delay spike, and its size. */
  spikeProb: number;
  spikeMs: number;
}

export const DEFAULT_LINK: LinkModel = {
  profile: 'lan',
  loss: 0,
  duplicate: 0,
  reorder: 0,
  spikeProb: 0,
  spikeMs: 200,
};

export function validateLink(m: LinkModel): LinkModel {
  for (const k of ['loss', 'duplicate', 'reorder', 'spikeProb'] as const) {
    if (!(m[k] >= 0 && m[k] <= 1))
      throw new ElexError('E_CONFIG', `link ${k} must be in [0, 1], got ${m[k]}`);
  }
  if (!(m.spikeMs >= 0)) throw new ElexError('E_CONFIG', `link spikeMs must be >= 0, got ${m.spikeMs}`);
  if (!(m.profile in LATENCY_PROFILES))
    throw new ElexError('E_CONFIG', `unknown latency profile ${m.profile}`);
  return m;
}

/** One-way latency of a message on a link, before FIFO and reorder adjustments. */
export function sampleLatency(rng: Rng, m: LinkModel): number {
  const p = LATENCY_PROFILES[m.profile];
  let d = p.baseMs + exponential(rng, p.tailMeanMs);
  if (m.spikeProb > 0 && rng.next() < m.spikeProb) d += m.spikeMs * (0.5 + rng.next());
  return d;
}

/**
 * The three partition shapes:
 * - symmetric: `sides` cannot reach each other in either direction;
 * - asymmetric: `from` → `to` is cut, `to` → `from` stays open;
 * - partial: like symmetric between `sides`, but `bridges` (in neither side) see everyone.
 */
export type PartitionSpec =
  | { kind: 'symmetric'; sides: number[][] }
  | { kind: 'asymmetric'; from: number[]; to: number[] }
  | { kind: 'partial'; sides: number[][]; bridges: number[] };

/** Directed (from, to) pairs a partition cuts. */
export function cutPairs(spec: PartitionSpec): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  const across = (sides: number[][]) => {
    for (let i = 0; i < sides.length; i++)
      for (let j = 0; j < sides.length; j++) {
        if (i === j) continue;
        for (const a of sides[i]) for (const b of sides[j]) pairs.push([a, b]);
      }
  };
  switch (spec.kind) {
    case 'symmetric':
      across(spec.sides);
      break;
    case 'partial': {
      const bridges = new Set(spec.bridges);
      for (const side of spec.sides)
        for (const n of side)
          if (bridges.has(n)) throw new ElexError('E_CONFIG', `bridge node ${n} must not be in a side`);
      across(spec.sides);
      break;
    }
    case 'asymmetric':
      for (const a of spec.from) for (const b of spec.to) pairs.push([a, b]);
      break;
  }
  return pairs;
}
