/**
 * What a data directory remembers of whose it is (session 24, from a review). Before, `raft.disk` held term,
 * vote, log and snapshot but neither the node's id nor the voters it booted with, and a federation member's
 * files did not name it: a start with another `--id` or another member list on a used directory was taken
 * silently.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { identityFromRng, MapKeyring } from '../../src/learning/index.js';
import { writeFileDurably } from '../../src/node/durable-file.js';
import { FederationMember } from '../../src/node/federation-member.js';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { UdpFederationNetwork } from '../../src/node/udp-federation.js';
import { leaderOf, retrying } from '../support/kv-nodes.js';

const root = mkdtempSync(join(tmpdir(), 'elex-dir-identity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const running: KvNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.close()));
});

/** A 3-node cluster that commits a few writes, then stops: every node's directory holds the shared log. */
async function usedCluster() {
  const ports = await freePorts(4);
  const map = new Map<number, Address>(
    ports.slice(0, 3).map((port, i) => [i + 1, { host: '127.0.0.1', port }]),
  );
  const base = join(root, `c${dirs++}`);
  const dir = (id: number) => join(base, `n${id}`);
  const nodes = await Promise.all(
    [1, 2, 3].map(async (id) => {
      const n = await KvNode.start({ id, cluster: map, dataDir: dir(id) });
      running.push(n);
      return n;
    }),
  );
  await leaderOf(nodes);
  for (let i = 0; i < 5; i++) await retrying(() => nodes[i % 3].put(`k${i}`, `v${i}`));
  const term = Math.max(...nodes.map((n) => n.status().term));
  await Promise.all(running.splice(0).map((n) => n.close()));
  return { map, dir, term, spare: ports[3] };
}

/** What a start on `o` ends in: refused (the error's code) or running (the node's status). */
async function startOutcome(
  o: Parameters<typeof KvNode.start>[0],
): Promise<{ running: KvNode } | { refused: string }> {
  try {
    const n = await KvNode.start(o);
    running.push(n);
    return { running: n };
  } catch (e) {
    return { refused: (e as { code?: string }).code ?? String(e) };
  }
}

describe('a data directory is bound to its node and cluster', () => {
  it("refuses to start node 2 on node 1's data directory", async () => {
    const { map, dir, term } = await usedCluster();
    // An operator's slip (`--id 2 --data-dir n1`): node 2 would take node 1's vote and log as its own, and
    // could vote a second time in a term where its own directory already holds a vote.
    const o = await startOutcome({ id: 2, cluster: map, dataDir: dir(1) });
    if ('running' in o) {
      // Now: accepted silently, at node 1's term and with node 1's entries.
      expect(o.running.status().term).toBeGreaterThanOrEqual(term);
      expect(o.running.status().recovery.records).toBeGreaterThan(0);
    }
    expect('refused' in o ? o.refused : `started as node 2 at term ${o.running.status().term}`).toBe(
      'E_CONFIG',
    );
  }, 60_000);

  it('a member of a 3-node cluster restarted with a member list of itself alone does not commit on its own', async () => {
    const { dir, spare } = await usedCluster();
    // Same directory, a member list of one (a trimmed config file). The boot configuration is not on the
    // disk (until the first snapshot, 10,000 entries in), so the node takes {1} as the voters, elects itself
    // and commits alone, beside the real cluster {1, 2, 3}: two histories that both call themselves committed.
    const alone = new Map<number, Address>([[1, { host: '127.0.0.1', port: spare }]]);
    const o = await startOutcome({ id: 1, cluster: alone, dataDir: dir(1), requestTimeoutMs: 2000 });
    let committedAlone = false;
    if ('running' in o) {
      // Now: status().voters is [1], though the directory's log was written under {1, 2, 3}.
      committedAlone = await retrying(() => o.running.put('split', 'brain')).then(
        (r) => r.ok,
        () => false,
      );
    }
    // Either the start is refused, or the node keeps the configuration its log was written under and cannot
    // commit without a quorum of {1, 2, 3}.
    expect(committedAlone).toBe(false);
  }, 60_000);
});

describe('a data directory whose raft.disk is gone', () => {
  it('is refused: the node would have forgotten its vote and log (E_STORAGE), and a fresh directory still starts', async () => {
    const { map, dir } = await usedCluster();
    // An operator deletes n1/raft.disk (or a restore brings back everything but it). Started again, node 1
    // would boot at term 0 with no vote: in the current term it could grant a second vote, and its
    // acknowledgements of entries it no longer holds would have counted towards quorums.
    rmSync(join(dir(1), 'raft.disk'));
    const o = await startOutcome({ id: 1, cluster: map, dataDir: dir(1) });
    expect('refused' in o ? o.refused : `started at term ${o.running.status().term}`).toBe('E_STORAGE');
    // Nothing else in the directory is needed to start fresh.
    const fresh = await startOutcome({ id: 1, cluster: map, dataDir: join(root, `fresh${dirs++}`) });
    expect('running' in fresh).toBe(true);
  }, 60_000);

  it('a directory of an earlier version (raft.disk without node.json) still starts, and is marked', async () => {
    const { map, dir } = await usedCluster();
    rmSync(join(dir(2), 'node.json'), { force: true });
    const o = await startOutcome({ id: 2, cluster: map, dataDir: dir(2) });
    expect('running' in o).toBe(true);
    expect(existsSync(join(dir(2), 'node.json'))).toBe(true);
  }, 60_000);
});

describe('a federation member’s data directory is bound to its id', () => {
  it("refuses to start member 'b' on the directory holding member 'a''s vote and life number", async () => {
    const dataDir = join(root, `fed${dirs++}`);
    // What member 'a' left: in term 7 it voted for 'c'; it is in its third life.
    writeFileDurably(join(dataDir, 'vote.json'), JSON.stringify({ term: 7, voted_for: 'c' }));
    writeFileDurably(join(dataDir, 'epoch.json'), JSON.stringify(3));
    // Its first start bound the directory to it (a directory of an earlier version, without this, is taken).
    writeFileDurably(join(dataDir, 'member.json'), JSON.stringify({ id: 'a' }));
    const net = await UdpFederationNetwork.bind({ id: 'b', listen: { host: '127.0.0.1', port: 0 } });
    try {
      const ids = ['a', 'b', 'c'].map((id, i) => identityFromRng(id, new SeededRng(i + 1)));
      const keyring = new MapKeyring();
      for (const id of ids) keyring.add(id.id, id.publicKey);
      let outcome: string;
      try {
        // `--id b --data-dir <a's dir>`: neither vote.json nor epoch.json names its member, so 'b' takes a's
        // vote as its own (and, in a term where 'b' itself had voted, may vote again) and a's life number.
        const m = new FederationMember({
          id: 'b',
          members: ['a', 'b', 'c'],
          network: net,
          keyring,
          identity: ids[1],
          dataDir,
          federation: { sync_interval_ms: 3_600_000 },
          rng: new SeededRng(9),
        });
        outcome = `started at term ${m.fqt.term}`;
      } catch (e) {
        outcome = (e as { code?: string }).code ?? String(e);
      }
      // Before session 24: 'started at term 7'.
      expect(outcome).toBe('E_CONFIG');
    } finally {
      await net.close();
    }
  });
});
