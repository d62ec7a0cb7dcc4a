import { z } from 'zod';
import { ElexError } from '../../core/index.js';
import {
  type Entry,
  EntryType,
  type HostEnv,
  type NodeObserver,
  RaftHost,
  type RaftHostOptions,
  type RawNode,
  type Ready,
} from '../../raft/index.js';
import type { Catalog } from '../catalog.js';
import { decodeCommand, MAX_AT_MS } from './commands.js';
import { CoordinatorStateMachine } from './machine.js';
import type { CommandResult } from './results.js';

/** Entry data: 8-byte request id (origin coordinator << 32 | seq), then the coordinator command. */
export function envelope(reqId: number, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + command.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Math.floor(reqId / 2 ** 32));
  dv.setUint32(4, reqId >>> 0);
  out.set(command, 8);
  return out;
}

export function requestIdOf(data: Uint8Array): number {
  if (data.length < 8) return 0;
  const dv = new DataView(data.buffer, data.byteOffset, 8);
  return dv.getUint32(0) * 2 ** 32 + dv.getUint32(4);
}

/** The session a request id belongs to (as the Raft checker reads it): the high part, above 2^32. */
const sessionOf = (reqId: number): number => Math.floor(reqId / 2 ** 32);
/** The request's sequence number within its session: the low 32 bits. */
const seqOf = (reqId: number): number => reqId % 2 ** 32;

/**
 * How long (log time: the largest `at_ms` applied so far) a client's answer is kept for its retries. The
 * scenario's client retries a command for 9 s of its own time (every 1.5 s, then TIMEOUT); clocks are skewed
 * by at most ±1 s. Past this a copy is not executed again but answered `null` (its session's floor).
 */
export const RESULT_RETENTION_MS = 30_000;
/**
 * Answers kept at most, over all sessions (the oldest go first, raising their floors): above the scenario's
 * deepest pipeline (593 registrations in flight).
 */
export const MAX_RESULTS = 2048;
/**
 * Sessions kept at most (the least recently active go first). Not forgotten by log time: a session is three
 * numbers, and one coordinator whose clock ran ten minutes ahead made every session expire at once (a copy in
 * flight then executed again). A session pushed out by 1,024 more recent ones forgets its floor; there is one
 * per coordinator and per client (15 in the scenario).
 */
export const MAX_SESSIONS = 1024;

interface Session {
  /** Every seq ≤ floor is settled: applied and its answer evicted, or abandoned (never executed from now on). */
  floor: number;
  /** Log time of the session's latest entry. */
  last: number;
}

interface Answer {
  result: CommandResult;
  /** Log time when it was applied. */
  at: number;
}

const int = z.number().int().nonnegative();
/** A log time: the largest `at_ms` applied, so within [0, MAX_AT_MS]. */
const time = z.number().min(0).max(MAX_AT_MS);
/**
 * The session table as `encodeSessions` writes it, and nothing else: the snapshot comes from the leader over the
 * network. A log time of 1e300 made every answer expire right after its entry (a retry got null, not its
 * answer); a session or answer twice was kept once (the restored replica's snapshot was other bytes). So: times
 * within [0, t] and in the order written (sessions by last activity, answers as applied), each id once, no more
 * sessions or answers than `expire` keeps.
 */
