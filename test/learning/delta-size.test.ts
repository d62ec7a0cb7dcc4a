import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { MAX_TERM } from '../../src/learning/control.js';
import {
  DELTA_FRAME_BYTES,
  emptyDelta,
  encodeDelta,
  encodedDeltaBytesBound,
  varintBytes,
} from '../../src/learning/delta-codec.js';
import { identityFromRng } from '../../src/learning/index.js';

const alice = identityFromRng('alice', new SeededRng(1));

describe('delta size bound (what FederatedQTable splits deltas by)', () => {
  it('varintBytes is the length the writer gives', () => {
    for (const x of [0, 1, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1, 2 ** 53 - 1])
      expect(varintBytes(x)).toBe(x < 128 ? 1 : Math.ceil(Math.log2(x + 1) / 7));
  });

  it('grouped, it is the encoded size up to the frame; ungrouped, never below it', () => {
    const entry = fc.record({
      state: fc.integer({ min: 0, max: 20 }),
      hi: fc.integer({ min: 0, max: 2 }),
      action: fc.integer({ min: 0, max: 7 }),
      visits: fc.integer({ min: 0, max: 0xffffffff }),
      fresh: fc.integer({ min: 0, max: 0xffffffff }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: (e) => `${e.hi}:${e.state}:${e.action}`, maxLength: 60 }),
        fc.boolean(),
        (entries, addressed) => {
          const d = emptyDelta('peer', 'alice', entries.length);
          entries.forEach((e, i) => {
            d.hi[i] = e.hi;
            d.lo[i] = e.state * 7919;
            d.action[i] = e.action;
            d.q[i] = 0.5;
            d.visits[i] = e.visits;
            d.fresh[i] = e.fresh;
          });
          if (addressed) d.to = 'bob';
          d.term = MAX_TERM;
          d.round = 2 ** 50;
          d.interactions = 12345;
          const size = encodeDelta(d, alice).length;
          const grouped = encodedDeltaBytesBound(d, true);
          expect(grouped).toBeGreaterThanOrEqual(size);
          expect(grouped - size).toBeLessThanOrEqual(DELTA_FRAME_BYTES);
          expect(encodedDeltaBytesBound(d)).toBeGreaterThanOrEqual(grouped);
        },
      ),
      { numRuns: 200 },
    );
  });
});
