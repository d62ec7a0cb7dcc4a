import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { ElexError } from '../core/index.js';
import { formatAddress, formatCluster } from './address.js';
import { type ClusterKeyring, readClusterKeyring, writeClusterKey } from './cluster-key.js';
import { errorOf, httpJson } from './http-client.js';
import { makeDirectory } from './make-dir.js';
import { postSigned } from './signed-request.js';
import type { Address } from './tcp-transport.js';

/** The local cluster's key file, in its directory. */
const CLUSTER_KEY = 'cluster.key';

/** One process of a local cluster: its Raft and HTTP addresses, and the child while it runs. */
export interface Member {
  id: number;
  raft: Address;
  http: Address;
  proc: ChildProcess | null;
  /** SIGSTOPped (`stall`): running, holding its ports, answering nothing. */
  stalled?: boolean;
}

// Loose: the cluster report prints each node's whole status; these four fields are what the harness reads.
const memberStatus = z.looseObject({
  id: z.number().int(),
  role: z.string(),
  term: z.number().int(),
  leader: z.number().int(),
});
export type MemberStatus = z.infer<typeof memberStatus>;

/**
 * Ports the OS says are free now, for TCP and for UDP alike (a coordinator's gossip member listens on UDP at its
 * HTTP port); a tiny race before the nodes bind them, fine for a local run.
 */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  // Everything bound is held until all are picked, so the same port is not handed out twice.
  const held: Array<() => Promise<void>> = [];
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > 20 * n) throw new ElexError('E_CLUSTER', `no ${n} ports free for both TCP and UDP`);
      const s = createServer();
      held.push(() => new Promise((r) => s.close(() => r())));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      const port = (s.address() as { port: number }).port;
      const udp = createSocket('udp4');
      const udpFree = await new Promise<boolean>((resolve) => {
        udp.once('error', () => resolve(false));
        udp.bind(port, '127.0.0.1', () => resolve(true));
      });
      held.push(() => new Promise((r) => udp.close(() => r())));
      if (udpFree) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((close) => close()));
  }
  return ports;
}

/**
 * N `elex <kind>` processes (`node` or `coordinator`) on 127.0.0.1, each with its data directory under `dir`:
 * start, SIGKILL, restart, status, stop.
 */
export class LocalProcesses {
  readonly members: Member[];
  private readonly cluster: string;
  private readonly httpBook: string;
  private voters: string | null = null;
  /** Arguments every process gets after the harness's own (e.g. `--no-gossip`). */
  private extraArgs: readonly string[] = [];
  /** The key every process runs with; operator requests are signed with it. */
  readonly keyring: ClusterKeyring;
  /** Clusters of this process not stopped yet (`stopEvery`, for a command that is signalled). */
  private static readonly running = new Set<LocalProcesses>();
  /**
   * Every child not exited yet, from its spawn: `stopAll` stops these, not only the members whose ready line
   * came (`m.proc`), so a stop while processes are still coming up (a Ctrl-C during start or a restart) used
   * to leave them running.
   */
  private readonly children = new Set<ChildProcess>();
  /** Set by `stopAll`: a restart after it (a kill schedule's, racing a signal) spawns nothing. */
  private stopped = false;

  private constructor(
    private readonly kind: 'node' | 'coordinator',
    private readonly elexBin: string,
    private readonly dir: string,
    ports: number[],
  ) {
    this.members = Array.from({ length: ports.length / 2 }, (_, i) => ({
      id: i + 1,
      raft: { host: '127.0.0.1', port: ports[2 * i] },
      http: { host: '127.0.0.1', port: ports[2 * i + 1] },
      proc: null,
    }));
    this.cluster = formatCluster(new Map(this.members.map((m) => [m.id, m.raft])));
    this.httpBook = formatCluster(new Map(this.members.map((m) => [m.id, m.http])));
    this.keyring = readClusterKeyring(join(dir, CLUSTER_KEY));
  }

