import { describe, expect, it } from 'vitest';
import { ByteWriter, SeededRng } from '../../src/core/index.js';
import { codeOf } from '../gossip/code-of.js';

describe('core edge sizes (found by a review in session 23)', () => {
  it('a ByteWriter started at capacity 0 grows (doubling 0 never did: ensure() looped forever)', () => {
    const w = new ByteWriter(0).u8(7).u32(0xdeadbeef);
    expect([...w.finish()]).toEqual([7, 0xef, 0xbe, 0xad, 0xde]);
  });

  it('SeededRng.int refuses a bound above 2^53 with a typed error (its rejection loop never ended)', () => {
    const r = new SeededRng(1);
    expect(codeOf(() => r.int(2 ** 60))).toBe('E_RANGE');
    const x = r.int(2 ** 53);
    expect(Number.isInteger(x) && x >= 0 && x < 2 ** 53).toBe(true);
  });
});
