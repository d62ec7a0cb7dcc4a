import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import { CoordinatorStateMachine, MAX_AT_MS } from '../../src/swarm/index.js';
import { thrownElexError } from '../support/errors.js';
import { CA, CM_DRX, catalog, Harness, IFLB } from './coordinator-helpers.js';

/**
 * The coordinator snapshot travels from the leader to a follower (InstallSnapshot) and `decodeSnapshot` /
 * `restore` is its decoder. The machine writes it canonically (snapshot.ts: rows sorted by key, each once; its
 * times are commands' `at_ms`, at most MAX_AT_MS; indexes and seqs are non-negative integers). The schema only
 * asked for numbers, so a snapshot no machine could write was taken: a clock of 1e300 (every later cooldown is
 * skipped, the very attack MAX_AT_MS closes for commands), a row twice (the last won), rows out of order, a
 * value row whose feature holds the NUL that joins feature and parameter in the machine's key (its next snapshot
 * named another parameter, so a replica restored from that held other state).
 */
const enc = new TextEncoder();
const dec = new TextDecoder();
const HOUR = 3_600_000;

function state(): { h: Harness; snap: Record<string, unknown> } {
  const h = new Harness();
  h.run({
    op: 'activate',
    feature: IFLB,
    with_prerequisites: true,
    parameters: { lbActivationThreshold: 80 },
    at_ms: 0,
  });
  h.run({ op: 'activate', feature: CM_DRX, at_ms: 1 });
  h.run({ op: 'register_agent', agent: 'a1', feature: IFLB, at_ms: 2 });
  h.run({ op: 'register_agent', agent: 'a2', feature: IFLB, at_ms: 3 });
  h.run({ op: 'activate', feature: CA, with_prerequisites: true, at_ms: 4 });
  h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: 0.2, at_ms: 5 });
  return { h, snap: JSON.parse(dec.decode(h.sm.snapshot())) };
}

function restore(snap: unknown, index = 9): CoordinatorStateMachine {
  const sm = new CoordinatorStateMachine(catalog);
  sm.restore(enc.encode(JSON.stringify(snap)), index);
  return sm;
}

type Rows = Array<Array<string | number | boolean>>;

