import { describe, expect, it } from 'vitest';
import { ElexError, SeededRng } from '../../src/core/index.js';
import {
  ConfChangeType,
  DiskStorage,
  decodeConfChange,
  decodeKv,
  type Entry,
  EntryType,
  emptyMessage,
  encodeConfChange,
  encodeKv,
  Inflights,
  KvOp,
  KvStateMachine,
  MemoryDisk,
  MsgType,
  Progress,
  ProgressState,
  RaftLog,
  RawNode,
  Role,
  validateConfChange,
} from '../../src/raft/index.js';
import { checkHistory } from '../../src/sim/raft/linearizability.js';
import { op } from './history-op.js';

const ent = (index: number, term: number): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array(0),
});

describe('RaftLog', () => {
  it('appends, detects conflicts and truncates the uncommitted suffix', () => {
    const log = new RaftLog();
    log.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    expect(log.maybeAppend(1, 1, 0, [ent(2, 1), ent(3, 3)])).toBe(3);
    expect(log.term(3)).toBe(3);
    expect(log.maybeAppend(3, 2, 0, [])).toBe(-1); // (3,2) is gone
  });
  it('refuses to overwrite committed entries', () => {
    const log = new RaftLog();
    log.append([ent(1, 1), ent(2, 1)]);
    log.commitTo(2);
    expect(() => log.append([ent(2, 2)])).toThrow(ElexError);
  });
  it('findConflictByTerm skips a whole term', () => {
    const log = new RaftLog();
    log.append([ent(1, 1), ent(2, 1), ent(3, 4), ent(4, 4), ent(5, 4)]);
    expect(log.findConflictByTerm(5, 2)).toEqual([2, 1]);
  });
  it('compaction keeps the boundary term', () => {
    const log = new RaftLog();
    log.append([ent(1, 1), ent(2, 2), ent(3, 2)]);
    log.commitTo(3);
    log.applied = 3;
    log.compact(2);
    expect(log.term(2)).toBe(2);
    expect(log.term(1)).toBe(-1);
    expect(log.slice(3, 4, 1e9, 10).map((e) => e.index)).toEqual([3]);
  });
});

describe('Progress', () => {
  it('inflights bound the pipeline and free on ack', () => {
    const f = new Inflights(2);
    f.add(5);
    f.add(9);
    expect(f.full()).toBe(true);
    f.freeLE(5);
    expect(f.count).toBe(1);
  });
  it('rejections back off using the hint, never below match', () => {
    const p = new Progress(11, 4, false);
    p.match = 3;
    expect(p.maybeDecrTo(10, 6)).toBe(true);
    expect(p.next).toBe(7);
    expect(p.maybeDecrTo(10, 6)).toBe(false); // stale
    p.becomeReplicate();
    expect(p.state).toBe(ProgressState.Replicate);
    expect(p.next).toBe(4);
  });
});

describe('codecs reject bad input', () => {
  it('kv round-trips and rejects trailing bytes and unknown ops', () => {
    const c = { op: KvOp.Cas, client: 3, seq: 9, key: 'k', expected: null, value: 'v' } as const;
    expect(decodeKv(encodeKv(c))).toEqual(c);
    const bad = new Uint8Array([...encodeKv(c), 0]);
    expect(() => decodeKv(bad)).toThrow(ElexError);
    expect(() => decodeKv(new Uint8Array([9, 1, 1, 0]))).toThrow(/unknown kv op/);
    expect(() => decodeKv(new Uint8Array([1, 1]))).toThrow(/truncated/);
  });
  it('conf change round-trips and is validated', () => {
    expect(decodeConfChange(encodeConfChange({ type: ConfChangeType.AddLearner, node: 7 }))).toEqual({
      type: ConfChangeType.AddLearner,
      node: 7,
    });
    expect(() => decodeConfChange(new Uint8Array([5, 1]))).toThrow(ElexError);
    expect(
      validateConfChange({ voters: [1], learners: [] }, { type: ConfChangeType.Remove, node: 1 }),
    ).toMatch(/at least one voter/);
  });
  it('a RawNode refuses local message types from the network', () => {
    const rn = new RawNode({ id: 1, voters: [1, 2, 3], rng: new SeededRng(1) });
    expect(() => rn.step(emptyMessage(MsgType.Hup, 2, 1, 0))).toThrow(/comes only from this node/);
  });
});

