import { describe, expect, it } from 'vitest';
import type { ElexError } from '../../src/core/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { EntryType } from '../../src/raft/index.js';
import { Simulator } from '../../src/sim/index.js';
import { InvariantChecker } from '../../src/sim/raft/checkers.js';
import { SimCoordinatorReplica } from '../../src/sim/swarm/sim-replica.js';
import {
  type CommandResult,
  CoordinatorStateMachine,
  encodeCommand,
  MAX_AT_MS,
  MAX_RESULTS,
  MAX_SESSIONS,
} from '../../src/swarm/index.js';
import { thrownElexError } from '../support/errors.js';

/**
 * The coordinator replica's snapshot (u32 length, the session table as JSON, the machine's snapshot) comes from
 * the leader over the network, and `restoreSnapshot` decodes it. The table's schema took any log time: `t` of
 * 1e300 (log time is the largest `at_ms` applied, at most MAX_AT_MS) made every answer expire right after its
 * entry, so a client's retry got null instead of its original answer, the very thing `applyEntry` refuses to let
 * a MALFORMED entry's `at_ms` do. It also took a session or an answer twice (the Map kept one: the restored
 * replica's snapshot was other bytes), more sessions or answers than the replica ever holds, and times after the
 * table's own log time or out of the order they are written in.
 */
const catalog = defaultCatalog();
const enc = new TextEncoder();
const CLIENT = 2 ** 40;

function replica(): SimCoordinatorReplica {
  const sim = new Simulator({ seed: 3 });
  sim.addNode('c0', { deliver() {} });
  const opts = {
    raft: { heartbeatMs: 50, electionTimeoutMs: 150 },
    voters: [0],
    tickMs: 10,
    snapshotEvery: 20,
    snapshotKeep: 5,
  };
  return new SimCoordinatorReplica(sim, 0, catalog, opts, new InvariantChecker(sim, 1, 1), { onApply() {} });
}

type Table = { v: number; t: number; s: number[][]; r: Array<[number, number, CommandResult]> };

function bytesOf(table: Table): Uint8Array {
  const sessions = enc.encode(JSON.stringify(table));
  const machine = new CoordinatorStateMachine(catalog).snapshot();
  const out = new Uint8Array(4 + sessions.length + machine.length);
  new DataView(out.buffer).setUint32(0, sessions.length);
  out.set(sessions, 4);
  out.set(machine, 4 + sessions.length);
  return out;
}

const restore = (r: SimCoordinatorReplica, bytes: Uint8Array, index = 0) =>
  (r as unknown as { restoreSnapshot(d: Uint8Array, i: number): void }).restoreSnapshot(bytes, index);
const take = (r: SimCoordinatorReplica) => (r as unknown as { takeSnapshot(): Uint8Array }).takeSnapshot();

const ok = { ok: false, code: 'UNKNOWN_AGENT', message: 'x' } as unknown as CommandResult;
/** A table a replica writes: two sessions, three answers, log time 5 s. */
function table(): Table {
  return {
    v: 2,
    t: 5000,
    s: [
      [1, -1, 1000],
      [CLIENT / 2 ** 32, 2, 5000],
    ],
    r: [
      [2 ** 32 + 1, 1000, ok],
      [CLIENT + 3, 4000, ok],
      [CLIENT + 4, 5000, ok],
    ],
  };
}

describe('coordinator replica snapshot: the session table takes only what a replica writes', () => {
  it('restores a table a replica writes, byte for byte', () => {
    const r = replica();
    const bytes = bytesOf(table());
    restore(r, bytes);
    expect([...take(r)]).toEqual([...bytes]);
  });

  it('refuses a log time past MAX_AT_MS (1e300: every answer expired at once, a retry got null)', () => {
    for (const t of [1e300, MAX_AT_MS + 1, -1]) {
      const bad = table();
      bad.t = t;
      expect(thrownElexError(() => restore(replica(), bytesOf(bad))).code, String(t)).toBe('E_SNAPSHOT');
    }
    const edge = table();
    edge.t = MAX_AT_MS;
    expect(() => restore(replica(), bytesOf(edge))).not.toThrow();
  });

  it('a retry keeps its original answer after a restore: a table with log time 1e300 is refused, not taken', () => {
    const cmd = encodeCommand({ op: 'deregister_agent', agent: 'agent/nobody', at_ms: 6000 });
    const data = new Uint8Array(8 + cmd.length);
    new DataView(data.buffer).setUint32(0, 2 ** 8); // reqId = 2^40 + 9
    new DataView(data.buffer).setUint32(4, 9);
    data.set(cmd, 8);
    for (const t of [5000, 1e300]) {
      const r = replica();
      const tbl = table();
      tbl.t = t;
      try {
        restore(r, bytesOf(tbl), 0);
      } catch (e) {
        expect(t).toBe(1e300);
        expect((e as ElexError).code).toBe('E_SNAPSHOT');
        continue;
      }
      const apply = (index: number) =>
        (r as unknown as { applyEntry(e: unknown): void }).applyEntry({
          index,
          term: 1,
          type: EntryType.Normal,
          data,
        });
      apply(1);
      apply(2); // the client's retry, within the retention
      // Before, with t = 1e300: the answer was evicted at once, the retry was settled with no answer (null).
      expect(r.duplicatesSkipped, `t = ${t}`).toBe(1);
      expect(r.settledSkipped, `t = ${t}`).toBe(0);
    }
  });

  it('refuses a session or an answer twice', () => {
    const s = table();
    s.s.push([...s.s[0]]);
    s.s[2][2] = 5000;
    expect(thrownElexError(() => restore(replica(), bytesOf(s))).code).toBe('E_SNAPSHOT');
    const a = table();
    a.r.push([a.r[2][0], 5000, ok]);
    expect(thrownElexError(() => restore(replica(), bytesOf(a))).code).toBe('E_SNAPSHOT');
  });

  it('refuses times after the log time or out of the order they are written in', () => {
    const late = table();
    late.r[2][1] = 6000; // answered after the table's log time
    expect(thrownElexError(() => restore(replica(), bytesOf(late))).code).toBe('E_SNAPSHOT');
    const lastLate = table();
    lastLate.s[1][2] = 6000;
    expect(thrownElexError(() => restore(replica(), bytesOf(lastLate))).code).toBe('E_SNAPSHOT');
    const unordered = table();
    [unordered.r[0], unordered.r[1]] = [unordered.r[1], unordered.r[0]];
    expect(thrownElexError(() => restore(replica(), bytesOf(unordered))).code).toBe('E_SNAPSHOT');
    const sessions = table();
    [sessions.s[0], sessions.s[1]] = [sessions.s[1], sessions.s[0]];
    expect(thrownElexError(() => restore(replica(), bytesOf(sessions))).code).toBe('E_SNAPSHOT');
  });

  it('refuses more sessions or answers than a replica keeps', () => {
    const many = table();
    many.s = Array.from({ length: MAX_SESSIONS + 1 }, (_, i) => [i + 1, -1, 5000]);
    expect(thrownElexError(() => restore(replica(), bytesOf(many))).code).toBe('E_SNAPSHOT');
    const answers = table();
    answers.r = Array.from({ length: MAX_RESULTS + 1 }, (_, i) => [CLIENT + i + 1, 5000, ok]);
    expect(thrownElexError(() => restore(replica(), bytesOf(answers))).code).toBe('E_SNAPSHOT');
  });
});
