import { describe, expect, it } from 'vitest';
import { InboundSlots } from '../../src/node/inbound-slots.js';

describe('InboundSlots', () => {
  it('at the strangers bound, a newcomer evicts the oldest stranger, in admission order', () => {
    const slots = new InboundSlots<string>(100, 2);
    expect(slots.admit('a')).toEqual({ admitted: true, evicted: null });
    expect(slots.admit('b')).toEqual({ admitted: true, evicted: null });
    expect(slots.admit('c')).toEqual({ admitted: true, evicted: 'a' });
    expect(slots.admit('d')).toEqual({ admitted: true, evicted: 'b' });
    expect(slots.all()).toEqual(['c', 'd']);
  });

  it('at the connection cap, a newcomer evicts the oldest stranger and never a known connection', () => {
    const slots = new InboundSlots<string>(3, 16);
    slots.admit('p');
    slots.promote('p');
    slots.admit('a');
    slots.admit('b');
    expect(slots.admit('c')).toEqual({ admitted: true, evicted: 'a' });
    slots.promote('c');
    expect(slots.admit('d')).toEqual({ admitted: true, evicted: 'b' });
    expect(slots.admit('e')).toEqual({ admitted: true, evicted: 'd' });
    expect([slots.strangerCount, slots.knownCount]).toEqual([1, 2]);
    expect(slots.all()).toEqual(['e', 'p', 'c']);
  });

  it('when known connections hold every slot, a newcomer is refused; a closed one frees its slot', () => {
    const slots = new InboundSlots<string>(2, 1);
    slots.admit('p');
    slots.promote('p');
    slots.admit('q');
    slots.promote('q');
    expect(slots.admit('x')).toEqual({ admitted: false });
    expect(slots.all()).toEqual(['p', 'q']);
    slots.remove('p');
    expect(slots.admit('x')).toEqual({ admitted: true, evicted: null });
    // An evicted connection's later close is a no-op; promoting it does not bring it back.
    expect(slots.admit('y')).toEqual({ admitted: true, evicted: 'x' });
    slots.promote('x');
    slots.remove('x');
    expect(slots.all()).toEqual(['y', 'q']);
  });

  it('whatever the sequence, strangers stay within their bound, all within the cap, and known ones stay', () => {
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n); // the high bits: an LCG's low bits cycle quickly
    };
    const slots = new InboundSlots<number>(10, 4);
    const known = new Set<number>();
    let evictedKnown = 0;
    for (let c = 0; c < 5000; c++) {
      const held = slots.all();
      const pick = held[next(Math.max(1, held.length))];
      const step = next(4);
      if (step === 0 && pick !== undefined) {
        slots.promote(pick);
        known.add(pick);
      } else if (step === 1 && pick !== undefined) {
        slots.remove(pick);
        known.delete(pick);
      } else {
        const r = slots.admit(c);
        if (r.admitted && r.evicted !== null && known.has(r.evicted)) evictedKnown++;
        if (!r.admitted) expect(slots.knownCount).toBe(10);
      }
      expect(slots.strangerCount).toBeLessThanOrEqual(4);
      expect(slots.size).toBeLessThanOrEqual(10);
      expect(slots.knownCount).toBe(known.size);
    }
    expect(evictedKnown).toBe(0);
  });

  it('refuses bounds that are not integers ≥ 1 (E_CONFIG)', () => {
    for (const [max, strangers] of [
      [0, 16],
      [10, 0],
      [10, 1.5],
      [Number.NaN, 16],
      [10, Number.POSITIVE_INFINITY],
    ]) {
      expect(() => new InboundSlots(max, strangers)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    }
  });
});