describe('coordinator snapshot decoding takes only what a machine could have written', () => {
  it('refuses a clock past MAX_AT_MS (with clock_ms 1e300 every later cooldown was skipped)', () => {
    const { snap } = state();
    snap.clock_ms = 1e300;
    // Before: restored, then two changes of one parameter a millisecond apart were both taken (cooldown 1 h).
    expect(thrownElexError(() => restore(snap)).code).toBe('E_SNAPSHOT');
    snap.clock_ms = MAX_AT_MS + 1;
    expect(thrownElexError(() => restore(snap)).code).toBe('E_SNAPSHOT');
    snap.clock_ms = MAX_AT_MS;
    expect(() => restore(snap)).not.toThrow();
  });

  it('refuses row times past MAX_AT_MS, negative or fractional indexes and seqs', () => {
    const cases: Array<(s: Record<string, unknown>) => void> = [
      (s) => {
        (s.active as Rows)[0][2] = 1e300; // at_ms
      },
      (s) => {
        (s.values as Rows)[0][3] = 2 ** 60; // changed_at_ms
      },
      (s) => {
        (s.agents as Rows)[0][2] = MAX_AT_MS * 2; // at_ms
      },
      (s) => {
        (s.active as Rows)[0][1] = -1; // index
      },
      (s) => {
        (s.values as Rows)[0][4] = 1.5; // index
      },
      (s) => {
        (s.agents as Rows)[0][3] = -3; // index
      },
      (s) => {
        (s.active as Rows)[0][3] = 0.5; // seq
      },
      (s) => {
        s.clock_ms = -1;
      },
    ];
    for (const edit of cases) {
      const { snap } = state();
      edit(snap);
      expect(thrownElexError(() => restore(snap)).code, JSON.stringify(snap)).toBe('E_SNAPSHOT');
    }
  });

  it('refuses a row twice (the last one won) and rows out of order', () => {
    for (const table of ['active', 'values', 'agents'] as const) {
      const twice = state().snap;
      const rows = twice[table] as Rows;
      rows.splice(1, 0, [...rows[0]]);
      expect(thrownElexError(() => restore(twice)).code, table).toBe('E_SNAPSHOT');
      const swapped = state().snap;
      const r = swapped[table] as Rows;
      expect(r.length, table).toBeGreaterThan(1);
      [r[0], r[1]] = [r[1], r[0]];
      expect(thrownElexError(() => restore(swapped)).code, table).toBe('E_SNAPSHOT');
    }
  });

  it('refuses a NUL in a value row (a restored replica snapshotted another parameter, and diverged)', () => {
    const { snap } = state();
    const values = snap.values as Rows;
    values.push([`${IFLB}\u0000x`, 'lbActivationThreshold', 81, 0, 1, false]);
    values.sort((a, b) => {
      const ka = `${a[0]}\u0000${a[1]}`;
      const kb = `${b[0]}\u0000${b[1]}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    expect(thrownElexError(() => restore(snap)).code).toBe('E_SNAPSHOT');
  });

  it('still restores what a machine writes, byte for byte, and the cooldown holds after it', () => {
    const { h } = state();
    const bytes = h.sm.snapshot();
    const copy = new CoordinatorStateMachine(catalog);
    copy.restore(bytes, h.index);
    expect([...copy.snapshot()]).toEqual([...bytes]);
    let index = h.index;
    const change = (value: number, at_ms: number) =>
      copy.apply(
        ++index,
        enc.encode(
          JSON.stringify({
            op: 'set_parameter',
            feature: IFLB,
            parameter: 'lbActivationThreshold',
            value,
            at_ms,
          }),
        ),
      );
    expect(change(82, HOUR)).toMatchObject({ ok: true });
    expect(change(84, HOUR + 1)).toMatchObject({ ok: false, code: 'COOLDOWN' });
  });

  it('property: a snapshot with rows moved, repeated or renumbered is refused or restores byte-identically', () => {
    const original = state().snap;
    expect((original.values as Rows).length).toBeGreaterThan(1);
    const tables = ['active', 'values', 'zones', 'agents'] as const;
    const edit = fc.tuple(
      fc.constantFrom(...tables),
      fc.constantFrom('swap', 'repeat', 'number'),
      fc.nat(),
      fc.nat(),
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(-1, 0.5, MAX_AT_MS + 1, 1e300, 2 ** 53),
      ),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const s = structuredClone(original);
        for (const [table, kind, i, j, x] of edits) {
          const rows = s[table] as Rows;
          if (rows.length === 0) continue;
          const a = i % rows.length;
          if (kind === 'swap') {
            const b = j % rows.length;
            [rows[a], rows[b]] = [rows[b], rows[a]];
          } else if (kind === 'repeat') rows.splice(a, 0, [...rows[a]]);
          else {
            const numeric = rows[a].flatMap((v, k) => (typeof v === 'number' ? [k] : []));
            if (numeric.length > 0) rows[a][numeric[j % numeric.length]] = x;
          }
        }
        const bytes = enc.encode(JSON.stringify(s));
        const sm = new CoordinatorStateMachine(catalog);
        try {
          sm.restore(bytes, 9);
        } catch (e) {
          expect(e).toBeInstanceOf(ElexError);
          expect((e as ElexError).code).toBe('E_SNAPSHOT');
          return;
        }
        expect(dec.decode(sm.snapshot())).toBe(dec.decode(bytes));
        // Nothing the machine could not hold: its times are commands' at_ms.
        const back = JSON.parse(dec.decode(bytes));
        expect(back.clock_ms).toBeLessThanOrEqual(MAX_AT_MS);
        for (const r of back.active) expect(r[2]).toBeLessThanOrEqual(MAX_AT_MS);
        for (const r of back.values) expect(r[3]).toBeLessThanOrEqual(MAX_AT_MS);
        for (const r of back.agents) expect(r[2]).toBeLessThanOrEqual(MAX_AT_MS);
      }),
      { numRuns: 500 },
    );
  });
});
