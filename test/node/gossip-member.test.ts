import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../../src/gossip/index.js';
import { ClusterKeyring } from '../../src/node/cluster-key.js';
import { runGossipCluster } from '../../src/node/gossip-cluster.js';
import { GossipMember } from '../../src/node/gossip-member.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';

const running: GossipMember[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

async function members(n: number, auth?: ClusterKeyring): Promise<GossipMember[]> {
  const first = await GossipMember.start({
    listen: { host: '127.0.0.1', port: 0 },
    config: FAST,
    tickMs: 10,
    auth,
  });
  running.push(first);
  for (let i = 1; i < n; i++) {
    running.push(
      await GossipMember.start({
        listen: { host: '127.0.0.1', port: 0 },
        seeds: [first.name],
        config: FAST,
        tickMs: 10,
        auth,
      }),
    );
  }
  return [...running];
}

const until = (cond: () => boolean) => waitUntil(cond, 15_000);

const statusOf = (m: GossipMember, name: string) => m.members().find((x) => x.name === name)?.status;

describe('GossipMember: the gossip core on UDP', () => {
  it('members that join through one seed all see each other alive', async () => {
    const ms = await members(5);
    await until(() => ms.every((m) => ms.every((o) => o === m || statusOf(m, o.name) === 'alive')));
    for (const m of ms) expect(m.stats.datagramsIn).toBeGreaterThan(0);
  });

  it('with a cluster key, members see each other, and a member without it is never let in', async () => {
    const ring = ClusterKeyring.of([new Uint8Array(32).fill(5)]);
    const ms = await members(3, ring);
    const stranger = await GossipMember.start({
      listen: { host: '127.0.0.1', port: 0 },
      seeds: [ms[0].name],
      config: FAST,
      tickMs: 10,
    });
    running.push(stranger);
    await until(() => ms.every((m) => ms.every((o) => o === m || statusOf(m, o.name) === 'alive')));
    await until(() => ms[0].stats.unauthenticated >= 5);
    for (const m of ms) expect(statusOf(m, stranger.name)).toBeUndefined();
    // The keyed members never answered it, so it knows nobody.
    expect(stranger.members().filter((x) => x.name !== stranger.name)).toEqual([]);
    expect(stranger.stats.datagramsIn).toBe(0);
  });

  it('a key one member sets reaches every other member', async () => {
    const ms = await members(4);
    const seen = new Map<string, string>();
    for (const m of ms.slice(1))
      m.subscribe((e) => {
        if (e.kind === 'key' && e.key === 'load') seen.set(m.name, new TextDecoder().decode(e.value));
      });
    ms[0].core.set(Channel.state, 'load', new TextEncoder().encode('0.42'));
    await until(() => seen.size === 3);
    expect([...seen.values()]).toEqual(['0.42', '0.42', '0.42']);
  });

  it('a member that leaves is seen as left; one that stops silently is found dead by the failure detector', async () => {
    const ms = await members(5);
    await until(() => ms.every((m) => m.members().filter((x) => x.status === 'alive').length >= 4));
    const [leaver, crasher, ...rest] = ms.slice(1);
    running.splice(running.indexOf(leaver), 1);
    await leaver.leave();
    await until(() => [ms[0], crasher, ...rest].every((m) => statusOf(m, leaver.name) === 'left'));
    running.splice(running.indexOf(crasher), 1);
    await crasher.stop();
    await until(() => [ms[0], ...rest].every((m) => statusOf(m, crasher.name) === 'dead'));
    // Nobody else was suspected along the way.
    for (const m of [ms[0], ...rest])
      for (const o of [ms[0], ...rest]) if (o !== m) expect(statusOf(m, o.name)).toBe('alive');
  });

  it('gossip-cluster times a join and silent crashes, each victim suspected before it is dead everywhere (keyed)', async () => {
    const auth = ClusterKeyring.of([new Uint8Array(32).fill(9)]);
    const r = await runGossipCluster({ members: 6, trials: 2, config: FAST, auth });
    expect(r.members).toBe(6);
    expect(r.authenticated).toBe(true);
    expect(r.crash.dead_everywhere_ms).toHaveLength(2);
    r.crash.first_suspect_ms.forEach((s, i) => {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(r.crash.dead_everywhere_ms[i]);
    });
    expect(r.bytes_per_member_per_s).toBeGreaterThan(0);
  });
});