const sessionsSchema = z
  .strictObject({
    v: z.literal(2),
    t: time,
    s: z.array(z.tuple([int, z.number().int().min(-1), time])).max(MAX_SESSIONS),
    r: z
      .array(
        z.tuple([
          int,
          time,
          z.custom<CommandResult>(
            (x) => typeof x === 'object' && x !== null && typeof (x as { ok: unknown }).ok === 'boolean',
          ),
        ]),
      )
      .max(MAX_RESULTS),
  })
  .superRefine((tbl, ctx) => {
    for (const [name, rows] of [
      ['s', tbl.s.map(([id, , last]) => [id, last])],
      ['r', tbl.r.map(([reqId, at]) => [reqId, at])],
    ] as const) {
      const ids = new Set<number>();
      rows.forEach(([id, at], i) => {
        if (ids.has(id)) ctx.addIssue({ code: 'custom', path: [name, i], message: `${id} twice` });
        ids.add(id);
        if (at > tbl.t || (i > 0 && at < rows[i - 1][1]))
          ctx.addIssue({
            code: 'custom',
            path: [name, i],
            message: 'time after the log time or out of order',
          });
      });
    }
  });
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
/** Disk key of the replica's life count (its starts): its own request ids carry its life's number. */
const LIFE_KEY = 'coordinator/life';
/**
 * An own request id is id·2³² + life·2²² + seq: 10 bits of life, 22 of seq. A life that used up its seqs
 * takes the next number (spilling into the life bits would reuse a later life's ids), and past the last
 * number the ids would run into replica id + 1's: the replica refuses to start instead.
 */
const LIFE_BITS = 10;
const SEQS_PER_LIFE = 2 ** 22;
const MAX_LIFE = 2 ** LIFE_BITS - 1;
/** No command (refused as malformed, changing nothing): applied only to advance the machine's index. */
const NO_COMMAND = new Uint8Array(0);

export type ReplicaOptions = RaftHostOptions;

export interface ReplicaHooks {
  /** An entry was applied here with this result (null for a non-command entry). */
  onApply(replica: CoordinatorReplica, e: Entry, reqId: number, result: CommandResult | null): void;
}

type ApplyWaiter = { index: number; cb: (index: number) => void };

/**
 * One coordinator's Raft replica on any `HostEnv`: a `RaftHost` (as the KV node, `KvRaftHost`) ticked by its
 * driver every `tickMs` (the swarm scenario on the simulator, `elex coordinator` in a process), applying committed entries to the coordinator state machine with
 * client sessions, and serving proposals (results by request id), ReadIndex reads (callback with the read
 * index once applied) and waits for an index to be applied.
 */
export class CoordinatorReplica extends RaftHost {
  machine: CoordinatorStateMachine;
  private readonly writes = new Map<number, (r: CommandResult | null) => void>();
  private applyWaiters: ApplyWaiter[] = [];
  private nextSeq = 1;
  appliedIndex = 0;
  /*
   * Client sessions (Raft thesis §6.3), part of the replicated state: a function of the log, carried in the
   * snapshot with the machine, so a retry gets its original answer on every replica, after a restart and after
   * a catch-up by snapshot alike. A request id is (session << 32 | seq). The scenario's client pipelines (up
   * to 593 registrations at once) and retries each command with the same id, so a session keeps the answers
   * of its recent requests (not only the last) and a floor: a seq at or below it whose answer is gone is
   * settled and never executes again. Answers are bounded by time (`RESULT_RETENTION_MS`) and count
   * (`MAX_RESULTS`), sessions by count (`MAX_SESSIONS`); time is the log's (the largest `at_ms` of a valid
   * command applied), never a clock.
   */
  /** Log time: the largest `at_ms` of the commands applied so far. */
  private logTime = 0;
  /** Sessions, least recently active first. */
  private sessions = new Map<number, Session>();
  /** Answers by request id, in the order applied (so oldest first in log time too). */
  private answers = new Map<number, Answer>();
  /**
   * This life's number, kept on disk: the replica's own request ids (id, life, seq) must not repeat after a
   * restart as a new process (`incarnation` starts again at 1), or a new command would be taken for an applied
   * one and answered with its result. Own ids are refused until the number is durable: after a sync issued
   * after its write (a Ready's, or one the first such proposal asks for).
   */
  private life = 0;
  private lifeDurable = false;
  private lifeSyncing = false;
  /** Life numbers written so far by this object: a sync proves the latest durable only if issued after it. */
  private lifeWrites = 0;
  /** `lifeWrites` when the Ready in progress was observed, so before its sync was issued (one at a time). */
  private readyLifeWrites = 0;
  /** Copies of an applied command skipped (a duplicated forward or a client's retry). */
  duplicatesSkipped = 0;
  /** Copies of a settled request (at or below its session's floor, answer evicted) skipped. */
  settledSkipped = 0;