  /** Starts every process and resolves once each has printed its ready line. */
  static async start(
    kind: 'node' | 'coordinator',
    n: number,
    elexBin: string,
    dir: string,
    /** The boot configuration (default: all n); the others start as spares a membership change may add. */
    voters?: readonly number[],
    extraArgs: readonly string[] = [],
  ): Promise<LocalProcesses> {
    makeDirectory(dir, 'cluster directory');
    // The cluster authenticates its Raft messages: a stray process on this host cannot speak for a member.
    if (!existsSync(join(dir, CLUSTER_KEY))) writeClusterKey(join(dir, CLUSTER_KEY));
    const p = new LocalProcesses(kind, elexBin, dir, await freePorts(2 * n));
    p.voters = voters === undefined ? null : voters.join(',');
    p.extraArgs = extraArgs;
    LocalProcesses.running.add(p);
    try {
      await Promise.all(p.members.map((m) => p.restart(m)));
    } catch (e) {
      await p.stopAll();
      throw e;
    }
    return p;
  }

  get live(): Member[] {
    return this.members.filter((m) => m.proc !== null);
  }

  /** (Re)starts member `m` from its data directory; resolves once it is listening. */
  restart(m: Member): Promise<void> {
    // The young-generation flag up front makes the launcher run the node in this child, not in a grandchild:
    // a SIGKILL must reach the process that holds the Raft state.
    const args = [
      '--max-semi-space-size=64',
      this.elexBin,
      this.kind,
      '--id',
      String(m.id),
      '--cluster',
      this.cluster,
      '--cluster-key',
      join(this.dir, CLUSTER_KEY),
    ];
    args.push('--http', formatAddress(m.http), '--data-dir', join(this.dir, `n${m.id}`));
    if (this.kind === 'coordinator') args.push('--http-peers', this.httpBook);
    if (this.voters !== null) args.push('--voters', this.voters);
    args.push(...this.extraArgs);
    if (this.stopped)
      return Promise.reject(
        new ElexError('E_CLUSTER', `${this.kind} ${m.id} not restarted: the cluster is stopped`),
      );
    // ELEX_WRAPPED names this process as the child's parent: bin/elex.js's watchdog then stops the child when
    // it is re-parented, so a SIGKILL of `elex cluster` (which runs no handler) no longer orphans its nodes.
    const proc = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ELEX_WRAPPED: String(process.pid) },
    });
    this.children.add(proc);
    proc.once('exit', () => this.children.delete(proc));
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-2000);
    });
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new ElexError('E_CLUSTER', `${this.kind} ${m.id} did not start within 30 s: ${err.trim()}`));
      }, 30_000);
      proc.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          m.proc = proc;
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (m.proc === proc) m.proc = null;
        reject(new ElexError('E_CLUSTER', `${this.kind} ${m.id} exited (${signal ?? code}): ${err.trim()}`));
      });
    });
  }

  /** SIGKILL: the process gets no chance to flush or say goodbye. */
  kill(m: Member): void {
    m.proc?.kill('SIGKILL');
    m.proc = null;
  }

  /**
   * SIGSTOP: the process keeps its ports, so connections to it open and then hang (a hung or partitioned host,
   * not a crashed one, which refuses them at once). `stopAll` continues it first.
   */
  stall(m: Member): void {
    m.proc?.kill('SIGSTOP');
    m.stalled = true;
  }

  async status(m: Member): Promise<MemberStatus | null> {
    const r = await httpJson(m.http, 'GET', '/status', undefined, 1000);
    // Anything but a status (another process on the port, a half-started node) counts as no answer.
    const p = r === null ? null : memberStatus.safeParse(r.body);
    return p?.success ? p.data : null;
  }

  async waitForLeader(timeoutMs: number): Promise<MemberStatus> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const all = await Promise.all(this.live.map((m) => this.status(m)));
      const leader = all.find((s) => s?.role === 'leader');
      if (leader) return leader;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new ElexError('E_CLUSTER', `no leader within ${timeoutMs} ms`);
  }

  /** `stopAll` on every cluster of this process not stopped yet. */
  static async stopEvery(): Promise<void> {
    await Promise.all([...LocalProcesses.running].map((p) => p.stopAll()));
  }

  /**
   * SIGTERM to every process started and not exited, ready or still coming up; SIGKILL to one still there
   * after `graceMs`; resolves once all have exited.
   */
  async stopAll(graceMs = 10_000): Promise<void> {
    LocalProcesses.running.delete(this);
    this.stopped = true;
    for (const m of this.members) {
      // A stopped process would hold the SIGTERM until continued.
      if (m.stalled === true) m.proc?.kill('SIGCONT');
      m.stalled = false;
    }
    // The exit listeners stay: a restart still waiting for its ready line must reject (its caller is told),
    // not hang; one already resolved ignores it.
    await Promise.all(
      [...this.children].map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            // A process that ignores or hangs on SIGTERM used to be waited for forever.
            const force = setTimeout(() => p.kill('SIGKILL'), graceMs);
            p.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
  }
}

