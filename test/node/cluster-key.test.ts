import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isElexError } from '../../src/core/index.js';
import {
  AUTH_OVERHEAD,
  ClusterKeyring,
  parseClusterKeys,
  readClusterKeyring,
  writeClusterKey,
} from '../../src/node/cluster-key.js';
import { thrownElexError } from '../support/errors.js';

const key = () => new Uint8Array(randomBytes(32));
const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');

describe('cluster keyring', () => {
  it('opens what it sealed, for the context it was sealed for only', () => {
    const ring = ClusterKeyring.of([key()]);
    const payload = new Uint8Array([1, 2, 3, 250]);
    const sealed = ring.seal('raft', payload);
    expect(sealed.length).toBe(payload.length + AUTH_OVERHEAD);
    expect(ring.open('raft', sealed)).toEqual(payload);
    expect(ring.open('gossip', ring.seal('gossip', new Uint8Array(0)))).toEqual(new Uint8Array(0));
    // A Raft frame replayed into gossip does not verify.
    expect(thrownElexError(() => ring.open('gossip', sealed)).code).toBe('E_AUTH');
  });

  it('refuses every single-bit flip and every truncation of a sealed message', () => {
    const ring = ClusterKeyring.of([key()]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (payload, at) => {
        const sealed = ring.seal('raft', payload);
        const flipped = Uint8Array.from(sealed);
        const bit = at % (sealed.length * 8);
        flipped[bit >> 3] ^= 1 << (bit & 7);
        expect(thrownElexError(() => ring.open('raft', flipped)).code).toBe('E_AUTH');
        const cut = at % sealed.length;
        expect(thrownElexError(() => ring.open('raft', sealed.subarray(0, cut))).code).toBe('E_AUTH');
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but E_AUTH on arbitrary bytes', () => {
    const ring = ClusterKeyring.of([key()]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          ring.open('gossip', bytes);
          return false; // a forgery would need the key
        } catch (e) {
          return isElexError(e) && e.code === 'E_AUTH';
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a different key cannot speak for the cluster', () => {
    const ours = ClusterKeyring.of([key()]);
    const theirs = ClusterKeyring.of([key()]);
    expect(thrownElexError(() => ours.open('raft', theirs.seal('raft', new Uint8Array([7])))).code).toBe(
      'E_AUTH',
    );
  });

  it('rotates without a gap: a ring with the new key second still opens the old key, then seals with the new', () => {
    const oldKey = key();
    const newKey = key();
    const before = ClusterKeyring.of([oldKey]);
    const adding = ClusterKeyring.of([oldKey, newKey]); // step 1 on every member
    const switched = ClusterKeyring.of([newKey, oldKey]); // step 2
    const after = ClusterKeyring.of([newKey]); // step 3
    const m = new Uint8Array([42]);
    // During each step, members one step apart understand each other.
    expect(adding.open('raft', before.seal('raft', m))).toEqual(m);
    expect(before.open('raft', adding.seal('raft', m))).toEqual(m);
    expect(adding.open('raft', switched.seal('raft', m))).toEqual(m);
    expect(switched.open('raft', adding.seal('raft', m))).toEqual(m);
    expect(after.open('raft', switched.seal('raft', m))).toEqual(m);
    expect(switched.open('raft', after.seal('raft', m))).toEqual(m);
    // Two steps apart they do not: the old key is gone.
    expect(thrownElexError(() => before.open('raft', after.seal('raft', m))).code).toBe('E_AUTH');
  });

  it('reads key files with comments, and refuses what is not one', () => {
    const a = key();
    const b = key();
    const ring = parseClusterKeys(`# ours\n${hex(a)}\n\n${hex(b)}  # next\n`);
    expect(ClusterKeyring.of([a]).open('raft', ring.seal('raft', new Uint8Array([1])))).toEqual(
      new Uint8Array([1]),
    );
    for (const text of [
      '',
      '# nothing\n',
      'abc\n',
      `${hex(a)}00\n`,
      `${hex(a)}\n${hex(a)}\n`,
      'zz'.repeat(32),
    ]) {
      expect(thrownElexError(() => parseClusterKeys(text)).code).toBe('E_KEY');
    }
    const nine = Array.from({ length: 9 }, () => hex(key())).join('\n');
    expect(thrownElexError(() => parseClusterKeys(nine)).code).toBe('E_KEY');
    expect(thrownElexError(() => ClusterKeyring.of([new Uint8Array(16)])).code).toBe('E_KEY');
  });

  it('writes a fresh key readable by its owner only, and never overwrites one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-cluster-key-'));
    const path = join(dir, 'cluster.key');
    writeClusterKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    const ring = readClusterKeyring(path);
    expect(ring.open('raft', parseClusterKeys(text).seal('raft', new Uint8Array([3])))).toEqual(
      new Uint8Array([3]),
    );
    expect(thrownElexError(() => writeClusterKey(path)).code).toBe('E_EXISTS');
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(thrownElexError(() => readClusterKeyring(join(dir, 'missing'))).code).toBe('E_KEY');
  });
});
