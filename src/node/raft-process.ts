import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ElexError } from '../core/index.js';
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type HostEnv,
  NONE,
  type NodeObserver,
  type RaftHost,
  type RaftHostOptions,
  ROLE_NAMES,
} from '../raft/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { lockDataDir } from './dir-lock.js';
import { writeFileDurably } from './durable-file.js';
import { FileDisk } from './file-disk.js';
import { realHostEnv } from './real-env.js';
import { type Address, TcpTransport, type TransportStats } from './tcp-transport.js';

export interface RaftProcessOptions {
  /** This node's Raft id: a key of `cluster`. */
  id: number;
  /**
   * Every member's Raft address by id, this node's included: the address book. A fresh data directory boots
   * with `voters` as the configuration (default: everyone here); the others wait until a membership change
   * adds them.
   */
  cluster: ReadonlyMap<number, Address>;
  voters?: readonly number[];
  /** Where the node's log, hard state and snapshots live (`raft.disk`): a restart resumes from it. */
  dataDir: string;
  /** Raft timing (defaults: tick 10 ms, election timeout 150–300 ms, heartbeat 50 ms). */
  tickMs?: number;
  electionTimeoutMs?: number;
  heartbeatMs?: number;
  /** Snapshot the state machine every this many applied entries (default 10,000). */
  snapshotEvery?: number;
  /** How long a client request may wait for Raft before it fails with E_TIMEOUT (default 5 s). */
  requestTimeoutMs?: number;
  log?: (line: string) => void;
  /** The cluster's keyring: Raft messages are authenticated with it (`TcpTransportOptions.auth`). */
  auth?: ClusterKeyring;
  /**
   * An assertion failed inside the node: its state can no longer be trusted. The default stops the node (its
   * requests fail with E_STOPPED) and leaves the process running, as a library should; `elex node` and `elex
   * coordinator` exit instead, so a supervisor restarts them from their disk.
   */
  onFatal?: (e: unknown) => void;
}

/** What every Raft process reports about itself. */
export interface RaftStatus {
  id: number;
  role: string;
  term: number;
  /** The leader this node believes in (-1: none known). */
  leader: number;
  /** The configuration this node has applied. */
  voters: number[];
  learners: number[];
  commit: number;
  applied: number;
  transport: TransportStats;
  /** Whether Raft messages are authenticated with a cluster key (`--cluster-key`). */
  authenticated: boolean;
  /** What the disk's recovery did at start (records replayed, torn bytes cut). */
  recovery: { records: number; truncatedBytes: number };
  /** Decoded messages no correct peer sends (out-of-order App entries, no term, …): dropped unstepped. */
  refusedMessages: number;
}

/** Builds the host once the process has its disk and network (`env`). */
export type MakeHost<H extends RaftHost> = (env: HostEnv, opts: RaftHostOptions, observer: NodeObserver) => H;

