import { percentile } from '../core/index.js';
import type { GossipConfig } from '../gossip/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { GossipMember } from './gossip-member.js';

export interface GossipClusterOptions {
  members: number;
  /** Silent crashes to time, one after another (each victim is replaced before the next trial). */
  trials: number;
  config?: Partial<GossipConfig>;
  /** Every member authenticates its datagrams with this keyring (`GossipMemberOptions.auth`). */
  auth?: ClusterKeyring;
  progress?: (line: string) => void;
}

export interface GossipClusterReport {
  members: number;
  /** Whether datagrams carried a cluster-key tag. */
  authenticated: boolean;
  /** From the last member's start until every member holds every other alive. */
  join_ms: number;
  /** Per crash: until the first survivor suspects the victim, and until every survivor holds it dead. */
  crash: { first_suspect_ms: number[]; dead_everywhere_ms: number[]; p50_dead_everywhere_ms: number };
  /** Survivors ever seen suspecting a member that was running. */
  false_suspicions: number;
  /** UDP payload bytes sent by every member that ran, per running member per second of the run. */
  bytes_per_member_per_s: number;
  elapsed_ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gossip cluster: ${what} not reached within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/**
 * N gossip members on real UDP sockets in this process, with the core's real defaults (1 s rounds, fanout 3,
 * phi 8): how long a join takes to converge and a silent crash takes to be suspected and declared dead, the
 * figures `elex simulate gossip --scenario crash` gives for the simulator.
 */
export async function runGossipCluster(o: GossipClusterOptions): Promise<GossipClusterReport> {
  const started = Date.now();
  const say = o.progress ?? (() => {});
  const running: GossipMember[] = [];
  const everyone: GossipMember[] = [];
  const spawn = async (seed?: string) => {
    const m = await GossipMember.start({
      listen: { host: '127.0.0.1', port: 0 },
      seeds: seed ? [seed] : [],
      config: o.config,
      auth: o.auth,
    });
    running.push(m);
    everyone.push(m);
    return m;
  };
  const allAlive = () =>
    running.every((m) => {
      const alive = new Set(
        m
          .members()
          .filter((x) => x.status === 'alive')
          .map((x) => x.name),
      );
      return running.every((x) => x === m || alive.has(x.name));
    });
  let falseSuspicions = 0;
  const watch = (m: GossipMember) =>
    m.subscribe((e) => {
      if (e.kind === 'member' && e.status === 'suspect' && running.some((x) => x.name === e.name))
        falseSuspicions++;
    });
  try {
    const first = await spawn();
    for (let i = 1; i < o.members; i++) await spawn(first.name);
    const joinedAt = Date.now();
    await until(allAlive, 60_000, 'join');
    const joinMs = Date.now() - joinedAt;
    say(`${o.members} members alive everywhere after ${joinMs} ms`);
    for (const m of running) watch(m);

    const firstSuspect: number[] = [];
    const deadEverywhere: number[] = [];
    for (let t = 0; t < o.trials; t++) {
      const victim = running[1 + (t % (running.length - 1))];
      running.splice(running.indexOf(victim), 1);
      let suspectedAt = 0;
      const offs = running.map((m) =>
        m.subscribe((e) => {
          if (e.kind === 'member' && e.name === victim.name && e.status !== 'alive' && suspectedAt === 0)
            suspectedAt = Date.now();
        }),
      );
      const crashedAt = Date.now();
      await victim.stop();
      await until(
        () => running.every((m) => m.members().find((x) => x.name === victim.name)?.status === 'dead'),
        60_000,
        'dead everywhere',
      );
      deadEverywhere.push(Date.now() - crashedAt);
      firstSuspect.push(suspectedAt - crashedAt);
      for (const off of offs) off();
      say(`crash ${t + 1}: first suspicion ${firstSuspect[t]} ms, dead everywhere ${deadEverywhere[t]} ms`);
      watch(await spawn(first.name));
      await until(allAlive, 60_000, 'rejoin');
    }
    const elapsed = Date.now() - started;
    const bytes = everyone.reduce((a, m) => a + m.stats.bytesOut, 0);
    return {
      members: o.members,
      authenticated: o.auth !== undefined,
      join_ms: joinMs,
      crash: {
        first_suspect_ms: firstSuspect,
        dead_everywhere_ms: deadEverywhere,
        p50_dead_everywhere_ms: percentile(
          [...deadEverywhere].sort((a, b) => a - b),
          50,
        ),
      },
      false_suspicions: falseSuspicions,
      bytes_per_member_per_s: Math.round(bytes / running.length / (elapsed / 1000)),
      elapsed_ms: elapsed,
    };
  } finally {
    await Promise.all(running.map((m) => m.stop()));
  }
}
