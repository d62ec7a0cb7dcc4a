import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { decodePatterns, encodePatterns, type Pattern } from '../../src/swarm/agent/index.js';

const ps: Pattern[] = [
  { origin: 'agent/x', hi: 0xdeadbeef, lo: 7, action: 2, q: 0.75 },
  { origin: 'agent/x', hi: 1, lo: 0xffffffff, action: 4, q: -1.25 },
];

describe('pattern broadcasts on the gossip pattern channel', () => {
  it('round-trips a batch, the origin being the writing member', () => {
    const b = encodePatterns(ps);
    expect(b.length).toBe(2 + 2 * 17);
    expect(decodePatterns(b, 'agent/x')).toEqual(ps);
    expect(decodePatterns(b, 'agent/y')[0].origin).toBe('agent/y');
  });

  it('refuses broken or hostile input with E_DECODE, never anything else', () => {
    const good = encodePatterns(ps);
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0]),
      Uint8Array.from([2, ...good.subarray(1)]),
    ];
    const wrongAction = good.slice();
    wrongAction[2 + 8] = 9;
    bad.push(wrongAction);
    const nan = good.slice();
    new DataView(nan.buffer).setFloat64(2 + 9, Number.NaN, true);
    bad.push(nan);
    const rng = new SeededRng(4);
    for (let i = 0; i < 300; i++) {
      const x = good.slice();
      x[rng.int(x.length)] = rng.int(256);
      bad.push(x.subarray(0, rng.int(x.length + 1)));
    }
    for (const b of bad) {
      try {
        decodePatterns(b, 'agent/x');
      } catch (e) {
        expect((e as { code?: string }).code).toBe('E_DECODE');
      }
    }
    for (const b of bad.slice(0, 6)) expect(() => decodePatterns(b, 'agent/x')).toThrow();
    expect(() => encodePatterns([])).toThrow();
  });
});