interface Pending {
  /** Term and leader when the request was proposed. */
  term: number;
  lead: number;
  cancel: () => void;
  reject: (e: ElexError) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Observes a real node: only a failed assertion is worth a line (the simulator's checkers are not here). */
function observer(log: (line: string) => void): NodeObserver {
  return {
    onReady: () => {},
    onPersisted: () => {},
    onApplied: () => {},
    onExecute: () => {},
    onRestart: () => {},
    onError: (_node, e) => log(`assertion failed: ${e instanceof Error ? e.message : String(e)}`),
  };
}

/** The key of a data directory's identity in `raft.disk`: the node it belongs to and the voters it booted with. */
const IDENTITY_KEY = 'node/identity';
const identitySchema = z.strictObject({
  id: z.number().int().min(0),
  voters: z.array(z.number().int().min(0)),
});

/**
 * Binds the data directory to node `id` on its first start, with the voters it boots with; on later starts
 * refuses another id and boots with the stored voters, whatever the member list now says (as etcd ignores
 * --initial-cluster on a used directory). Before session 24 nothing was stored: `--id 2` on node 1's directory
 * took node 1's vote and log as its own, and a restart with a member list of itself alone committed alone.
 */
function bindDataDir(
  disk: FileDisk,
  dir: string,
  id: number,
  voters: number[],
  log: (line: string) => void,
): number[] {
  const raw = disk.read(IDENTITY_KEY);
  if (raw === undefined) {
    // Flushed with the host's first Ready, before any message of this node leaves.
    disk.write(IDENTITY_KEY, { id, voters });
    return voters;
  }
  const stored = identitySchema.safeParse(raw);
  if (!stored.success)
    throw new ElexError('E_STORAGE', `${dir}: the data directory's identity is unreadable`);
  if (stored.data.id !== id)
    throw new ElexError('E_CONFIG', `${dir} is node ${stored.data.id}'s data directory, not node ${id}'s`);
  const same =
    stored.data.voters.length === voters.length && stored.data.voters.every((v, i) => v === voters[i]);
  if (!same)
    log(
      `booting with the voters this directory started with (${stored.data.voters.join(', ')}), not ${voters.join(', ')}: membership changes go through the admin API`,
    );
  return stored.data.voters;
}

/** Written beside `raft.disk` on a directory's first start: a directory that has it served a node. */
const MARKER = 'node.json';

/**
 * A directory that served a node but lost its `raft.disk` (deleted, or left out of a restore) is refused: booted
 * empty, the node would be at term 0 with no vote, free to vote a second time in a term it already voted in, and
 * its acknowledgements of entries it no longer holds had counted towards quorums. etcd takes such a directory
 * as new; here the operator removes the node and adds it back with an empty directory.
 */
function refuseLostDisk(dir: string): void {
  if (existsSync(join(dir, 'raft.disk')) || !existsSync(join(dir, MARKER))) return;
  throw new ElexError(
    'E_STORAGE',
    `${dir} served a node (${MARKER}) but its raft.disk is gone: the node's vote and log are lost; remove it from the cluster (elex admin remove) and add it back with an empty data directory`,
  );
}

/** Writes the marker once `raft.disk` exists (also on a directory of an earlier version, which had none). */
function markDataDir(dir: string, id: number): void {
  const path = join(dir, MARKER);
  if (!existsSync(path)) writeFileDurably(path, JSON.stringify({ id }));
}

/**
 * One Raft host in a real process: the host (the code the simulator's campaigns run) on a `FileDisk` and a
 * `TcpTransport`, with the client-request plumbing a real client needs: timeouts, and failing a proposal at
 * once when the leader changes under it.
 */
export class RaftProcess<H extends RaftHost> {
  private readonly pending = new Set<Pending>();
  /** Reads waiting for their ReadIndex: `close` fails each at once. */
  private readonly reads = new Set<() => void>();
  /**
   * The (term, leader) each pending read was issued under, and how to fail it: Raft drops a ReadIndex it has
   * not confirmed when the leader goes, so a read waited out its timeout where a write failed at once.
   */
  private readonly readLeaders = new Map<
    () => void,
    { term: number; lead: number; fail: (e: ElexError) => void }
  >();
  private closed = false;
  /** What `status` last saw of the Raft state, reported once the host is stopped. */
  private last: { term: number; voters: number[]; learners: number[]; commit: number } = {
    term: 0,
    voters: [],
    learners: [],
    commit: 0,
  };
  private readonly leaderWatch: NodeJS.Timeout;

  private constructor(
    readonly host: H,
    private readonly transport: TcpTransport,
    private readonly disk: FileDisk,
    private readonly timeoutMs: number,
    private readonly unlock: () => void,
    private readonly addressBook: ReadonlyMap<number, Address>,
  ) {
    this.leaderWatch = setInterval(() => this.checkLeader(), 20);
  }

  static async start<H extends RaftHost>(o: RaftProcessOptions, make: MakeHost<H>): Promise<RaftProcess<H>> {
    const self = o.cluster.get(o.id);
    if (self === undefined)
      throw new ElexError(
        'E_CONFIG',
        `node ${o.id} is not in the cluster (${[...o.cluster.keys()].join(', ')})`,
      );
    const log = o.log ?? (() => {});
    const unlock = lockDataDir(o.dataDir);
    let disk: FileDisk;
    let proc: RaftProcess<H> | null = null;
    let host: H | null = null;
    // A write or sync the disk refused: the node must stop rather than acknowledge what it may not hold. It
    // was the FileDisk default, a throw from an fs callback: an uncaught stack trace, and exit 1.
    const diskFailed = (e: ElexError): void => {
      log(`stopped: ${e.message}`);
      if (o.onFatal !== undefined) {
        o.onFatal(e);
        return;
      }
      proc?.status();
      host?.crash();
      proc?.failPending(new ElexError('E_STORAGE', `the node stopped: ${e.message}`));
    };
    // The address before the directory: a start refused because it is taken left a fresh directory with a
    // raft.disk bound to this id and voters and a node.json, as if it had served a node. (Messages that arrive
    // before the host exists are dropped, as on a lossy network.)
    let transport: TcpTransport;
    try {
      transport = await TcpTransport.listen({
        id: o.id,
        listen: self,
        peers: o.cluster,
        onMessage: (m) => host?.deliver(m),
        auth: o.auth,
        log,
      });
    } catch (e) {
      unlock();
      throw e;
    }
    try {
      refuseLostDisk(o.dataDir);
      disk = FileDisk.open(join(o.dataDir, 'raft.disk'), { onError: diskFailed });
    } catch (e) {
      await transport.close().catch(() => {});
      unlock();
      throw e;
    }
    let voters: number[];
    try {
      voters = bindDataDir(
        disk,
        o.dataDir,
        o.id,
        [...(o.voters ?? o.cluster.keys())].sort((a, b) => a - b),
        log,
      );
      markDataDir(o.dataDir, o.id);
    } catch (e) {
      await transport.close().catch(() => {});
      await disk.close().catch(() => {}); // the refusal is the error to report, and the lock must go
      unlock();
      throw e;
    }
    try {
      host = make(
        realHostEnv({
          disk,
          send: (m) => transport.send(m),
          fail:
            o.onFatal ??
            (() => {
              log('stopped: a failed assertion (see above)');
              proc?.status();
              host?.crash();
            }),
        }),
        {
          raft: { electionTimeoutMs: o.electionTimeoutMs ?? 150, heartbeatMs: o.heartbeatMs ?? 50 },
          voters,
          tickMs: o.tickMs ?? 10,
          snapshotEvery: o.snapshotEvery ?? 10_000,
          snapshotKeep: 1000,
        },
        observer(log),
      );
      host.start();
    } catch (e) {
      // A log the host cannot load (E_STORAGE), say: give back the port, the file and the lock.
      host?.crash();
      await transport.close().catch(() => {});
      await disk.close().catch(() => {}); // a disk that failed rejects its close: the lock must go anyway
      unlock();
      throw e;
    }
    proc = new RaftProcess(host, transport, disk, o.requestTimeoutMs ?? 5000, unlock, o.cluster);
    return proc;
  }

  /** The address Raft listens on (useful when the cluster map said port 0). */
  get raftAddress(): Address {
    return this.transport.address;
  }

  /** The cluster key (undefined: not keyed); the HTTP layer signs operator requests with it too. */
  get keyring(): ClusterKeyring | undefined {
    return this.transport.keyring;
  }

  /**
   * A proposal: `issue(settle)` proposes and returns a function that forgets the callback, or `false` when
   * Raft refused it (no leader known). Fails with E_TIMEOUT, or E_LEADER_CHANGED when the leader or term
   * changes while it is pending: both mean the outcome is unknown.
   */
  propose<T>(issue: (settle: (r: T) => void) => (() => void) | false): Promise<T> {
    return new Promise((resolve, reject) => {
      const r = this.host.raft;
      if (r === null) return reject(new ElexError('E_STOPPED', 'the node is stopped'));
      const w: Pending = { term: r.term, lead: r.lead, cancel: () => {}, reject, timer: undefined };
      const done = () => {
        clearTimeout(w.timer);
        this.pending.delete(w);
      };
      w.timer = setTimeout(() => {
        done();
        w.cancel();
        reject(new ElexError('E_TIMEOUT', `not applied within ${this.timeoutMs} ms (it may still apply)`));
      }, this.timeoutMs);
      this.pending.add(w);
      const cancel = issue((res) => {
        done();
        resolve(res);
      });
      if (cancel === false) {
        done();
        reject(new ElexError('E_NO_LEADER', 'no leader is known yet: retry'));
      } else w.cancel = cancel;
    });
  }

  /** A linearizable read: `issue(settle)` asks for a ReadIndex; false when Raft refused it. Fails on timeout. */
  read<T>(issue: (settle: (r: T) => void) => (() => void) | false): Promise<T> {
    return new Promise((resolve, reject) => {
      if (!this.host.up) return reject(new ElexError('E_STOPPED', 'the node is stopped'));
      let cancel = (): void => {};
      const done = (): void => {
        clearTimeout(timer);
        this.reads.delete(stop);
        this.readLeaders.delete(stop);
      };
      const fail = (e: ElexError): void => {
        done();
        cancel();
        reject(e);
      };
      // Registered so that `close` fails it at once (before session 23 it waited out its timer after close).
      const stop = (): void =>
        fail(new ElexError('E_STOPPED', 'the node stopped while the read was pending'));
      const timer = setTimeout(
        () => fail(new ElexError('E_TIMEOUT', `read not confirmed within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      this.reads.add(stop);
      const r = this.host.raft;
      if (r !== null) this.readLeaders.set(stop, { term: r.term, lead: r.lead, fail });
      const c = issue((v) => {
        done();
        resolve(v);
      });
      if (c === false) {
        done();
        reject(new ElexError('E_NO_LEADER', 'no leader is known yet: retry'));
      } else cancel = c;
    });
  }

  /**
   * A single-server membership change, proposed on this node, which must lead (E_NOT_LEADER otherwise; also
   * E_CONF_PENDING while the previous change is not applied, E_CONF_INVALID). Resolves with the configuration
   * once this node has applied the change; E_TIMEOUT if it has not within the request timeout.
   */
  async changeMembership(cc: ConfChange): Promise<ConfState> {
    const rn = this.host.rn;
    if (rn === null) throw new ElexError('E_STOPPED', 'the node is stopped');
    // A voter or learner nobody has an address for could never be reached: added as a voter it raises the
    // quorum for good (found by a review: add-voter 9 on {1, 2, 3} was committed, quorum 3 of 4).
    if (cc.type !== ConfChangeType.Remove && !this.addressBook.has(cc.node))
      throw new ElexError('E_CONF_INVALID', `node ${cc.node} has no address in this node's --cluster`);
    rn.proposeConfChange(cc);
    this.host.guard(() => {});
    const applied = (c: ConfState) =>
      cc.type === ConfChangeType.AddVoter
        ? c.voters.includes(cc.node)
        : cc.type === ConfChangeType.AddLearner
          ? c.learners.includes(cc.node)
          : !c.voters.includes(cc.node) && !c.learners.includes(cc.node);
    await this.until(() => this.host.raft !== null && applied(this.host.raft.conf), 'the membership change');
    const c = this.host.raft!.conf;
    return { voters: [...c.voters], learners: [...c.learners] };
  }

  /** Asks the leader (forwarded from a follower) to hand leadership to `to`; resolves once this node sees it lead. */
  async transferLeadership(to: number): Promise<void> {
    const rn = this.host.rn;
    if (rn === null) throw new ElexError('E_STOPPED', 'the node is stopped');
    if (!rn.raft.conf.voters.includes(to)) throw new ElexError('E_NOT_VOTER', `node ${to} is not a voter`);
    // With no leader known Raft drops the request without a word: say so now, not as a timeout later.
    if (rn.raft.lead === NONE) throw new ElexError('E_NO_LEADER', 'no leader is known yet: retry');
    rn.transferLeadership(to);
    this.host.guard(() => {});
    await this.until(() => this.host.raft?.lead === to, `node ${to} leading`);
  }

  private async until(cond: () => boolean, what: string): Promise<void> {
    const end = Date.now() + this.timeoutMs;
    while (!cond()) {
      if (this.closed) throw new ElexError('E_STOPPED', `the node stopped before ${what} was seen`);
      if (Date.now() > end) throw new ElexError('E_TIMEOUT', `${what} not seen within ${this.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * A proposal forwarded to a leader that has since lost its place may be gone for good, and Raft does not
   * say so: waiting out the timeout would stall the client for seconds after every election. So a request
   * pending when the leader or term changes fails at once, as etcd's "leader changed" does; its outcome is
   * unknown (it may still commit under the new leader), so a client must not assume it failed.
   */
  private checkLeader(): void {
    const r = this.host.raft;
    if (r === null) return;
    for (const [, w] of this.readLeaders)
      if (w.term !== r.term || w.lead !== r.lead)
        w.fail(new ElexError('E_LEADER_CHANGED', 'the leader changed while the read was pending: retry'));
    for (const w of this.pending) {
      if (w.term === r.term && w.lead === r.lead) continue;
      clearTimeout(w.timer);
      this.pending.delete(w);
      w.cancel();
      w.reject(
        new ElexError(
          'E_LEADER_CHANGED',
          'the leader changed while the request was pending (it may still apply)',
        ),
      );
    }
  }

  status(): RaftStatus {
    const r = this.host.raft;
    // Stopped (closed, or crashed by a failure): the last term, configuration and commit it reached, not zeros
    // (a closed node read term 0, commit 0 below its applied index, and no voters; a review of session 25).
    if (r !== null)
      this.last = {
        term: r.term,
        voters: [...r.conf.voters],
        learners: [...r.conf.learners],
        commit: r.log.committed,
      };
    return {
      id: this.host.id,
      role: r === null ? 'stopped' : ROLE_NAMES[r.role],
      term: this.last.term,
      leader: r?.lead ?? -1,
      voters: [...this.last.voters],
      learners: [...this.last.learners],
      commit: this.last.commit,
      applied: this.host.appliedIndex,
      transport: this.transport.stats,
      authenticated: this.transport.authenticated,
      recovery: this.disk.recovery,
      refusedMessages: this.host.refusedMessages,
    };
  }

  /** Fails every pending write with `e` and every pending read with E_STOPPED. */
  failPending(e: ElexError): void {
    for (const stop of [...this.reads]) stop();
    for (const w of this.pending) {
      clearTimeout(w.timer);
      w.cancel();
      w.reject(e);
    }
    this.pending.clear();
  }

  /** Fails what is pending, stops the host, closes the sockets and flushes the disk. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.leaderWatch);
    this.failPending(
      new ElexError('E_STOPPED', 'the node stopped while the request was pending (it may still apply)'),
    );
    this.status(); // remember the last Raft state before the host lets it go
    this.host.crash();
    // The lock is released however the closes end: a disk that failed rejects its close with that failure, and
    // the lock stayed held by this process, so every later start on the directory in it was refused E_LOCKED.
    try {
      await this.transport.close();
    } finally {
      try {
        await this.disk.close();
      } finally {
        this.unlock();
      }
    }
  }
}
