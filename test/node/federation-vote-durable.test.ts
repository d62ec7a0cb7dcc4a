import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { ENVELOPE, type Identity } from '../../src/learning/index.js';
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the vote state is saved before anything that depends on it', () => {
  it('a candidate whose certified term cannot be saved when it wins does not lead: no certificate or heartbeat leaves', async () => {
    const ids = ['a', 'b', 'c'];
    const { identities, keyring } = identitiesFor(ids, 300);
    const root = mkdtempSync(join(tmpdir(), 'elex-fed-vote-'));
    dirs.push(root);
    const nets = await boundNetworks(ids);
    const sent: Array<{ to: string; kind: number }> = [];
    const na = nets.get('a') as UdpFederationNetwork;
    const send = na.send.bind(na);
    na.send = (from, to, bytes) => {
      sent.push({ to, kind: bytes[0] });
      send(from, to, bytes);
    };
    // Not started: this test syncs them. a's election timeout is short, b's and c's an hour away.
    const m = new Map(
      ids.map((id) => [
        id,
        new FederationMember({
          id,
          members: ids,
          network: nets.get(id) as UdpFederationNetwork,
          keyring,
          identity: identities.get(id) as Identity,
          dataDir: join(root, id),
          federation: { sync_interval_ms: id === 'a' ? 200 : 3_600_000, min_peers_for_consensus: 2 },
          rng: new SeededRng(11),
        }),
      ]),
    );
    for (const x of m.values()) members.push(x);
    const [a, b, c] = ids.map((id) => m.get(id) as FederationMember);
    const arrived = async (id: string, n: number) =>
      waitUntil(() => (nets.get(id) as UdpFederationNetwork).stats.datagramsIn >= n, 5000);

    await sleep(900); // past a's election timeout (2–4 intervals)
    a.fqt.syncNow(); // pre-vote requests
    await arrived('b', 1);
    await arrived('c', 1);
    b.fqt.syncNow();
    c.fqt.syncNow(); // pre-votes granted
    await arrived('a', 2);
    a.fqt.syncNow(); // campaigns: term 1, its own vote saved, vote requests out
    expect(a.fqt.consensus_state.kind).toBe('Candidate');
    expect(JSON.parse(readFileSync(join(root, 'a', 'vote.json'), 'utf8'))).toEqual({
      term: 1,
      voted_for: 'a',
    });
    await arrived('b', 2);
    await arrived('c', 2);
    // From now on a's vote file cannot be replaced (a directory in its place: the rename fails).
    rmSync(join(root, 'a', 'vote.json'));
    mkdirSync(join(root, 'a', 'vote.json'));
    b.fqt.syncNow();
    c.fqt.syncNow(); // votes granted
    await arrived('a', 4);
    let thrown: unknown = null;
    try {
      a.fqt.syncNow(); // wins: saving certified_term 1 fails
    } catch (e) {
      thrown = e;
    }
    expect(String(thrown)).toMatch(/EISDIR|EEXIST|ENOTEMPTY|EPERM/);
    expect(a.fqt.consensus_state.kind).not.toBe('Leader');
    const before = sent.length;
    try {
      a.fqt.syncNow();
    } catch {}
    const asLeader = sent
      .slice(before)
      .filter((s) => s.kind === ENVELOPE.certificate || s.kind === ENVELOPE.control);
    // aggregator-election.ts: "if it throws (the state could not be saved), the vote state is unchanged and
    // nothing is sent". Observed: it stays Leader and its next sync sends its certificate and heartbeats.
    expect(
      asLeader.map((x) => `${x.kind === ENVELOPE.certificate ? 'certificate' : 'control'}→${x.to}`),
    ).toEqual([]);
  });
});