  constructor(
    env: HostEnv,
    id: number,
    private readonly catalog: Catalog,
    opts: ReplicaOptions,
    observer: NodeObserver,
    private readonly hooks: ReplicaHooks,
  ) {
    super(env, id, opts, observer);
    this.machine = new CoordinatorStateMachine(catalog);
  }

  /** The leader this replica believes in (`NONE`, i.e. −1, when none is known). */
  leaderHint(): number {
    return this.rn?.raft.lead ?? 0;
  }

  override start(): void {
    this.nextLife();
    super.start();
  }

  /** Takes the next life number (written now; own ids wait until it is durable). */
  private nextLife(): void {
    const before = this.env.disk.read(LIFE_KEY);
    const life = (typeof before === 'number' ? before : 0) + 1;
    if (life > MAX_LIFE)
      throw new ElexError(
        'E_EXHAUSTED',
        `replica ${this.id} has used all ${MAX_LIFE} request-id lives (starts, or ${SEQS_PER_LIFE} own proposals each); its ids would run into replica ${this.id + 1}'s: move its data directory aside and add it back as a new member`,
      );
    this.life = life;
    this.lifeDurable = false;
    this.lifeSyncing = false;
    this.env.disk.write(LIFE_KEY, life);
    this.lifeWrites++;
  }

  override observeReady(rd: Ready): void {
    this.readyLifeWrites = this.lifeWrites;
    super.observeReady(rd);
  }

  override finishReady(rn: RawNode, rd: Ready): void {
    // A Ready's sync makes the life durable only if no life was written after it was issued: a rollover
    // (`ownIdsReady`) may write life + 1 while that sync is in flight. (A sync from before `start` is orphaned.)
    if (rd.mustSync && this.readyLifeWrites === this.lifeWrites) this.lifeDurable = true;
    super.finishReady(rn, rd);
  }

  /**
   * Whether the replica may propose under its own ids; if not yet, has the life's number synced (a process
   * waits for this before serving, so its first command is not refused).
   */
  ownIdsReady(): boolean {
    if (this.nextSeq >= SEQS_PER_LIFE) {
      this.nextLife();
      this.nextSeq = 1;
    }
    if (!this.lifeDurable && !this.lifeSyncing) {
      this.lifeSyncing = true;
      const writes = this.lifeWrites;
      this.env.disk.sync(() => {
        if (this.lifeWrites === writes) this.lifeDurable = true;
      });
    }
    return this.lifeDurable;
  }

  protected resetMachine(): void {
    this.machine = new CoordinatorStateMachine(this.catalog);
    this.appliedIndex = 0;
    this.resetSessions();
  }

  override crash(): void {
    super.crash();
    this.writes.clear();
    this.applyWaiters = [];
  }

  /** One Raft tick; the driver calls it every `tickMs` (the simulator's scenario, or a process's timer). */
  tick(): void {
    if (this.rn === null) return;
    this.guard(() => this.rn!.tick());
  }