describe('KvStateMachine', () => {
  it('executes a retried command at most once and snapshots deterministically', () => {
    const seen: string[] = [];
    const kv = new KvStateMachine((c, s) => seen.push(`${c}:${s}`));
    // Session 1: the register entry's index.
    expect(kv.apply(1, encodeKv({ op: KvOp.Register, client: 0, seq: 5, key: '' })).value).toBe('1');
    const put = encodeKv({ op: KvOp.Put, client: 1, seq: 1, key: 'a', value: 'x' });
    kv.apply(2, put);
    const again = kv.apply(3, put);
    expect(again).toEqual({ ok: true, value: null });
    expect(seen).toEqual(['0:5', '1:1']);
    expect(kv.apply(4, new Uint8Array([77])).ok).toBe(false);
    const other = new KvStateMachine();
    other.restore(kv.snapshot(), 4);
    expect(other.snapshot()).toEqual(kv.snapshot());
    expect(other.get('a')).toBe('x');
  });
});

describe('storage', () => {
  it('a crash keeps only synced writes; the log survives as a prefix', () => {
    const disk = new MemoryDisk();
    const st = new DiskStorage(disk);
    st.append([ent(1, 1), ent(2, 1)]);
    st.setHardState({ term: 1, vote: 0, commit: 1 });
    st.sync(() => {});
    st.append([ent(3, 1)]);
    disk.crash();
    expect(st.entries().map((e) => e.index)).toEqual([1, 2]);
    expect(st.hardState()).toEqual({ term: 1, vote: 0, commit: 1 });
  });
});

describe('single node', () => {
  it('elects itself and commits only after its own entry is persisted (advance)', () => {
    const rn = new RawNode({ id: 0, voters: [0], rng: new SeededRng(1) });
    rn.campaign();
    expect(rn.raft.role).toBe(Role.Leader);
    const rd = rn.ready();
    expect(rd.entries.length).toBe(1);
    expect(rn.raft.log.committed).toBe(0); // not durable yet
    rn.advance(rd);
    expect(rn.raft.log.committed).toBe(1);
  });
});

describe('linearizability checker', () => {
  it('accepts a concurrent read that sees either value', () => {
    const h = [
      op({ kind: 'put', value: '1', call: 0, ret: 10 }),
      op({ kind: 'get', out: '1', call: 2, ret: 3 }),
    ];
    expect(checkHistory(h).ok).toBe(true);
  });
  it('rejects a stale read after a completed write', () => {
    const h = [
      op({ kind: 'put', value: '1', call: 0, ret: 1 }),
      op({ kind: 'put', value: '2', call: 2, ret: 3, out: '1' }),
      op({ kind: 'get', out: '1', call: 4, ret: 5 }),
    ];
    expect(checkHistory(h)).toEqual({ ok: false, key: 'k', exhausted: false });
  });
  it('lets an unacknowledged write take effect or not', () => {
    const h = [
      op({ kind: 'put', value: '1', call: 0, ret: Number.POSITIVE_INFINITY }),
      op({ kind: 'get', out: null, call: 1, ret: 2 }),
      op({ kind: 'get', out: '1', call: 3, ret: 4 }),
    ];
    expect(checkHistory(h).ok).toBe(true);
    const flip = [...h, op({ kind: 'get', out: null, call: 5, ret: 6 })];
    expect(checkHistory(flip).ok).toBe(false);
  });
  it('checks CAS outcomes against the model', () => {
    const h = [
      op({ kind: 'put', value: 'a', call: 0, ret: 1 }),
      op({ kind: 'cas', expected: 'a', value: 'b', ok: false, out: 'a', call: 2, ret: 3 }),
    ];
    expect(checkHistory(h).ok).toBe(false);
  });
});
