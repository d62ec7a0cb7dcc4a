import type { HistoryOp } from '../../src/sim/raft/linearizability.js';

/** A history operation for the linearizability checker's tests: a completed `put` of key 'k' unless overridden. */
export const op = (p: Partial<HistoryOp>): HistoryOp => ({
  kind: 'put',
  key: 'k',
  value: null,
  expected: null,
  call: 0,
  ret: 1,
  ok: true,
  out: null,
  ...p,
});
