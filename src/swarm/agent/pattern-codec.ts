import { ByteReader, ByteWriter, ElexError } from '../../core/index.js';
import { ACTION_COUNT } from '../../learning/index.js';
import type { Pattern } from './index.js';

/**
 * Patterns on the gossip pattern channel: one broadcast carries the patterns an agent found in one round
 * (the origin is the writing member, so it is not repeated).
 *
 *   u8 version (1) | varint count (1..PATTERNS_PER_BROADCAST) | per pattern: u32 hi, u32 lo, u8 action, f64 q
 *
 * The decoder refuses anything else with `E_DECODE` (unknown version, counts the bytes cannot hold, an
 * action outside the table, a non-finite q, trailing bytes).
 */
export const PATTERN_FORMAT = 1;
/** 36 patterns (every own state) fit in 2 + 36 × 17 = 614 bytes, under the gossip 900-byte value limit. */
export const PATTERNS_PER_BROADCAST = 40;

export function encodePatterns(ps: readonly Pattern[]): Uint8Array {
  if (ps.length === 0 || ps.length > PATTERNS_PER_BROADCAST)
    throw new ElexError('E_ENCODE', `1..${PATTERNS_PER_BROADCAST} patterns per broadcast, got ${ps.length}`);
  const w = new ByteWriter(2 + ps.length * 17);
  w.u8(PATTERN_FORMAT).varint(ps.length);
  for (const p of ps) {
    // What the decoder would refuse, or what would be written as another value, is refused here.
    if (!Number.isInteger(p.action) || p.action < 0 || p.action >= ACTION_COUNT)
      throw new ElexError('E_ENCODE', `action ${p.action} out of range`);
    if (!Number.isFinite(p.q)) throw new ElexError('E_ENCODE', 'non-finite pattern value');
    if (!isU32(p.hi) || !isU32(p.lo)) throw new ElexError('E_ENCODE', `state ${p.hi}:${p.lo} is not two u32`);
    w.u32(p.hi).u32(p.lo).u8(p.action).f64(p.q);
  }
  return w.finish();
}

const isU32 = (x: number) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

export function decodePatterns(bytes: Uint8Array, origin: string): Pattern[] {
  const r = new ByteReader(bytes);
  if (r.u8() !== PATTERN_FORMAT) throw new ElexError('E_DECODE', 'unknown pattern format');
  const n = r.varint();
  if (n === 0 || n > PATTERNS_PER_BROADCAST || n * 17 !== r.remaining)
    throw new ElexError('E_DECODE', `pattern count ${n} does not match ${r.remaining} bytes`);
  const out: Pattern[] = [];
  for (let i = 0; i < n; i++) {
    const hi = r.u32();
    const lo = r.u32();
    const action = r.u8();
    const q = r.f64();
    if (action >= ACTION_COUNT) throw new ElexError('E_DECODE', `action ${action} out of range`);
    if (!Number.isFinite(q)) throw new ElexError('E_DECODE', 'non-finite pattern value');
    out.push({ origin, hi, lo, action, q });
  }
  r.end();
  return out;
}
