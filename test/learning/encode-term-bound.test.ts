import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { MAX_TERM } from '../../src/learning/control.js';
import { emptyDelta, encodeControl, encodeDelta, identityFromRng } from '../../src/learning/index.js';
import { codeOf } from './error-code.js';

// An encoder must not write what its decoder refuses: a term above MAX_TERM went out as bytes every
// receiver drops as E_DECODE, so the sender learned nothing of its mistake.
describe('encoders refuse a term above MAX_TERM', () => {
  const me = identityFromRng('a', new SeededRng(1).fork('a'));

  it('control messages', () => {
    const c = { type: 'vote-request' as const, from: 'a', to: 'b', term: MAX_TERM + 1, value: 0 };
    expect(codeOf(() => encodeControl(c, me))).toBe('E_ENCODE');
    expect(() => encodeControl({ ...c, term: MAX_TERM }, me)).not.toThrow();
  });

  it('deltas', () => {
    const d = emptyDelta('peer', 'a', 0);
    d.term = MAX_TERM + 1;
    expect(codeOf(() => encodeDelta(d, me))).toBe('E_ENCODE');
    d.term = MAX_TERM;
    expect(() => encodeDelta(d, me)).not.toThrow();
  });
});