/** One SIGKILL of `elex cluster`: whom, whether it led, its term, and the operation it came before. */
export interface Kill {
  node: number;
  leader: boolean;
  term: number;
  at_op: number;
  /** From the kill to the first acknowledgement of an operation issued after it (null: none came). */
  recovery_ms: number | null;
}

/**
 * `count` SIGKILLs spread evenly over `total` operations, each victim restarted from its data directory
 * halfway to the next kill (one member down at a time, so a quorum stays): the first, third, … kill the
 * leader, the others a follower in turn. Workers call `before(i)` ahead of operation i and `acked(t0)` when
 * an operation issued at t0 is acknowledged.
 */
export class KillSchedule {
  readonly kills: Kill[] = [];
  private readonly events: Array<{ at: number; kind: 'kill' | 'restart' }> = [];
  private next = 0;
  private busy = false;
  private down: Member | null = null;
  private restarting: Promise<void> | null = null;
  /** Why a restart failed, thrown by `settle`. */
  private restartFailed: unknown = null;
  private restarted = true;
  private readonly killedAt: number[] = [];

  constructor(
    private readonly procs: LocalProcesses,
    total: number,
    private readonly count: number,
    private readonly say: (line: string) => void,
    /** Operations issued so far (a kill is dated by it: workers run on while one of them kills). */
    private readonly issued: () => number,
  ) {
    for (let k = 0; k < count; k++) {
      this.events.push({ at: Math.floor((total * (2 * k + 1)) / (2 * count + 1)), kind: 'kill' });
      this.events.push({ at: Math.floor((total * (2 * k + 2)) / (2 * count + 1)), kind: 'restart' });
    }
  }

  async before(i: number): Promise<void> {
    const e = this.events[this.next];
    // `busy` is set before any await: two workers must not both act on one event. A kill waits (without
    // holding up a worker) until the previous victim is back, so a quorum is always up.
    if (e === undefined || i < e.at || this.busy || (e.kind === 'kill' && !this.restarted)) return;
    this.busy = true;
    try {
      if (e.kind === 'kill') {
        const leader = await this.procs.waitForLeader(15_000);
        const k = this.kills.length;
        const followers = this.procs.live.filter((m) => m.id !== leader.id);
        const victim =
          k % 2 === 0 || followers.length === 0
            ? this.procs.members.find((m) => m.id === leader.id)!
            : followers[Math.floor(k / 2) % followers.length];
        this.procs.kill(victim);
        this.down = victim;
        // One number for the line and the report: the operations issued at the kill. `i` (the operation that
        // triggered it) is older by whatever other workers issued while the leader was looked up, and the
        // stderr line used to name it while kills[].at_op named this.
        const at_op = this.issued();
        this.kills.push({
          node: victim.id,
          leader: victim.id === leader.id,
          term: leader.term,
          at_op,
          recovery_ms: null,
        });
        this.killedAt.push(Date.now());
        this.say(
          `SIGKILL to ${victim.id === leader.id ? 'leader' : 'follower'} ${victim.id} (term ${leader.term}) at operation ${at_op}`,
        );
      } else if (this.down !== null) {
        const victim = this.down;
        this.down = null;
        this.restarted = false;
        // Caught at once, thrown by `settle`: a restart failing mid-workload, with nobody awaiting it yet, was an
        // unhandled rejection, which kills `elex cluster` before it stops its processes. No kill follows it
        // (`restarted` stays false): one member down at a time.
        this.restarting = this.procs.restart(victim).then(
          () => {
            this.restarted = true;
            this.say(`${victim.id} restarted from its data directory`);
          },
          (e: unknown) => {
            this.restartFailed = e;
          },
        );
      }
      this.next++;
    } finally {
      this.busy = false;
    }
  }

  /** An operation issued at `t0` (ms) was acknowledged now: it dates each earlier kill's recovery. */
  acked(t0: number): void {
    for (let k = 0; k < this.kills.length; k++)
      if (this.kills[k].recovery_ms === null && t0 > this.killedAt[k])
        this.kills[k].recovery_ms = Date.now() - this.killedAt[k];
  }

