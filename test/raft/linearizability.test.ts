import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { checkKey, type HistoryOp } from '../../src/sim/raft/linearizability.js';
import { op } from './history-op.js';

const INF = Number.POSITIVE_INFINITY;

/** The KV model, written out again: the new state, or undefined when `o`'s response is impossible. */
function model(state: string | null, o: HistoryOp): string | null | undefined {
  const pending = o.ret === INF;
  switch (o.kind) {
    case 'put':
      return pending || o.out === state ? o.value : undefined;
    case 'delete':
      return pending || o.out === state ? null : undefined;
    case 'cas': {
      const match = state === o.expected;
      if (!pending && (o.ok !== match || o.out !== state)) return undefined;
      return match ? o.value : state;
    }
    case 'get':
      return o.out === state ? state : undefined;
  }
}

/**
 * Linearizability by brute force: some order of the operations that respects real time (a precedes b when a
 * returned strictly before b was called) explains every response; an operation with no response (ret +∞)
 * may take effect anywhere after its call, or never (a pending get never matters).
 */
function bruteForce(ops: readonly HistoryOp[]): boolean {
  const h = ops.filter((o) => !(o.kind === 'get' && o.ret === INF));
  const used = h.map(() => false);
  const search = (state: string | null): boolean => {
    if (h.every((o, i) => used[i] || o.ret === INF)) return true;
    for (let i = 0; i < h.length; i++) {
      if (used[i] || h.some((o, j) => !used[j] && j !== i && o.ret < h[i].call)) continue;
      const next = model(state, h[i]);
      if (next === undefined) continue;
      used[i] = true;
      const ok = search(next);
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(null);
}

/** A history produced by a real register (each op takes effect at a random point of its interval, a pending
 * one maybe never), then, half the time, one response corrupted. */
function history(rng: SeededRng): HistoryOp[] {
  const n = 2 + rng.int(7);
  const ops: Array<HistoryOp & { at: number }> = [];
  for (let i = 0; i < n; i++) {
    const call = rng.int(12);
    const at = call + rng.next() * 4;
    const ret = rng.next() < 0.25 ? INF : Math.ceil(at + rng.next() * 3);
    const p = rng.next();
    const kind = p < 0.35 ? 'put' : p < 0.55 ? 'cas' : p < 0.65 ? 'delete' : 'get';
    const value = kind === 'put' || kind === 'cas' ? `v${i}` : null;
    ops.push({ ...op({ kind, value, call, ret, ok: false }), at });
  }
  const values = [null, ...ops.flatMap((o) => (o.value === null ? [] : [o.value]))];
  for (const o of ops) if (o.kind === 'cas') o.expected = values[rng.int(values.length)];
  let state: string | null = null;
  for (const o of ops.filter((o) => o.ret !== INF || rng.next() < 0.5).sort((a, b) => a.at - b.at)) {
    o.out = state;
    if (o.kind === 'put') state = o.value;
    else if (o.kind === 'delete') state = null;
    else if (o.kind === 'cas') {
      o.ok = state === o.expected;
      if (o.ok) state = o.value;
    } else o.ok = true;
  }
  const done = ops.filter((o) => o.ret !== INF);
  if (rng.next() < 0.5 && done.length > 0) {
    const o = done[rng.int(done.length)];
    o.out = values[rng.int(values.length)];
    if (o.kind === 'cas' && rng.next() < 0.3) o.ok = !o.ok;
  }
  return ops.map(({ at: _, ...o }) => o);
}

describe('linearizability checker against brute force', () => {
  it('agrees on 5,000 small histories with pending operations (about a third not linearizable)', () => {
    const rng = new SeededRng(7);
    let rejected = 0;
    for (let t = 0; t < 5000; t++) {
      const h = history(rng);
      const want = bruteForce(h);
      if (!want) rejected++;
      expect({ t, ok: checkKey(h).ok }).toEqual({ t, ok: want });
    }
    expect(rejected).toBeGreaterThan(1000);
    expect(rejected).toBeLessThan(4000);
  });

  it('a pending write takes effect after its call, not before', () => {
    const h = [
      op({ kind: 'get', out: '1', call: 0, ret: 1 }),
      op({ kind: 'put', value: '1', call: 2, ret: INF }),
    ];
    expect(checkKey(h).ok).toBe(false);
  });

  it('a pending write may take effect long after later operations of others', () => {
    const h = [
      op({ kind: 'put', value: '1', call: 0, ret: INF }),
      op({ kind: 'put', value: '2', call: 5, ret: 6, out: null }),
      op({ kind: 'get', out: '2', call: 7, ret: 8 }),
      op({ kind: 'get', out: '1', call: 100, ret: 101 }),
    ];
    expect(checkKey(h).ok).toBe(true);
  });

  it('a pending CAS takes effect only if its expectation holds where it lands', () => {
    const base = [
      op({ kind: 'put', value: 'a', call: 0, ret: 1 }),
      op({ kind: 'cas', expected: 'x', value: 'b', call: 2, ret: INF }),
    ];
    expect(checkKey([...base, op({ kind: 'get', out: 'b', call: 3, ret: 4 })]).ok).toBe(false);
    expect(checkKey([...base, op({ kind: 'get', out: 'a', call: 3, ret: 4 })]).ok).toBe(true);
  });
});
