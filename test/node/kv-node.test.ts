import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ElexError, encodeFrame } from '../../src/core/index.js';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { FileDisk } from '../../src/node/file-disk.js';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';
import { RaftProcess } from '../../src/node/raft-process.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { ConfChangeType, emptyMessage, encodeMessage, KvRaftHost, MsgType } from '../../src/raft/index.js';
import { leaderOf, retrying } from '../support/kv-nodes.js';

const root = mkdtempSync(join(tmpdir(), 'elex-kv-node-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const running: KvNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.close()));
});

async function cluster(size: number, auth?: ClusterKeyring) {
  const ports = await freePorts(size);
  const map = new Map<number, Address>(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
  const base = join(root, `c${dirs++}`);
  const start = async (id: number) => {
    const n = await KvNode.start({ id, cluster: map, dataDir: join(base, `n${id}`), auth });
    running.push(n);
    return n;
  };
  const nodes = await Promise.all([...map.keys()].map(start));
  return { nodes, start, map };
}

/** Writes one frame on a fresh connection, as a stranger on the network would. */
function inject(at: Address, frame: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(at.port, at.host, () => s.end(frame));
    // A delivered frame is acknowledged with a byte: read it, or the socket never sees the end and closes.
    s.resume();
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

describe('KvNode: the Raft KV node on TCP and a file', () => {
  it('elects one leader; a write through a follower is readable, linearizably, on every node', async () => {
    const { nodes } = await cluster(3);
    const leader = await leaderOf(nodes);
    const follower = nodes.find((n) => n !== leader)!;
    const r = await retrying(() => follower.put('IFLB', 'on'));
    expect(r).toEqual({ ok: true, value: null });
    for (const n of nodes) expect(await retrying(() => n.get('IFLB'))).toBe('on');
    expect(nodes.filter((n) => n.status().role === 'leader')).toHaveLength(1);
    const terms = new Set(nodes.map((n) => n.status().term));
    expect(terms.size).toBe(1);
  });

  it("two requests of one session seq on one node both get the answer (the second took the first one's waiter)", async () => {
    const { nodes } = await cluster(3);
    const leader = await leaderOf(nodes);
    const client = await retrying(() => leader.register());
    // A client's retry reaching the same node while the first attempt is still pending (review, session 24):
    // the first one waited out its timeout (E_TIMEOUT, "may still apply") although its write had applied.
    const session = { client, seq: 1 };
    const [a, b] = await Promise.all([leader.put('k', 'v', session), leader.put('k', 'v', session)]);
    expect(a).toEqual({ ok: true, value: null });
    expect(b).toEqual(a);
  });

  it('a whole cluster stopped and restarted from its data directories keeps every acknowledged write', async () => {
    const { nodes, start } = await cluster(3);
    await leaderOf(nodes);
    for (let i = 0; i < 20; i++) await retrying(() => nodes[i % 3].put(`k${i}`, `v${i}`));
    const terms = nodes.map((n) => n.status().term);
    // No process keeps anything in memory: what comes back can only come from the disks.
    await Promise.all(running.splice(0).map((n) => n.close()));
    const again = await Promise.all(nodes.map((n) => start(n.id)));
    again.forEach((n, i) => {
      expect(n.status().recovery.records).toBeGreaterThan(0);
      expect(n.status().term).toBeGreaterThanOrEqual(terms[i]);
    });
    for (const n of again)
      for (let i = 0; i < 20; i++) expect(await retrying(() => n.get(`k${i}`))).toBe(`v${i}`);
  });

  it('fails a write at once when no quorum can form, instead of hanging (E_NO_LEADER or E_TIMEOUT)', async () => {
    const ports = await freePorts(3);
    const map = new Map<number, Address>(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
    // Only node 1 runs: it can never be elected.
    const lone = await KvNode.start({
      id: 1,
      cluster: map,
      dataDir: join(root, `lone${dirs++}`),
      requestTimeoutMs: 300,
    });
    running.push(lone);
    await expect(lone.put('k', 'v')).rejects.toMatchObject({
      code: expect.stringMatching(/^E_(NO_LEADER|TIMEOUT)$/),
    });
    await expect(lone.get('k')).rejects.toMatchObject({
      code: expect.stringMatching(/^E_(NO_LEADER|TIMEOUT)$/),
    });
  });

  it('a forged heartbeat at a high term deposes the leader of an unkeyed cluster, and is refused by a keyed one', async () => {
    for (const auth of [undefined, ClusterKeyring.of([new Uint8Array(32).fill(3)])]) {
      const { nodes, map } = await cluster(3, auth);
      const leader = await leaderOf(nodes);
      const before = leader.status().term;
      const other = [...map.keys()].find((id) => id !== leader.status().id)!;
      // In another member's name, at term 1000: what any process that can reach the port could send.
      const forged = encodeMessage(emptyMessage(MsgType.Heartbeat, other, leader.status().id, 1000));
      await inject(map.get(leader.status().id)!, encodeFrame(forged));
      const end = Date.now() + 2000;
      while (Date.now() < end && leader.status().term < 1000) await new Promise((r) => setTimeout(r, 20));
      if (auth === undefined) {
        expect(leader.status().term).toBeGreaterThanOrEqual(1000);
        expect(leader.status().authenticated).toBe(false);
      } else {
        // (A busy machine may hold a real election meanwhile: the term stays far from the forged one.)
        expect(leader.status().term).toBeLessThan(before + 10);
        expect(leader.status().transport.refused).toEqual({ E_AUTH: 1 });
      }
      await Promise.all(running.splice(0).map((n) => n.close()));
    }
  });

  it("refuses a key or value above the machine's bounds as UTF-8 (E_TOO_LARGE), before proposing it", async () => {
    const { nodes } = await cluster(1);
    const n = await leaderOf(nodes);
    const big = 'é'.repeat((1 << 19) + 1); // 2^19 + 1 characters, 2^20 + 2 bytes
    await expect(n.put('x', big)).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
    await expect(n.put('k'.repeat(1025), 'v')).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
    await retrying(() => n.put('x', 'é'.repeat(1 << 19)));
    expect((await n.get('x'))?.length).toBe(1 << 19);
  });

  it('refuses an id that is not in the cluster', async () => {
    const map = new Map<number, Address>([[1, { host: '127.0.0.1', port: 0 }]]);
    await expect(KvNode.start({ id: 2, cluster: map, dataDir: join(root, 'x') })).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
  });
});

describe('RaftProcess: a failed assertion inside the host', () => {
  it('stops the node, not the process (the library default); its requests fail with E_STOPPED', async () => {
    const [port] = await freePorts(1);
    const lines: string[] = [];
    const proc = await RaftProcess.start(
      {
        id: 1,
        cluster: new Map([[1, { host: '127.0.0.1', port }]]),
        dataDir: join(root, `fatal${dirs++}`),
        log: (l) => lines.push(l),
      },
      (env, opts, observer) => new KvRaftHost(env, 1, opts, observer),
    );
    try {
      proc.host.guard(() => {
        throw new ElexError('E_ASSERT', 'planted');
      });
      expect(proc.status().role).toBe('stopped');
      expect(lines.join('\n')).toMatch(/assertion failed: planted/);
      await expect(proc.propose(() => () => {})).rejects.toMatchObject({ code: 'E_STOPPED' });
    } finally {
      await proc.close();
    }
  });
});

describe('KvNode: membership changes and leadership transfer on real nodes', () => {
  it('a node outside the boot configuration joins as a voter, a voter leaves, leadership moves to the newcomer', async () => {
    const ports = await freePorts(4);
    const book = new Map<number, Address>(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
    const base = join(root, `members${dirs++}`);
    const nodes: KvNode[] = [];
    for (const id of book.keys()) {
      const n = await KvNode.start({ id, cluster: book, voters: [1, 2, 3], dataDir: join(base, `n${id}`) });
      running.push(n);
      nodes.push(n);
    }
    const newcomer = nodes[3];
    const leader = await leaderOf(nodes.slice(0, 3));
    await retrying(() => leader.put('before', 'join'));
    // It booted with the same configuration, which does not include it: it never campaigns.
    expect(newcomer.status()).toMatchObject({ voters: [1, 2, 3], role: 'follower' });

    expect(await leader.changeMembership({ type: ConfChangeType.AddVoter, node: 4 })).toEqual({
      voters: [1, 2, 3, 4],
      learners: [],
    });
    // The newcomer catches up from the leader and serves a linearizable read of what came before it.
    expect(await retrying(() => newcomer.get('before'))).toBe('join');

    const leaving = nodes.find((n) => n !== leader && n !== newcomer)!;
    expect(
      (await leader.changeMembership({ type: ConfChangeType.Remove, node: leaving.id })).voters,
    ).not.toContain(leaving.id);
    await expect(leader.changeMembership({ type: ConfChangeType.Remove, node: 99 })).rejects.toMatchObject({
      code: 'E_CONF_INVALID',
    });

    await leader.transferLeadership(4);
    expect(newcomer.status().role).toBe('leader');
    await expect(
      leader.changeMembership({ type: ConfChangeType.AddLearner, node: leaving.id }),
    ).rejects.toMatchObject({
      code: 'E_NOT_LEADER',
    });
    expect(await retrying(() => newcomer.put('after', 'transfer'))).toMatchObject({ ok: true });
    for (const n of nodes.filter((x) => x !== leaving))
      expect(await retrying(() => n.get('after'))).toBe('transfer');
  });
});

describe('RaftProcess: one process per data directory', () => {
  it('refuses a second node on a data directory in use, and takes over a lock its owner left behind', async () => {
    const [p1, p2] = await freePorts(2);
    const dataDir = join(root, `locked${dirs++}`);
    const one = (port: number) => new Map([[1, { host: '127.0.0.1', port }]]);
    const first = await KvNode.start({ id: 1, cluster: one(p1), dataDir });
    running.push(first);
    await leaderOf([first]); // it has written its term and first entry
    await expect(KvNode.start({ id: 1, cluster: one(p2), dataDir })).rejects.toMatchObject({
      code: 'E_LOCKED',
      message: expect.stringContaining(String(process.pid)),
    });
    await first.close();
    running.splice(running.indexOf(first), 1);
    // A lock whose process is gone (as after a SIGKILL) does not keep the node down.
    writeFileSync(join(dataDir, 'LOCK'), '999999999\n');
    const again = await KvNode.start({ id: 1, cluster: one(p2), dataDir });
    running.push(again);
    expect(again.status().recovery.records).toBeGreaterThan(0);
  });

  it('a start that fails on a log it cannot load releases the lock, the port and the file', async () => {
    const [port] = await freePorts(1);
    const dataDir = join(root, `unloadable${dirs++}`);
    const one = new Map([[1, { host: '127.0.0.1', port }]]);
    const disk = FileDisk.open(join(dataDir, 'raft.disk'));
    disk.write('raft/last', 3); // claims entries 1..3, which are not there
    await disk.close();
    await expect(KvNode.start({ id: 1, cluster: one, dataDir })).rejects.toMatchObject({ code: 'E_STORAGE' });
    expect(existsSync(join(dataDir, 'LOCK'))).toBe(false);
    // The port is free again, and once the file is repaired the node starts on the same directory.
    const repaired = FileDisk.open(join(dataDir, 'raft.disk'));
    repaired.delete('raft/last');
    await repaired.close();
    const n = await KvNode.start({ id: 1, cluster: one, dataDir });
    running.push(n);
    await leaderOf([n]);
  });
});
