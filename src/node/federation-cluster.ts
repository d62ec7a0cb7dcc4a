import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElexError, isElexError, SeededRng } from '../core/index.js';
import {
  type FederatedQTable,
  type FederationConfig,
  type Identity,
  identityFromSeed,
  MapKeyring,
  type VoteState,
} from '../learning/index.js';
import { FederationMember, readVoteState } from './federation-member.js';
import { learnTask, maxAbsError, type TaskEntry } from './known-task.js';
import type { Address } from './tcp-transport.js';
import { UdpFederationNetwork, type UdpFederationStats, zeroStats } from './udp-federation.js';

export type { TaskEntry } from './known-task.js';

export interface FederationClusterOptions {
  members: number;
  /** Members that learn every reward negated and report it in honest form (Byzantine; the last ids). */
  flippers: number;
  task: readonly TaskEntry[];
  durationMs: number;
  syncIntervalMs: number;
  /** Interactions each member learns before each sync. */
  learnPerSync: number;
  /** Fraction of every member's outgoing datagrams dropped. */
  loss: number;
  /** Crash the aggregator at a third of the run and restart it (from its saved vote) at half. */
  crashAggregator: boolean;
  /** Datagrams of random bytes sent to every member's port at a quarter of the run. */
  hostileDatagrams: number;
  /** Where the members keep their votes (default: a temporary directory, removed at the end). */
  dataDir?: string;
  federation?: FederationConfig;
  progress?: (line: string) => void;
}

/** An aggregator followed by every live honest member: who, in which term, after how long. */
export interface Elected {
  id: string;
  /** It is one of the reward flippers (it runs the honest code on a negated reward). */
  flipper: boolean;
  term: number;
  ms: number;
}

