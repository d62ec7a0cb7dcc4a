import { describe, expect, it } from 'vitest';
import { type Entry, EntryType, encodeKv, KvOp, KvStateMachine } from '../../src/raft/index.js';
import { checkFinalState, type FinalOp } from '../../src/sim/raft/campaign.js';

/** A put by `client` (seq `seq`) at log index `index`. */
function put(index: number, client: number, seq: number, key: string, value: string): Entry {
  return {
    index,
    term: 1,
    type: EntryType.Normal,
    data: encodeKv({ op: KvOp.Put, client, seq, key, value }),
  };
}

/** Registers at indices 1 and 2: sessions 1 and 2, the clients the tests write in. */
const OPEN: Entry[] = [1, 2].map((index) => ({
  index,
  term: 1,
  type: EntryType.Normal,
  data: encodeKv({ op: KvOp.Register, client: 0, seq: index, key: '' }),
}));

/** A KV machine that applied `log` up to `upTo`, skipping the indices in `skip` (a replica gone wrong). */
function machine(log: readonly Entry[], upTo: number, skip: readonly number[] = []): KvStateMachine {
  const kv = new KvStateMachine();
  for (const e of log) {
    if (e.index > upTo) break;
    if (skip.includes(e.index)) kv.appliedIndex = e.index;
    else kv.apply(e.index, e.data);
  }
  return kv;
}

/** What the end-of-run checks see: the committed log as the invariant checker recorded it, and a violation sink. */
function checkerOf(log: readonly Entry[]) {
  const violations: Array<{ invariant: string; detail: string }> = [];
  return {
    violations,
    committed: new Map(log.map((e) => [e.index, e])),
    violate: (invariant: string, detail: string) => {
      violations.push({ invariant, detail });
    },
  };
}

const acked = (client: number, seq: number): FinalOp => ({ kind: 'put', ret: 10 * seq, client, seq });

describe('end-of-run checks', () => {
  it('a clean end state: every acknowledged write in the log and applied everywhere', () => {
    const log = [...OPEN, put(3, 1, 1, 'a', 'v1.1'), put(4, 2, 1, 'b', 'v2.1'), put(5, 1, 2, 'a', 'v1.2')];
    const nodes = [0, 1, 2].map((id) => ({ id, kv: machine(log, 5) }));
    const c = checkerOf(log);
    expect(checkFinalState([acked(1, 1), acked(2, 1), acked(1, 2)], nodes, c)).toEqual({ acked: 3, lost: 0 });
    expect(c.violations).toEqual([]);
  });

  it('an acknowledged write missing from the log is lost, though the client wrote again after it', () => {
    // Client 1's seq 1 was acknowledged and then lost (never in the committed log); its seq 2 executed.
    // Every node's session for client 1 is at seq 2, so "session seq >= 1" alone saw nothing wrong.
    const log = [...OPEN, put(3, 1, 2, 'a', 'v1.2')];
    const nodes = [0, 1, 2].map((id) => ({ id, kv: machine(log, 3) }));
    const c = checkerOf(log);
    expect(checkFinalState([acked(1, 1), acked(1, 2)], nodes, c)).toEqual({ acked: 2, lost: 1 });
    expect(c.violations.map((v) => v.invariant)).toEqual(['lost-acked-write']);
    expect(c.violations[0].detail).toContain('client 1 seq 1');
  });

  it('an acknowledged write above a node applied index is lost on that node', () => {
    const log = [...OPEN, put(3, 1, 1, 'a', 'v1.1'), put(4, 2, 1, 'b', 'v2.1'), put(5, 1, 2, 'a', 'v1.2')];
    // Node 2 stopped at index 4: it has client 2 seq 1 (index 4) but lacks client 1 seq 2 (index 5).
    const nodes = [
      { id: 0, kv: machine(log, 5) },
      { id: 1, kv: machine(log, 5) },
      { id: 2, kv: machine(log, 4) },
    ];
    const c = checkerOf(log);
    expect(checkFinalState([acked(1, 1), acked(2, 1), acked(1, 2)], nodes, c)).toEqual({ acked: 3, lost: 1 });
    expect(c.violations.map((v) => v.detail)).toEqual([expect.stringMatching(/node 2 .*client 1 seq 2/)]);
  });

  it('a state that departs from the committed log is caught even when every node departs alike', () => {
    const log = [...OPEN, put(3, 1, 1, 'a', 'v1.1'), put(4, 2, 1, 'b', 'v2.1'), put(5, 1, 2, 'a', 'v1.2')];
    // Every node skipped index 4 (as a shared apply bug would): they agree with one another, not with the log.
    const nodes = [0, 1, 2].map((id) => ({ id, kv: machine(log, 5, [4]) }));
    const c = checkerOf(log);
    checkFinalState([acked(1, 1), acked(1, 2)], nodes, c);
    expect(c.violations.map((v) => v.invariant)).toEqual([
      'state-machine-safety',
      'state-machine-safety',
      'state-machine-safety',
    ]);
    expect(c.violations[0].detail).toContain('node 0');
  });

  it('a node behind the others is still compared with the log at its own applied index', () => {
    const log = [...OPEN, put(3, 1, 1, 'a', 'v1.1'), put(4, 2, 1, 'b', 'v2.1'), put(5, 1, 2, 'a', 'v1.2')];
    const nodes = [
      { id: 0, kv: machine(log, 5) },
      { id: 1, kv: machine(log, 5) },
      { id: 2, kv: machine(log, 4, [3]) },
    ];
    const c = checkerOf(log);
    checkFinalState([], nodes, c);
    expect(c.violations).toEqual([
      { invariant: 'state-machine-safety', detail: expect.stringContaining('node 2') },
    ]);
  });
});
