import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { runSwarm } from '../../src/sim/swarm/scenario.js';

const catalog = defaultCatalog();
const strictlyIncreasing = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

describe('the report timeline', () => {
  it('timeline.t_s is strictly increasing when the duration is not a whole second (1200 ms)', () => {
    const r = runSwarm({ seed: 1, durationMs: 1200, queryRate: 5, faults: [], byzantine: 0.1, catalog });
    // The run ends at 1200 + 3000 + 1000 = 5200 ms: the samples at 5000 and 5200 ms must not both be labelled 5.
    expect(r.timeline.t_s, r.timeline.t_s.join(',')).toSatisfy(strictlyIncreasing);
  }, 30_000);

  it('timeline.t_s is strictly increasing for a duration below one tick (5 ms)', () => {
    const r = runSwarm({ seed: 1, durationMs: 5, queryRate: 5, faults: [], byzantine: 0.1, catalog });
    expect(r.timeline.t_s, r.timeline.t_s.join(',')).toSatisfy(strictlyIncreasing);
  }, 30_000);
});