  protected applyEntry(e: Entry): void {
    this.appliedIndex = e.index;
    if (e.type === EntryType.Normal && e.data.length >= 8) {
      const reqId = requestIdOf(e.data);
      // Decoded once, here and for the machine. Only a valid command's `at_ms` moves the log time: an entry the
      // machine refuses as MALFORMED changes nothing (one stamped 1e300 made every answer and session expire
      // right after each entry, and copies ran twice).
      const decoded = decodeCommand(e.data.subarray(8));
      if (decoded.ok && decoded.command.at_ms > this.logTime) this.logTime = decoded.command.at_ms;
      const session = sessionOf(reqId);
      this.touch(session);
      const known = this.answers.get(reqId);
      if (known !== undefined || seqOf(reqId) <= (this.sessions.get(session)?.floor ?? -1)) {
        // Applied before (its answer is kept), or settled: the copy does not execute again.
        if (known !== undefined) this.duplicatesSkipped++;
        else this.settledSkipped++;
        // Not executed, but applied: the machine's applied index (its reads report it) follows the log.
        this.machine.apply(e.index, NO_COMMAND);
        this.hooks.onApply(this, e, reqId, null);
        this.observer.onApplied(this, e);
        const again = this.writes.get(reqId);
        if (again !== undefined) {
          this.writes.delete(reqId);
          again(known?.result ?? null);
        }
        this.expire();
        return;
      }
      const r = this.machine.applyDecoded(e.index, decoded);
      this.observer.onExecute(this, session + 1, seqOf(reqId), e.index);
      this.hooks.onApply(this, e, reqId, r);
      this.answers.set(reqId, { result: r, at: this.logTime });
      this.expire();
      const w = this.writes.get(reqId);
      if (w !== undefined) {
        this.writes.delete(reqId);
        w(r);
      }
    } else {
      // Empty leader entries and conf changes still advance the machine's applied index.
      this.machine.apply(e.index, e.type === EntryType.Normal ? e.data : NO_COMMAND);
      this.hooks.onApply(this, e, 0, null);
    }
    this.observer.onApplied(this, e);
  }

  private resetSessions(): void {
    this.logTime = 0;
    this.sessions = new Map();
    this.answers = new Map();
  }

  /** Marks `session` active at the current log time (creating it), moving it to the most recent end. */
  private touch(session: number): void {
    const s = this.sessions.get(session);
    if (s !== undefined) this.sessions.delete(session);
    this.sessions.set(session, { floor: s?.floor ?? -1, last: this.logTime });
  }

  /**
   * Evicts answers older than the retention (or beyond the count), raising each one's session floor to its
   * seq, then sessions silent past their TTL (or beyond the count). Runs after every client entry, so the
   * state is a function of the log alone.
   */
  private expire(): void {
    const now = this.logTime;
    for (const [reqId, a] of this.answers) {
      if (a.at + RESULT_RETENTION_MS > now && this.answers.size <= MAX_RESULTS) break;
      this.answers.delete(reqId);
      const s = this.sessions.get(sessionOf(reqId));
      if (s !== undefined && seqOf(reqId) > s.floor) s.floor = seqOf(reqId);
    }
    for (const id of this.sessions.keys()) {
      if (this.sessions.size <= MAX_SESSIONS) break;
      this.sessions.delete(id);
    }
  }

  /** Sessions as canonical JSON: log time, sessions (least recently active first), answers (in apply order). */
  private encodeSessions(): Uint8Array {
    return utf8Encoder.encode(
      JSON.stringify({
        v: 2,
        t: this.logTime,
        s: [...this.sessions].map(([id, s]) => [id, s.floor, s.last]),
        r: [...this.answers].map(([reqId, a]) => [reqId, a.at, a.result]),
      }),
    );
  }

  /** Snapshot = u32 length, that many bytes of sessions (`encodeSessions`), then the machine's snapshot. */
  protected takeSnapshot(): Uint8Array {
    const sessions = this.encodeSessions();
    const m = this.machine.snapshot();
    const out = new Uint8Array(4 + sessions.length + m.length);
    new DataView(out.buffer).setUint32(0, sessions.length);
    out.set(sessions, 4);
    out.set(m, 4 + sessions.length);
    return out;
  }