  /** Waits for a restart under way, and restarts a member still down (the workload ended first). */
  async settle(): Promise<void> {
    if (this.kills.length < this.count)
      this.say(
        `${this.kills.length} of ${this.count} kills fit in the workload (a restart takes a second or two)`,
      );
    if (this.restarting !== null) await this.restarting;
    if (this.restartFailed !== null) throw this.restartFailed;
    if (this.down !== null) {
      const victim = this.down;
      this.down = null;
      await this.procs.restart(victim);
    }
  }
}

/** One membership change `elex cluster --reconfigure` made under load. */
export interface Reconfiguration {
  type: 'add-voter' | 'remove';
  node: number;
  at_op: number;
  ok: boolean;
  /** From the request to the configuration applied on the leader. */
  ms: number;
  error?: string;
}

/**
 * Membership changes under load: halfway through the workload the spare (the last member, outside the boot
 * configuration) is added as a voter; three quarters through, a voter that is neither the leader nor the
 * newcomer is removed. Each goes to the current leader, retried while leadership moves or the previous change
 * is pending (15 s at most).
 */
export class Reconfigurer {
  readonly changes: Reconfiguration[] = [];
  /** The member removed, if any: it no longer holds the log's future and is not read from. */
  removed: number | null = null;
  /** The spare once it is a voter (until then it hears from no leader: clients leave it alone). */
  private added = false;
  private step = 0;
  private busy = false;
  /** The change under way (or the last one), for `settle`. */
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly procs: LocalProcesses,
    private readonly total: number,
    private readonly say: (line: string) => void,
    private readonly issued: () => number,
  ) {}

  async before(i: number): Promise<void> {
    const at = [Math.floor(this.total / 2), Math.floor((3 * this.total) / 4)][this.step];
    if (at === undefined || i < at || this.busy) return;
    await this.runStep();
  }

  /**
   * Makes the changes the workload did not reach, after it: the add under way is waited for, then the removal
   * runs. The removal's turn used to come only while the add was busy when the add outlasted the writes, so
   * `--reconfigure` silently skipped it; the verdict also requires both (`elex cluster`).
   */
  async settle(): Promise<void> {
    await this.current;
    while (this.step < 2) {
      this.say(
        `${this.step === 0 ? 'add-voter' : 'remove'}: its turn came after the workload; making it now`,
      );
      await this.runStep();
    }
  }

  private runStep(): Promise<void> {
    this.busy = true;
    this.step++;
    const step = this.step;
    this.current = (async () => {
      try {
        const spare = this.procs.members[this.procs.members.length - 1].id;
        if (step === 1) this.added = await this.change('add-voter', spare);
        else {
          const leader = await this.procs.waitForLeader(15_000);
          const victim = this.procs.members.find((m) => m.id !== leader.id && m.id !== spare);
          if (victim !== undefined && (await this.change('remove', victim.id))) this.removed = victim.id;
        }
      } finally {
        this.busy = false;
      }
    })();
    return this.current;
  }

  /** Whether clients should use member `id`: in the configuration as far as this workload changed it. */
  serves(id: number): boolean {
    const spare = this.procs.members[this.procs.members.length - 1].id;
    return id !== this.removed && (id !== spare || this.added);
  }

  private async change(type: Reconfiguration['type'], node: number): Promise<boolean> {
    const t0 = Date.now();
    const at_op = this.issued();
    let error = 'no leader';
    while (Date.now() - t0 < 15_000) {
      const leader = await this.procs.waitForLeader(15_000).catch(() => null);
      const m = leader === null ? undefined : this.procs.members.find((x) => x.id === leader.id);
      if (m !== undefined && m.proc !== null) {
        const r = await postSigned(m.http, '/admin/members', { type, node }, this.procs.keyring, 16_000);
        if (r?.status === 200) {
          this.changes.push({ type, node, at_op, ok: true, ms: Date.now() - t0 });
          this.say(`${type} ${node}: applied after ${Date.now() - t0} ms`);
          return true;
        }
        error = r === null ? 'no answer' : (errorOf(r.body).code ?? String(r.status));
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    this.changes.push({ type, node, at_op, ok: false, ms: Date.now() - t0, error });
    this.say(`${type} ${node}: not applied (${error})`);
    return false;
  }
}
