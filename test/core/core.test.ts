import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, ElexError, median, SeededRng, summarize } from '../../src/core/index.js';

describe('SeededRng', () => {
  it('is replayable and named forks are independent of the parent position', () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    const f1 = new SeededRng(42).fork('node/1').u32();
    const p = new SeededRng(42);
    p.next();
    expect(p.fork('node/1').u32()).toBe(f1);
    expect(new SeededRng(42).fork('node/2').u32()).not.toBe(f1);
  });

  it('draws uniformly in [0, 1) and int(n) in [0, n)', () => {
    const r = new SeededRng(1);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.01);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});

describe('byte codec', () => {
  it('round-trips every field kind', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.double({ noNaN: true }),
        fc.string(),
        fc.uint8Array(),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (v, u, d, s, b, big) => {
          const buf = new ByteWriter(4).varint(v).u32(u).f64(d).str(s).bytes(b).u64(big).finish();
          const r = new ByteReader(buf);
          expect(r.varint()).toBe(v);
          expect(r.u32()).toBe(u);
          expect(Object.is(r.f64(), d)).toBe(true);
          expect(r.str()).toBe(s);
          expect([...r.bytes()]).toEqual([...b]);
          expect(r.u64()).toBe(big);
          r.end();
        },
      ),
    );
  });

  it('refuses truncated input and trailing bytes with E_DECODE', () => {
    const buf = new ByteWriter().u32(7).str('hello').finish();
    for (let cut = 0; cut < buf.length; cut++) {
      const r = new ByteReader(buf.subarray(0, cut));
      expect(() => {
        r.u32();
        r.str();
      }).toThrow(ElexError);
    }
    const r = new ByteReader(new Uint8Array([1, 2]));
    r.u8();
    expect(() => r.end()).toThrow(/trailing/);
    expect(() => new ByteReader(new ByteWriter().varint(10).finish()).bytes(5)).toThrow(/exceeds limit/);
  });

  it('refuses a string that is not valid UTF-8 with a typed error (not the TypeError of TextDecoder)', () => {
    const bad = new ByteWriter().bytes(new Uint8Array([0x61, 0xc3, 0x28])).finish();
    let err: unknown;
    try {
      new ByteReader(bad).str();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ElexError);
    expect((err as ElexError).code).toBe('E_DECODE');
  });

  it('decodes exactly what the writer writes: canonical varints up to 2^53 - 1, strings with a leading BOM', () => {
    const code = (bytes: number[]) => {
      try {
        new ByteReader(Uint8Array.from(bytes)).varint();
        return 'ok';
      } catch (e) {
        return (e as ElexError).code;
      }
    };
    expect(code([0x81, 0x00])).toBe('E_DECODE'); // 1, overlong
    expect(code([0x80, 0x80, 0x00])).toBe('E_DECODE'); // 0, overlong
    expect(code([0x00])).toBe('ok');
    // 2^53 - 1 is the largest the writer writes; 2^53 decoded (rounded) before.
    const max = new ByteWriter().varint(Number.MAX_SAFE_INTEGER).finish();
    expect(new ByteReader(max).varint()).toBe(Number.MAX_SAFE_INTEGER);
    expect(code([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10])).toBe('E_DECODE'); // 2^53
    expect(code([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).toBe('E_DECODE'); // 2^56 - 1
    const bom = new ByteWriter().str('\uFEFFk').finish();
    expect(new ByteReader(bom).str()).toBe('\uFEFFk');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (x) => {
        expect(new ByteReader(new ByteWriter().varint(x).finish()).varint()).toBe(x);
      }),
    );
  });
});

describe('summarize', () => {
  it('uses nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(xs)).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(summarize([])).toEqual({ p50: 0, p99: 0, max: 0 });
  });

  it('median is the upper middle value and leaves its input alone', () => {
    const xs = [4, 1, 3, 2];
    expect(median(xs)).toBe(3);
    expect(median([3, 1, 2])).toBe(2);
    expect(xs).toEqual([4, 1, 3, 2]);
  });
});