export interface FederationClusterReport {
  members: number;
  flippers: string[];
  duration_ms: number;
  sync_interval_ms: number;
  loss: number;
  /** From the start until one aggregator is followed by every live honest member. */
  first_aggregator: Elected | null;
  /** The crashed aggregator, and how long until the live members agreed on another one. */
  crash: {
    id: string;
    reelected: Elected | null;
    /** The (term, vote) it restarted from, read back from its vote file. */
    restarted_from: VoteState | null;
    /**
     * From its restart (empty table) until it holds the aggregator's values within 0.02 (null: not in the run,
     * or it is a flipper, whose own learning keeps it away from them).
     */
    caught_up_ms: number | null;
  } | null;
  final_aggregator: Omit<Elected, 'ms'> | null;
  /** Terms, in order, whose aggregator the honest members followed, and whether it was a flipper. */
  aggregators: Array<{ term: number; id: string; flipper: boolean }>;
  /** Terms in which honest members saw two different aggregators (must be 0). */
  safety_violations: number;
  /** Largest |Q − Q*| over the honest members' tables and the task's entries, sampled through the run. */
  error_over_time: Array<{ t_ms: number; max_abs_error: number }>;
  final_max_abs_error: number;
  /** Trust the final aggregator holds in each flipper (1 full, 0 none). */
  flipper_trust: Record<string, number>;
  refusals: Record<string, number>;
  sync_errors: Record<string, number>;
  udp: UdpFederationStats;
  bytes_per_member_per_s: number;
  elapsed_ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Slot {
  id: string;
  flipper: boolean;
  identity: Identity;
  address: Address;
  rng: SeededRng;
  member: FederationMember | null;
  /** UDP counters of earlier lives (a restart opens a new socket). */
  past: UdpFederationStats[];
}

function addStats(into: UdpFederationStats, s: UdpFederationStats): void {
  for (const k of Object.keys(into) as Array<keyof UdpFederationStats>) into[k] += s[k];
}

/**
 * N federation members on real UDP sockets in this process, on real timers, learning a known task: how long
 * the category takes to elect an aggregator and to replace a crashed one, whether any term ever had two, and
 * where the honest members' values end against Q* with reward flippers among them. The figures the
 * simulator's `FederationSimCluster` gives for the same protocol, on a real network.
 */
export async function runFederationCluster(o: FederationClusterOptions): Promise<FederationClusterReport> {
  if (!(Number.isInteger(o.members) && o.members >= 2 && o.task.length > 0))
    throw new ElexError('E_CONFIG', 'a federation cluster needs at least 2 members and a task');
  if (!(Number.isInteger(o.flippers) && o.flippers >= 0 && o.flippers < o.members))
    throw new ElexError('E_CONFIG', `flippers must be 0..${o.members - 1}`);
  const started = Date.now();
  const say = o.progress ?? (() => {});
  const ownDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'elex-federation-'));
  const keyring = new MapKeyring();
  const ids = Array.from({ length: o.members }, (_, i) => `m${i}`);
  const slots: Slot[] = ids.map((id, i) => ({
    id,
    flipper: i >= o.members - o.flippers,
    identity: identityFromSeed(id, randomBytes(32)),
    address: { host: '127.0.0.1', port: 0 },
    rng: new SeededRng(randomBytes(4).readInt32LE(0)),
    member: null,
    past: [],
  }));
  const isFlipper = (id: string) => slots.some((s) => s.id === id && s.flipper);
  const errors = new Map<string, number>();
  const noteError = (e: unknown) => {
    const code = isElexError(e) ? e.code : 'UNTYPED';
    errors.set(code, (errors.get(code) ?? 0) + 1);
  };
  const pastRefusals = new Map<string, number>();

  const networks = new Map<string, UdpFederationNetwork>();
  /** Starts `s` on its address (fixed after the first bind, so a restart keeps every peer's route). */
  const boot = async (s: Slot): Promise<FederationMember> => {
    const network = await UdpFederationNetwork.bind({
      id: s.id,
      listen: s.address,
      loss: o.loss,
      rng: s.rng.fork('loss'),
    });
    for (const peer of slots) if (peer !== s) network.route(peer.id, peer.address);
    networks.set(s.id, network);
    s.member = new FederationMember({
      id: s.id,
      members: ids,
      network,
      keyring,
      identity: s.identity,
      dataDir: join(dataDir, s.id),
      federation: { ...o.federation, sync_interval_ms: o.syncIntervalMs },
      rng: s.rng.fork('timer'),
      onError: noteError,
      learn: learnTask(o.task, s.rng, o.learnPerSync, s.flipper),
    });
    return s.member;
  };

  const honestLive = () => slots.filter((s) => !s.flipper && s.member !== null);
  const tables = () => honestLive().map((s) => (s.member as FederationMember).fqt);
  /** The aggregator every live honest member follows (itself leading, the others adopting its term). */
  const agreed = (): FederatedQTable | null => {
    const live = slots.filter((s) => s.member !== null).map((s) => (s.member as FederationMember).fqt);
    const leaders = live.filter((t) => t.consensus_state.kind === 'Leader');
    if (leaders.length !== 1) return null;
    const l = leaders[0];
    const ok = tables().every(
      // `election.leader`: the origin of the last aggregate adopted (a member's `leader` is the live one).
      (t) =>
        t === l ||
        (t.election.leader === l.id && t.lastAggregate.term === l.term && t.lastAggregate.round > 0),
    );
    return ok ? l : null;
  };
  const claims = new Map<number, string>();
  let violations = 0;
  const observe = () => {
    for (const t of tables()) {
      const claim = (term: number, origin: string) => {
        const seen = claims.get(term);
        if (seen === undefined) claims.set(term, origin);
        else if (seen !== origin) violations++;
      };
      if (t.consensus_state.kind === 'Leader') claim(t.term, t.id);
      // The origin of the last aggregate adopted, not the live aggregator (`FederationMember`'s `leader`): one
      // followed by the heartbeats of a newer term while this member's term is older would be claimed for it.
      else {
        const origin = t.election.leader;
        if (origin !== null && t.lastAggregate.round > 0 && t.lastAggregate.term === t.term)
          claim(t.term, origin);
      }
    }
  };
  const errorOf = (t: FederatedQTable) => maxAbsError(t, o.task);
  const maxError = () => Math.max(0, ...tables().map(errorOf));
  /** Largest difference between two members' values on the task. */
  const distance = (a: FederatedQTable, b: FederatedQTable) => {
    let worst = 0;
    for (const e of o.task)
      worst = Math.max(worst, Math.abs(a.learner.q(e.state, e.action) - b.learner.q(e.state, e.action)));
    return worst;
  };
  const until = async (cond: () => boolean, deadline: number): Promise<boolean> => {
    while (Date.now() < deadline) {
      observe();
      if (cond()) return true;
      await sleep(10);
    }
    return false;
  };

  const errorOverTime: FederationClusterReport['error_over_time'] = [];
  let crash: FederationClusterReport['crash'] = null;
  let sampler: NodeJS.Timeout | undefined;
  try {
    // Bind every socket first so that each member starts knowing every address.
    for (const s of slots) {
      const n = await UdpFederationNetwork.bind({ id: s.id, listen: s.address });
      s.address = n.address;
      await n.close();
    }
    const booted: FederationMember[] = [];
    for (const s of slots) booted.push(await boot(s));
    for (const m of booted) m.start();
    const t0 = Date.now();
    const end = t0 + o.durationMs;
    say(`${o.members} members on UDP (${o.flippers} reward flippers), sync every ${o.syncIntervalMs} ms`);
    // Sampled on a timer, so a sample is never taken late (the scenario below waits on its own conditions).
    sampler = setInterval(() => {
      errorOverTime.push({ t_ms: Date.now() - t0, max_abs_error: round(maxError()) });
    }, o.durationMs / 10);
    const waitUntil = (at: number) => until(() => false, at);

    let first: FederationClusterReport['first_aggregator'] = null;
    if (await until(() => agreed() !== null, end)) {
      const l = agreed() as FederatedQTable;
      first = { id: l.id, flipper: isFlipper(l.id), term: l.term, ms: Date.now() - t0 };
      say(`aggregator ${l.id} (term ${l.term}) followed by every honest member after ${first.ms} ms`);
    }
    if (o.hostileDatagrams > 0) {
      await waitUntil(t0 + o.durationMs / 4);
      await sendHostile(
        slots.map((s) => s.address),
        o.hostileDatagrams,
      );
      say(`${o.hostileDatagrams} datagrams of random bytes sent to each member`);
    }
    if (o.crashAggregator) {
      await waitUntil(t0 + o.durationMs / 3);
      const victim = agreed();
      const s = victim === null ? undefined : slots.find((x) => x.id === victim.id);
      if (s?.member) {
        for (const [k, v] of s.member.fqt.refusals) pastRefusals.set(k, (pastRefusals.get(k) ?? 0) + v);
        s.past.push({ ...(networks.get(s.id) as UdpFederationNetwork).stats });
        await s.member.stop();
        s.member = null;
        const crashedAt = Date.now();
        say(`aggregator ${s.id} crashed`);
        let reelected: Elected | null = null;
        const old = (victim as FederatedQTable).term;
        if (await until(() => (agreed()?.term ?? 0) > old, end)) {
          const l = agreed() as FederatedQTable;
          reelected = { id: l.id, flipper: isFlipper(l.id), term: l.term, ms: Date.now() - crashedAt };
          say(
            `aggregator ${l.id} (term ${l.term}) followed by every live honest member ${reelected.ms} ms later`,
          );
        }
        await waitUntil(t0 + o.durationMs / 2);
        const saved = readVoteState(join(dataDir, s.id)) ?? null;
        const restarted = (await boot(s)).start();
        const restartedAt = Date.now();
        say(
          `${s.id} restarted from its saved vote (term ${saved?.term ?? 0}, voted for ${saved?.voted_for ?? 'nobody'})`,
        );
        // A flipper's own learning pulls its values away from any aggregate: only an honest one catches up.
        const caughtUp =
          !s.flipper &&
          (await until(() => {
            const l = agreed();
            return l !== null && l !== restarted.fqt && distance(restarted.fqt, l) <= CAUGHT_UP;
          }, end));
        crash = {
          id: s.id,
          reelected,
          restarted_from: saved,
          caught_up_ms: caughtUp ? Date.now() - restartedAt : null,
        };
      }
    }
    await waitUntil(end);
    clearInterval(sampler);
    const final = agreed();
    const flipperTrust: Record<string, number> = {};
    if (final !== null)
      for (const s of slots) if (s.flipper) flipperTrust[s.id] = round(final.trust.trustOf(s.id));
    const refusals = new Map(pastRefusals);
    for (const s of slots)
      for (const [k, v] of s.member?.fqt.refusals ?? []) refusals.set(k, (refusals.get(k) ?? 0) + v);
    const udp = zeroStats();
    for (const s of slots) {
      for (const p of s.past) addStats(udp, p);
      const n = networks.get(s.id);
      if (n) addStats(udp, n.stats);
    }
    const elapsed = Date.now() - started;
    return {
      members: o.members,
      flippers: slots.filter((s) => s.flipper).map((s) => s.id),
      duration_ms: o.durationMs,
      sync_interval_ms: o.syncIntervalMs,
      loss: o.loss,
      first_aggregator: first,
      crash,
      final_aggregator:
        final === null ? null : { id: final.id, flipper: isFlipper(final.id), term: final.term },
      aggregators: [...claims]
        .sort((a, b) => a[0] - b[0])
        .map(([term, id]) => ({ term, id, flipper: isFlipper(id) })),
      safety_violations: violations,
      error_over_time: errorOverTime,
      final_max_abs_error: round(maxError()),
      flipper_trust: flipperTrust,
      refusals: Object.fromEntries([...refusals].sort()),
      sync_errors: Object.fromEntries([...errors].sort()),
      udp,
      bytes_per_member_per_s: Math.round(udp.bytesOut / o.members / ((Date.now() - t0) / 1000)),
      elapsed_ms: elapsed,
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(slots.map((s) => s.member?.stop()));
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A restarted member has caught up once no value of the task differs from the aggregator's by more. */
const CAUGHT_UP = 0.02;

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Random byte strings from a socket of no member: each must be refused by the receiver's decoders. */
async function sendHostile(to: readonly Address[], count: number): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (const at of to)
      for (let i = 0; i < count; i++) {
        const len = 1 + (randomBytes(2).readUInt16LE(0) % 1024);
        await new Promise<void>((resolve) =>
          socket.send(randomBytes(len), at.port, at.host, () => resolve()),
        );
      }
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
