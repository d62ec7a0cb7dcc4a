import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import type { Identity } from '../../src/learning/index.js';
import { FederationMember } from '../../src/node/federation-member.js';
import type { UdpFederationNetwork } from '../../src/node/udp-federation.js';
import { boundNetworks, identitiesFor } from '../support/federation-udp.js';
import { waitUntil } from '../support/wait.js';

const members: FederationMember[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(members.splice(0).map((m) => m.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('what a member reports as its aggregator', () => {
  it('a member following a live aggregator by its heartbeats reports that aggregator (fqt.leader, the status line’s "leader"), not null', async () => {
    const ids = ['a', 'b', 'c'];
    const { identities, keyring } = identitiesFor(ids, 400);
    const root = mkdtempSync(join(tmpdir(), 'elex-fed-status-'));
    dirs.push(root);
    const nets = await boundNetworks(ids);
    // Nothing learned (`elex federation-member --learn-per-sync 0`, or a quiet category): no rounds, heartbeats only.
    const live = ids.map((id, i) =>
      new FederationMember({
        id,
        members: ids,
        network: nets.get(id) as UdpFederationNetwork,
        keyring,
        identity: identities.get(id) as Identity,
        dataDir: join(root, id),
        federation: { sync_interval_ms: 80 },
        rng: new SeededRng(20 + i),
      }).start(),
    );
    members.push(...live);
    let leader = '';
    await waitUntil(
      () => {
        const l = live.filter((m) => m.fqt.consensus_state.kind === 'Leader');
        if (l.length !== 1) return false;
        leader = l[0].fqt.id;
        return live.every((m) => m === l[0] || m.fqt.election.liveLeader(performance.now()) === leader);
      },
      10_000,
      () => 'no aggregator followed by all',
    );
    const followers = live.filter((m) => m.fqt.id !== leader);
    expect(followers.map((m) => m.fqt.leader)).toEqual([leader, leader]);
  });
});