  protected restoreSnapshot(data: Uint8Array, index: number): void {
    const bad = (why: string) => new ElexError('E_SNAPSHOT', `replica snapshot: ${why}`);
    if (data.length < 4) throw bad('shorter than its header');
    const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
    if (4 + n > data.length) throw bad('session table longer than the snapshot');
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(data.subarray(4, 4 + n)));
    } catch {
      throw bad('session table is not UTF-8 JSON');
    }
    const parsed = sessionsSchema.safeParse(json);
    if (!parsed.success) throw bad(`session table invalid: ${parsed.error.issues[0].message}`);
    this.machine.restore(data.subarray(4 + n), index);
    const t = parsed.data;
    this.logTime = t.t;
    this.sessions = new Map(t.s.map(([id, floor, last]) => [id, { floor, last }]));
    this.answers = new Map(t.r.map(([reqId, at, result]) => [reqId, { result, at }]));
    this.appliedIndex = index;
  }

  /**
   * Proposes a command (forwarded by Raft when this replica follows). False when it cannot be proposed.
   * `clientReqId` names the client's command: every copy of it (a duplicated or retried message) carries the
   * same request id, so the copies commit but apply once. Client ids live above 2^40, replica ids below.
   */
  propose(command: Uint8Array, cb: (r: CommandResult | null) => void, clientReqId?: number): boolean {
    return this.proposeAs(command, cb, clientReqId) !== null;
  }

  /**
   * `propose` for a client that may give up: returns a function that forgets the callback (its timeout), or
   * false when refused.
   */
  proposeOrForget(command: Uint8Array, cb: (r: CommandResult | null) => void): (() => void) | false {
    const reqId = this.proposeAs(command, cb, undefined);
    if (reqId === null) return false;
    return () => {
      if (this.writes.get(reqId) === cb) this.writes.delete(reqId);
    };
  }

  /** `propose`, returning the request id it proposed under (null when refused). */
  private proposeAs(
    command: Uint8Array,
    cb: (r: CommandResult | null) => void,
    clientReqId: number | undefined,
  ): number | null {
    const rn = this.rn;
    if (rn === null || (clientReqId === undefined && !this.ownIdsReady())) return null;
    const reqId =
      clientReqId === undefined
        ? this.id * 2 ** 32 + this.life * 2 ** 22 + this.nextSeq++
        : 2 ** 40 + clientReqId;
    if (this.refused(() => rn.propose(envelope(reqId, command)))) return null;
    this.writes.set(reqId, cb);
    this.guard(() => {});
    return reqId;
  }

  /** A linearizable read: `cb(index)` once this replica has applied the ReadIndex. False when refused. */
  readIndex(cb: (index: number) => void): boolean {
    if (this.rn === null) return false;
    return this.readIndexThen(this.nextReadContext(), cb);
  }

  /**
   * `readIndex` for a client that may give up: returns a function that forgets the read (its timeout), or
   * false when refused.
   */
  readIndexOrForget(cb: (index: number) => void): (() => void) | false {
    if (this.rn === null) return false;
    const ctx = this.nextReadContext();
    return this.readIndexThen(ctx, cb) ? () => this.forgetRead(ctx) : false;
  }

  /**
   * `cb()` once this replica has applied `index` (at once if it already has). Returns a function that forgets
   * the wait, for a caller that gives up (an index that is never applied would keep it forever).
   */
  whenApplied(index: number, cb: (index: number) => void): () => void {
    if (this.appliedIndex >= index) {
      cb(this.appliedIndex);
      return () => {};
    }
    const w: ApplyWaiter = { index, cb };
    this.applyWaiters.push(w);
    return () => {
      this.applyWaiters = this.applyWaiters.filter((x) => x !== w);
    };
  }

  /** After the ReadIndex reads, the waits for an applied index: both against the index applied before either. */
  protected override serveReads(): void {
    const applied = this.appliedIndex;
    super.serveReads();
    if (this.applyWaiters.length > 0) {
      // Detached first, as the reads: a callback may re-enter through a Ready of its own.
      const waiting = this.applyWaiters;
      this.applyWaiters = [];
      for (const w of waiting) {
        if (w.index <= applied) w.cb(applied);
        else this.applyWaiters.push(w);
      }
    }
  }
}
