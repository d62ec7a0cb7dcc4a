import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { RequestGuard, signRequest } from '../../src/node/signed-request.js';

const key = () => ClusterKeyring.of([randomBytes(32)]);
const req = { method: 'POST', path: '/admin/members', body: '{"type":"remove","node":3}' };
const T = 1_700_000_000_000;

function refusal(f: () => void): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ElexError);
    expect((e as ElexError).code).toBe('E_AUTH');
    return (e as ElexError).message;
  }
  throw new Error('accepted');
}

describe('signed operator requests', () => {
  it('accepts exactly the signed request, once, within the window', () => {
    const ring = key();
    let now = T;
    const guard = new RequestGuard(ring, () => now);
    const h = signRequest(ring, req, T);
    guard.check(req, h);
    expect(refusal(() => guard.check(req, h))).toMatch(/replayed/);
    // Another body, path or method under the same signature.
    const h2 = signRequest(ring, req, T);
    expect(refusal(() => guard.check({ ...req, body: '{"type":"remove","node":1}' }, h2))).toMatch(
      /another request/,
    );
    expect(refusal(() => guard.check({ ...req, path: '/admin/transfer' }, h2))).toMatch(/another request/);
    expect(refusal(() => guard.check({ ...req, method: 'PUT' }, h2))).toMatch(/another request/);
    // Too old, or from too far in the future, by the receiver's clock.
    now = T + 30_001;
    expect(refusal(() => guard.check(req, signRequest(ring, req, T)))).toMatch(/window/);
    now = T - 30_001;
    expect(refusal(() => guard.check(req, signRequest(ring, req, T)))).toMatch(/window/);
    now = T + 29_000;
    guard.check(req, signRequest(ring, req, T));
  });

  it('a replay stays refused for as long as its time is in the window, and the nonce memory is pruned after', () => {
    const ring = key();
    let now = T;
    const guard = new RequestGuard(ring, () => now);
    const nonce = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    guard.check(req, signRequest(ring, req, T, nonce));
    now = T + 30_000;
    expect(refusal(() => guard.check(req, signRequest(ring, req, T, nonce)))).toMatch(/replayed/);
    now = T + 30_001;
    // The old request is now out of the window on its own; a new one with the same nonce is a new request.
    expect(refusal(() => guard.check(req, signRequest(ring, req, T, nonce)))).toMatch(/window/);
    guard.check(req, signRequest(ring, req, now, nonce));
  });

  it('refuses a missing header, another key, and a signature for another context', () => {
    const ring = key();
    const guard = new RequestGuard(ring, () => T);
    expect(refusal(() => guard.check(req, undefined))).toMatch(/keyed/);
    expect(refusal(() => guard.check(req, signRequest(key(), req, T)))).toMatch(/key this keyring/);
    // A sealed Raft frame is not an operator signature, even under the right key.
    const raft = Buffer.from(ring.seal('raft', new Uint8Array(48))).toString('base64url');
    expect(refusal(() => guard.check(req, raft))).toMatch(/tag/);
  });

  it('a key being rotated in signs for a ring that holds both', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const guard = new RequestGuard(ClusterKeyring.of([a, b]), () => T);
    guard.check(req, signRequest(ClusterKeyring.of([b]), req, T));
    guard.check(req, signRequest(ClusterKeyring.of([a]), req, T));
  });

  it('property: any header is accepted only as the signature it is, and refused with E_AUTH otherwise', () => {
    const ring = key();
    const guard = new RequestGuard(ring, () => T);
    const good = signRequest(ring, req, T);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String(), fc.nat({ max: good.length - 1 })), (h) => {
        // A string header as it is, or the good one with one character changed.
        const header =
          typeof h === 'number' ? good.slice(0, h) + (good[h] === 'A' ? 'B' : 'A') + good.slice(h + 1) : h;
        if (header === good) return;
        refusal(() => guard.check(req, header));
      }),
      { numRuns: 1000 },
    );
  });
});
