/**
 * The ELEX state encoding and action set (DESIGN §6). A state is a u64, handled on hot paths as two u32
 * halves: `lo` holds bits 0–31 and `hi` bits 32–63.
 *
 *   bits 0–2  query type   (parameter, counter, kpi, procedure, troubleshoot, general)
 *   bits 3–4  complexity   (simple, moderate, complex)
 *   bits 5–8  confidence   round(c · 15)
 *   bits 9–63 context hash (55 bits)
 */
import { ElexError } from '../core/index.js';

export const QUERY_TYPES = ['parameter', 'counter', 'kpi', 'procedure', 'troubleshoot', 'general'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];
export const COMPLEXITIES = ['simple', 'moderate', 'complex'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

/** The five ELEX actions, by index. */
export const ACTIONS = [
  'DirectAnswer',
  'ContextAnswer',
  'ConsultPeer',
  'RequestClarification',
  'Escalate',
] as const;
export type ActionName = (typeof ACTIONS)[number];
export const ACTION_COUNT = ACTIONS.length;
export const Action = {
  DirectAnswer: 0,
  ContextAnswer: 1,
  ConsultPeer: 2,
  RequestClarification: 3,
  Escalate: 4,
} as const;

export interface StateFeatures {
  queryType: QueryType;
  complexity: Complexity;
  /** In [0, 1]. */
  confidence: number;
  /** Up to 55 bits; higher bits are dropped. */
  contextHash: bigint;
}

const CONTEXT_MASK = (1n << 55n) - 1n;

export function confidenceBucket(c: number): number {
  if (!Number.isFinite(c) || c < 0 || c > 1)
    throw new ElexError('E_RANGE', `confidence must be in [0, 1], got ${c}`);
  return Math.round(c * 15);
}

export function encodeState(f: StateFeatures): bigint {
  const t = QUERY_TYPES.indexOf(f.queryType);
  const x = COMPLEXITIES.indexOf(f.complexity);
  if (t < 0) throw new ElexError('E_RANGE', `unknown query type ${String(f.queryType)}`);
  if (x < 0) throw new ElexError('E_RANGE', `unknown complexity ${String(f.complexity)}`);
  const ctx = f.contextHash & CONTEXT_MASK;
  return BigInt(t) | (BigInt(x) << 3n) | (BigInt(confidenceBucket(f.confidence)) << 5n) | (ctx << 9n);
}

export function decodeState(s: bigint): StateFeatures {
  const t = Number(s & 7n);
  const x = Number((s >> 3n) & 3n);
  if (t >= QUERY_TYPES.length || x >= COMPLEXITIES.length) {
    throw new ElexError('E_RANGE', `state ${s} has an invalid query type or complexity field`);
  }
  return {
    queryType: QUERY_TYPES[t],
    complexity: COMPLEXITIES[x],
    confidence: Number((s >> 5n) & 15n) / 15,
    contextHash: (s >> 9n) & CONTEXT_MASK,
  };
}

export function stateLo(s: bigint): number {
  return Number(s & 0xffffffffn);
}
export function stateHi(s: bigint): number {
  return Number((s >> 32n) & 0xffffffffn);
}
export function joinState(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
