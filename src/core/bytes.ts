import { ElexError } from './errors.js';

/**
 * Bounds-checked binary reader/writer for wire codecs. Every read checks the remaining length so a
 * truncated or hostile message fails with `E_DECODE`, never with a RangeError deep in a core.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = Math.max(16, this.buf.length * 2); // from 16: doubling a capacity of 0 never grew it
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(x: number): this {
    this.ensure(1);
    this.view.setUint8(this.length, x);
    this.length += 1;
    return this;
  }
  u16(x: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, x, true);
    this.length += 2;
    return this;
  }
  u32(x: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, x, true);
    this.length += 4;
    return this;
  }
  f32(x: number): this {
    this.ensure(4);
    this.view.setFloat32(this.length, x, true);
    this.length += 4;
    return this;
  }
  f64(x: number): this {
    this.ensure(8);
    this.view.setFloat64(this.length, x, true);
    this.length += 8;
    return this;
  }
  u64(x: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.length, x, true);
    this.length += 8;
    return this;
  }
  /** Unsigned LEB128 varint, for integers up to 2^53. */
  varint(x: number): this {
    if (!Number.isSafeInteger(x) || x < 0) throw new ElexError('E_ENCODE', `varint out of range: ${x}`);
    while (x >= 0x80) {
      this.u8((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    return this.u8(x);
  }
  bytes(b: Uint8Array): this {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  str(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

// ignoreBOM: a leading U+FEFF is part of the string (stripping it made "\uFEFFk" decode as "k").
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class ByteReader {
  private readonly view: DataView;
  offset = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) {
      throw new ElexError('E_DECODE', `truncated: need ${n} bytes for ${what} at offset ${this.offset}`);
    }
  }

  u8(): number {
    this.need(1, 'u8');
    return this.view.getUint8(this.offset++);
  }
  u16(): number {
    this.need(2, 'u16');
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }
  u32(): number {
    this.need(4, 'u32');
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f32(): number {
    this.need(4, 'f32');
    const v = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f64(): number {
    this.need(8, 'f64');
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }
  u64(): bigint {
    this.need(8, 'u64');
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        // Only what `ByteWriter.varint` writes: no overlong form (a last group of 0 after the first), nothing
        // above 2^53 − 1 (rounded, so two different numbers could decode as one).
        if (b === 0 && i > 0) throw new ElexError('E_DECODE', 'overlong varint');
        if (result > Number.MAX_SAFE_INTEGER)
          throw new ElexError('E_DECODE', `varint ${result} above 2^53 - 1`);
        return result;
      }
      mul *= 0x80;
    }
    throw new ElexError('E_DECODE', 'varint too long');
  }
  bytes(max = 1 << 24): Uint8Array {
    const n = this.varint();
    if (n > max) throw new ElexError('E_DECODE', `byte field of ${n} exceeds limit ${max}`);
    this.need(n, 'bytes');
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  raw(n: number): Uint8Array {
    this.need(n, 'raw');
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  str(max = 1 << 16): string {
    const b = this.bytes(max);
    try {
      return UTF8.decode(b);
    } catch {
      // The fatal decoder throws a TypeError; decoders must only throw typed errors.
      throw new ElexError('E_DECODE', 'string is not valid UTF-8');
    }
  }
  /** Asserts the message was consumed exactly (trailing bytes are an error). */
  end(): void {
    if (this.remaining !== 0) throw new ElexError('E_DECODE', `${this.remaining} trailing bytes`);
  }
}
