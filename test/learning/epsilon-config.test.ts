import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { QLearner, QTable } from '../../src/learning/index.js';

describe('QLearner ε schedule validation', () => {
  it('refuses (E_CONFIG) an ε decay of 0, or else gives a finite ε at the first interaction', () => {
    let epsilon: number | undefined;
    let code: string | undefined;
    try {
      epsilon = new QLearner(new QTable(), new SeededRng(1), { epsilonDecay: 0 }).epsilon();
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    // Observed: accepted, and ε = end + (start − end)·exp(−0/0) = NaN, so `rng.next() < ε` never explores.
    if (code === undefined) expect(Number.isFinite(epsilon)).toBe(true);
    else expect(code).toBe('E_CONFIG');
  });
});
