import { expect } from 'vitest';
import { ElexError } from '../../src/core/index.js';

/** The error `f` throws; fails the test if it returns, throws anything but an ElexError, or another `code`. */
export function thrownElexError(f: () => unknown, code?: string): ElexError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ElexError);
  if (code !== undefined) expect((err as ElexError).code).toBe(code);
  return err as ElexError;
}

/** Unsigned LEB128 bytes of `x`, as the codecs' varints write them (for hand-built wire inputs). */
export function leb(x: bigint): number[] {
  const o: number[] = [];
  while (x >= 0x80n) {
    o.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  o.push(Number(x));
  return o;
}
