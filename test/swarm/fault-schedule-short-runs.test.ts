import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { parseFaultKinds } from '../../src/sim/index.js';
import { runSwarm } from '../../src/sim/swarm/scenario.js';

const catalog = defaultCatalog();

describe('--faults selection and the faults a run injects', () => {
  it('a selected fault kind is injected at least once in an 8 s run (faults_injected > 0)', () => {
    // Faults start until 8 s before the end of the queries; a run under 16 s draws them in its first half
    // (with a horizon of duration − 8 s, an 8 s run drew none, yet its report listed the kind).
    const r = runSwarm({
      seed: 1,
      durationMs: 8000,
      queryRate: 2,
      faults: ['crash'],
      byzantine: 0.1,
      catalog,
    });
    expect(r.options.faults).toEqual(['crash']);
    const injected = Object.values(r.faults_injected).reduce((s, x) => s + x, 0);
    expect(injected).toBeGreaterThan(0);
  }, 30_000);

  it('--faults refuses a kind listed twice (as every other list option does)', () => {
    // 'crash,crash' would double crash's weight in the random schedule and be reported twice.
    expect(() => parseFaultKinds('crash,crash')).toThrow(/twice|repeat|duplicate/i);
    expect(() => parseFaultKinds('crash,loss,crash')).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
