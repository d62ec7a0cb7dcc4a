import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameReader } from '../../src/core/index.js';
import { thrownElexError } from '../support/errors.js';

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** `bytes` cut at the given positions (taken modulo length + 1, so empty chunks occur too). */
const chunksOf = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
  const at = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
};

const frameError = (f: () => unknown) => thrownElexError(f, 'E_FRAME');

describe('frames', () => {
  it('encodes a u32 little-endian length, then the payload', () => {
    expect([...encodeFrame(new Uint8Array([9, 8, 7]))]).toEqual([3, 0, 0, 0, 9, 8, 7]);
    expect([...encodeFrame(new Uint8Array(0x0102)).subarray(0, 4)]).toEqual([2, 1, 0, 0]);
    expect([...encodeFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0]);
  });

  it('payloads framed, concatenated and cut anywhere come out the same, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (payloads, cuts) => {
          const stream = concat(payloads.map(encodeFrame));
          const reader = new FrameReader();
          const got: Uint8Array[] = [];
          for (const chunk of chunksOf(stream, cuts)) got.push(...reader.push(chunk));
          expect(got).toEqual(payloads);
          expect(reader.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reassembles a stream fed one byte at a time, including inside each length prefix', () => {
    const payloads = [new Uint8Array([1]), new Uint8Array(0), new Uint8Array(600).fill(3), new Uint8Array(0)];
    const stream = concat(payloads.map(encodeFrame));
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...reader.push(stream.subarray(i, i + 1)));
      if (i === 1) expect(reader.buffered).toBe(2);
    }
    expect(got).toEqual(payloads);
  });

  it('a zero-length payload is a frame of its own, wherever it falls in a chunk', () => {
    const reader = new FrameReader();
    expect(reader.push(encodeFrame(new Uint8Array(0)))).toEqual([new Uint8Array(0)]);
    const two = concat([encodeFrame(new Uint8Array([5])), encodeFrame(new Uint8Array(0))]);
    expect(reader.push(two)).toEqual([new Uint8Array([5]), new Uint8Array(0)]);
    expect(reader.push(new Uint8Array(0))).toEqual([]);
    expect(reader.buffered).toBe(0);
  });

  // 16 MiB in 1 KB chunks: linear work is ~50 ms; re-concatenating per chunk would copy ~140 GB and time out.
  it('reassembles a large frame from many small chunks in linear time', { timeout: 20_000 }, () => {
    const payload = new Uint8Array(16 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    const stream = encodeFrame(payload);
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += 1000) {
      got.push(...reader.push(stream.subarray(at, at + 1000)));
      if (got.length === 0) expect(reader.buffered).toBe(Math.min(at + 1000, stream.length));
    }
    expect(got).toHaveLength(1);
    // Buffer.compare, not toEqual: a deep equality walk over 16 M elements takes a minute.
    expect(Buffer.compare(got[0], payload)).toBe(0);
  });

  it('returned frames are plain copies: the chunk may be reused after push', () => {
    const stream = concat([encodeFrame(new Uint8Array([1, 2])), encodeFrame(new Uint8Array([3]))]);
    const buf = Buffer.from(stream.subarray(0, 8)); // the first frame, 2 bytes of the second's prefix
    const reader = new FrameReader();
    const first = reader.push(buf);
    expect(Buffer.isBuffer(first[0])).toBe(false);
    buf.fill(0xff); // the transport reuses its read buffer
    expect(first).toEqual([new Uint8Array([1, 2])]);
    // Had the 2 prefix bytes been kept as a view, the length would now read as 0xffff_0000 + ... .
    expect(reader.push(Buffer.from(stream.subarray(8)))).toEqual([new Uint8Array([3])]);

    const body = Buffer.from(encodeFrame(new Uint8Array([7, 7, 7])));
    const reader2 = new FrameReader();
    expect(reader2.push(body.subarray(0, 5))).toEqual([]); // prefix and the first payload byte
    body.fill(0);
    expect(reader2.push(Buffer.from([7, 7]))).toEqual([new Uint8Array([7, 7, 7])]);
  });

  it('refuses a declared length above maxFrameBytes and stays refused', () => {
    const reader = new FrameReader({ maxFrameBytes: 10 });
    expect(reader.push(encodeFrame(new Uint8Array(10)))).toEqual([new Uint8Array(10)]);
    const over = encodeFrame(new Uint8Array(11));
    expect(reader.push(over.subarray(0, 3))).toEqual([]); // the prefix is not complete yet
    const e = frameError(() => reader.push(over.subarray(3)));
    expect(e.message).toMatch(/frame of 11 bytes exceeds 10/);
    for (const chunk of [new Uint8Array(0), encodeFrame(new Uint8Array(1))]) {
      const again = frameError(() => reader.push(chunk));
      expect(again.message).toBe(e.message);
    }
  });

  it('pushOne stops after the first frame it completes and says how much of the chunk it used', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (payloads, cuts) => {
          const reader = new FrameReader();
          const got: Uint8Array[] = [];
          for (let chunk of chunksOf(concat(payloads.map(encodeFrame)), cuts)) {
            for (;;) {
              const { frame, used } = reader.pushOne(chunk);
              chunk = chunk.subarray(used);
              if (frame === null) break;
              got.push(frame);
            }
            expect(chunk.length).toBe(0);
          }
          expect(got).toEqual(payloads);
          expect(reader.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a raised limit applies from the next frame header: a transport lifts it once a peer is known', () => {
    const reader = new FrameReader({ maxFrameBytes: 2 });
    const stream = concat([encodeFrame(new Uint8Array([1])), encodeFrame(new Uint8Array(5))]);
    const { frame, used } = reader.pushOne(stream);
    expect(frame).toEqual(new Uint8Array([1]));
    reader.setMaxFrameBytes(5);
    expect(reader.push(stream.subarray(used))).toEqual([new Uint8Array(5)]);
    expect(frameError(() => new FrameReader({ maxFrameBytes: 2 }).push(stream)).message).toMatch(/5 bytes/);
    frameError(() => reader.setMaxFrameBytes(-1));
  });

  it('the default limit is 64 MiB', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(64 * 1024 * 1024);
    const at = (n: number) => {
      const h = new Uint8Array(4);
      new DataView(h.buffer).setUint32(0, n, true);
      return h;
    };
    expect(new FrameReader().push(at(DEFAULT_MAX_FRAME_BYTES))).toEqual([]);
    expect(frameError(() => new FrameReader().push(at(DEFAULT_MAX_FRAME_BYTES + 1))).message).toMatch(
      /exceeds/,
    );
    expect(frameError(() => new FrameReader().push(at(0xffffffff))).message).toMatch(/4294967295/);
  });

  it('refuses a bad maxFrameBytes option', () => {
    frameError(() => new FrameReader({ maxFrameBytes: Number.NaN }));
    frameError(() => new FrameReader({ maxFrameBytes: -1 }));
  });
});
