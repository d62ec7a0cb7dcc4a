import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, Simulator } from '../../src/sim/index.js';
import { runBasic } from '../../src/sim/scenarios/basic.js';

const opts = { nodes: 50, durationMs: 20_000, faults: FAULT_KINDS, sendIntervalMs: 500 };

function withoutPerf(r: ReturnType<typeof runBasic>) {
  const { perf: _perf, ...rest } = r;
  return rest;
}

describe('simulator determinism', () => {
  it('same seed twice gives the same trace hash and a byte-identical report (perf aside)', () => {
    const a = runBasic({ ...opts, seed: 7 });
    const b = runBasic({ ...opts, seed: 7 });
    expect(a.trace_hash).toBe(b.trace_hash);
    expect(JSON.stringify(withoutPerf(a))).toBe(JSON.stringify(withoutPerf(b)));
    // The run did real work under faults, so equality is not vacuous.
    expect(a.network.delivered).toBeGreaterThan(1000);
    expect(Object.keys(a.faults_injected).length).toBeGreaterThan(3);
  });

  it('different seeds give different traces', () => {
    const hashes = new Set([1, 2, 3, 4].map((seed) => runBasic({ ...opts, seed }).trace_hash));
    expect(hashes.size).toBe(4);
  });

  it('the trace hash tells apart runs that differ only in when things happened', () => {
    // Same events in the same order at other times: a delivery over a slower link, a timer at another delay,
    // a global call later. Before, only the order was hashed, so each pair had one hash.
    const run = (profile: 'lan' | 'wan', timerMs: number, callMs: number) => {
      const sim = new Simulator({ seed: 5, link: { profile } });
      for (let i = 0; i < 2; i++) sim.addNode(`n${i}`, { deliver: () => {} });
      sim.send(0, 1, 'x', 'msg', 10);
      sim.runFor(1000);
      sim.setTimer(0, timerMs, () => {});
      sim.runFor(1000);
      sim.after(callMs, () => {});
      sim.runFor(1000);
      return sim.traceHash();
    };
    const base = run('lan', 5, 5);
    expect(run('lan', 5, 5)).toBe(base);
    expect(run('wan', 5, 5)).not.toBe(base);
    expect(run('lan', 7, 5)).not.toBe(base);
    expect(run('lan', 5, 7)).not.toBe(base);
  });
});
