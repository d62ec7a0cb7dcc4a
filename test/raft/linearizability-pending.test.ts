import { describe, expect, it } from 'vitest';
import { runOne } from '../../src/sim/raft/campaign.js';
import { checkKey, type HistoryOp } from '../../src/sim/raft/linearizability.js';
import { op } from './history-op.js';

const INF = Number.POSITIVE_INFINITY;

/**
 * `pending` writes that never got an answer (their session expired after a retry, or they timed out), none of
 * whose values anyone observed, beside a client's sequential puts and reads. Linearizable: each pending write
 * takes effect at the end (or never).
 */
function unobservedPending(pending: number): HistoryOp[] {
  const h: HistoryOp[] = [];
  for (let i = 0; i < pending; i++)
    h.push(
      i % 4 === 3
        ? op({ kind: 'cas', expected: null, value: `p${i}`, call: i, ret: INF })
        : op({ kind: 'put', value: `p${i}`, call: i, ret: INF }),
    );
  let prev: string | null = null;
  for (let j = 0; j < 10; j++) {
    const t = 100 + 4 * j;
    h.push(op({ kind: 'put', value: `w${j}`, call: t, ret: t + 1, out: prev }));
    h.push(op({ kind: 'get', call: t + 2, ret: t + 3, out: `w${j}` }));
    prev = `w${j}`;
  }
  return h;
}

describe('linearizability checker: writes with no answer whose value nobody observed', () => {
  it('accepts a linearizable history with 24 of them (it exhausted its search budget and reported a failure)', () => {
    const r = checkKey(unobservedPending(24));
    expect(r).toEqual({ ok: true, exhausted: false });
  });

  it('still rejects the same history once a read returns a value nobody wrote', () => {
    const h = unobservedPending(24);
    h.push(op({ kind: 'get', call: 200, ret: 201, out: 'never-written' }));
    expect(checkKey(h).ok).toBe(false);
  });

  it('still places a pending write whose value is read after its call', () => {
    const h = unobservedPending(24);
    // p5 is read after w9: it took effect after w9's put (its own call was at 5, long before).
    h.push(op({ kind: 'get', call: 200, ret: 201, out: 'p5' }));
    expect(checkKey(h)).toEqual({ ok: true, exhausted: false });
    // ...but not before its call.
    const early = unobservedPending(24);
    early.push(op({ kind: 'get', call: 1, ret: 2, out: 'p5' }));
    expect(checkKey(early).ok).toBe(false);
  });

  it('a Raft campaign run with sessions expiring under load is linearizable (it was counted a failure)', () => {
    // `elex simulate raft --runs 40 --seed 11 --clients 5 --max-sessions 2` reported 4 linearizability failures,
    // every one a search that ran out of budget on a linearizable history; this is run 10 of that campaign.
    const r = runOne(1901417662, {
      runs: 1,
      seed: 11,
      nodes: 3,
      durationMs: 3000,
      clients: 5,
      maxSessions: 2,
    });
    expect(r.violations).toEqual([]);
    expect(r.incompleteOps).toBeGreaterThan(40);
    expect(r.linearizable).toBe(true);
  });
});
