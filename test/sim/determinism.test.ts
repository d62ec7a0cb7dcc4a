import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../src/sim/index.js';
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
});
