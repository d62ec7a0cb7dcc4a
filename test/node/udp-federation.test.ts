import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { encodeState, identityFromRng, MapKeyring } from '../../src/learning/index.js';
import { FederationMember, nextEpoch, readVoteState } from '../../src/node/federation-member.js';
import { MAX_DATAGRAM, UdpFederationNetwork } from '../../src/node/udp-federation.js';
import { thrownElexError } from '../support/errors.js';
import { waitUntil } from '../support/wait.js';

const open: UdpFederationNetwork[] = [];
const bind = async (id: string, extra: Partial<Parameters<typeof UdpFederationNetwork.bind>[0]> = {}) => {
  const n = await UdpFederationNetwork.bind({ id, listen: { host: '127.0.0.1', port: 0 }, ...extra });
  open.push(n);
  return n;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close()));
});

describe('UdpFederationNetwork', () => {
  it('carries each message as one datagram to the member it names, and only that member drains it', async () => {
    const a = await bind('a');
    const b = await bind('b');
    a.route('b', b.address);
    a.send('a', 'b', Uint8Array.from([1, 2, 3]));
    a.send('a', 'b', Uint8Array.from([4]));
    await waitUntil(() => b.stats.datagramsIn === 2, 5000);
    expect(b.drain('a')).toEqual([]);
    expect(b.drain('b')).toEqual([Uint8Array.from([1, 2, 3]), Uint8Array.from([4])]);
    expect(b.drain('b')).toEqual([]);
    expect(a.stats).toMatchObject({ datagramsOut: 2, bytesOut: 4 });
  });

  it('counts what it cannot send instead of throwing: no route, larger than a datagram', async () => {
    const a = await bind('a');
    a.send('a', 'nobody', Uint8Array.from([1]));
    a.route('b', { host: '127.0.0.1', port: 9 });
    a.send('a', 'b', new Uint8Array(MAX_DATAGRAM + 1));
    expect(a.stats).toMatchObject({ unroutable: 1, oversize: 1, datagramsOut: 0 });
  });

  it('refuses to send for another member', async () => {
    const a = await bind('a');
    expect(thrownElexError(() => a.send('b', 'a', Uint8Array.from([1])))?.code).toBe('E_CONFIG');
  });

  it('drops the configured fraction of its datagrams, drawn from its rng', async () => {
    const a = await bind('a', { loss: 0.5, rng: new SeededRng(7) });
    a.route('b', { host: '127.0.0.1', port: 9 });
    for (let i = 0; i < 400; i++) a.send('a', 'b', Uint8Array.from([i & 0xff]));
    expect(a.stats.dropped + a.stats.datagramsOut).toBe(400);
    expect(a.stats.dropped).toBeGreaterThan(150);
    expect(a.stats.dropped).toBeLessThan(250);
    await expect(bind('c', { loss: 0.5 })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });

  it('keeps the newest datagrams when its inbox is full', async () => {
    const a = await bind('a');
    const b = await bind('b', { inboxLimit: 2 });
    a.route('b', b.address);
    for (let i = 0; i < 5; i++) {
      a.send('a', 'b', Uint8Array.from([i]));
      await waitUntil(() => b.stats.datagramsIn === i + 1, 5000);
    }
    expect(b.drain('b')).toEqual([Uint8Array.from([3]), Uint8Array.from([4])]);
    expect(b.stats.overflowed).toBe(3);
  });

  it('keeps at most inboxBytes waiting, the newest (a flood of 64 KB datagrams held 268 MB)', async () => {
    const a = await bind('a');
    const b = await bind('b', { inboxBytes: 2500 });
    a.route('b', b.address);
    for (let i = 0; i < 6; i++) {
      a.send('a', 'b', new Uint8Array(1000).fill(i));
      await waitUntil(() => b.stats.datagramsIn === i + 1, 5000);
    }
    a.send('a', 'b', new Uint8Array(3000)); // alone larger than the inbox: dropped, the rest kept
    await waitUntil(() => b.stats.datagramsIn === 7, 5000);
    expect(b.drain('b').map((d) => d[0])).toEqual([4, 5]);
    expect(b.stats.overflowed).toBe(5);
  });
});

describe('readVoteState', () => {
  it('reads a saved vote, gives none for a new member and refuses a damaged file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-vote-'));
    expect(readVoteState(dir)).toBeUndefined();
    writeFileSync(join(dir, 'vote.json'), '{"term":4,"voted_for":"m1"}');
    expect(readVoteState(dir)).toEqual({ term: 4, voted_for: 'm1' });
    writeFileSync(join(dir, 'vote.json'), '{"term":4,"voted_for":"m1","certified_term":3}');
    expect(readVoteState(dir)).toEqual({ term: 4, voted_for: 'm1', certified_term: 3 });
    for (const bad of [
      '{"term":4,"voted_',
      '{"term":-1,"voted_for":null}',
      '{"term":1.5,"voted_for":null}',
      'null',
      '{"term":2,"voted_for":3}',
    ]) {
      writeFileSync(join(dir, 'vote.json'), bad);
      expect(thrownElexError(() => readVoteState(dir))?.code).toBe('E_STORAGE');
    }
  });
});

describe('nextEpoch', () => {
  it('takes one more than the saved life at each start, saves it, and refuses a damaged file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-epoch-'));
    expect(nextEpoch(dir)).toBe(1);
    expect(nextEpoch(dir)).toBe(2);
    expect(readFileSync(join(dir, 'epoch.json'), 'utf8')).toBe('2');
    for (const bad of ['', '2.5', '-1', '"3"', 'null', String(Number.MAX_SAFE_INTEGER)]) {
      writeFileSync(join(dir, 'epoch.json'), bad);
      expect(thrownElexError(() => nextEpoch(dir))?.code, bad).toBe('E_STORAGE');
      // Nothing was written over the damaged file: an operator sees what was there.
      expect(readFileSync(join(dir, 'epoch.json'), 'utf8')).toBe(bad);
    }
  });
});

describe('FederationMember', () => {
  it('syncs at the tenth interaction learned between its ticks, not only on its timer (ADR-115)', async () => {
    const [na, nb] = [await bind('a'), await bind('b')];
    na.route('b', nb.address);
    const ids = ['a', 'b'].map((id, i) => identityFromRng(id, new SeededRng(i + 1)));
    const keyring = new MapKeyring();
    for (const id of ids) keyring.add(id.id, id.publicKey);
    // Never started: an hour-long interval and no timer, so only the interaction count can make it sync.
    const a = new FederationMember({
      id: 'a',
      members: ['a', 'b'],
      network: na,
      keyring,
      identity: ids[0],
      dataDir: mkdtempSync(join(tmpdir(), 'elex-member-')),
      federation: { sync_interval_ms: 3_600_000 },
      rng: new SeededRng(3),
    });
    const state = encodeState({ queryType: 'kpi', complexity: 'simple', confidence: 1, contextHash: 1n });
    for (let i = 1; i <= 10; i++) {
      a.fqt.learner.learn(state, 0, 1, null);
      a.interacted();
      expect(na.stats.datagramsOut, `after ${i} interactions`).toBe(i < 10 ? 0 : na.stats.datagramsOut);
    }
    expect(na.stats.datagramsOut).toBeGreaterThan(0);
    expect(a.fqt.syncDue()).toBe(false);
    await waitUntil(() => nb.stats.datagramsIn > 0, 5000);
  });
});
