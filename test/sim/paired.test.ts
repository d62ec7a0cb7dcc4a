import { describe, expect, it } from 'vitest';
import { pairedDiff, t975 } from '../../src/sim/federation/paired.js';

describe('paired comparison with the baseline', () => {
  it("Student's t quantile at 0.975 matches the tables", () => {
    // Tabulated: df 3 3.182, 9 2.262, 29 2.045, 30 2.042; above the table the expansion: 40 2.021, 120 1.980.
    expect(t975(3)).toBe(3.182);
    expect(t975(9)).toBe(2.262);
    expect(t975(29)).toBe(2.045);
    expect(t975(30)).toBe(2.042);
    expect(t975(40)).toBeCloseTo(2.021, 3);
    expect(t975(120)).toBeCloseTo(1.98, 3);
    expect(t975(31)).toBeLessThan(t975(30));
    expect(() => t975(0)).toThrow(RangeError);
  });

  it('mean difference, t half-width, seeds worse and equal', () => {
    const baseline = [0.8, 0.8, 0.8, 0.8];
    const attack = [0.7, 0.8, 0.9, 0.6];
    // d = −0.1, 0, 0.1, −0.2: mean −0.05, sd 0.1291, half-width t(3) · sd / 2 = 0.2054.
    expect(pairedDiff(attack, baseline)).toEqual({
      mean_diff: -0.05,
      ci95: 0.2054,
      worse_seeds: 2,
      equal_seeds: 1,
    });
    expect(pairedDiff([0.5], [0.4])).toEqual({ mean_diff: 0.1, ci95: 0, worse_seeds: 0, equal_seeds: 0 });
    expect(() => pairedDiff([1, 2], [1])).toThrow(RangeError);
  });
});
