/**
 * What a standby's agents learned while their primary was down goes back to the primary. Every rating a
 * standby agent takes is failover learning (a rating reaches the standby only when the primary did not take
 * it), so the standby queues the rated experience (state, action, reward) and, every federation round, sends
 * the queue to the primary, which learns each one as if it had been rated there: the same Q-learning step, from
 * its own value. The primary's next mirror then brings the result back to the standby.
 *
 * Exactly once while both live: experiences carry consecutive sequence numbers in the standby's epoch (random
 * per process), and the primary remembers, per epoch, the next one it expects, so a batch resent after a lost
 * reply is skipped where already learned. A queue over `RETURN_QUEUE_LIMIT` drops its oldest (counted). With a
 * file, the queue, its epoch and its next sequence number are saved after every round and at stop, and read back
 * at start, so a standby restart loses at most the ratings of its last round and the primary still learns each
 * experience once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ElexError } from '../core/index.js';
import { joinState, REWARD_MAX, REWARD_MIN, stateHi, stateLo } from '../learning/index.js';
import { actionIndex, type Experience, type FeatureAgent, u32 } from '../swarm/agent/index.js';
import type { ReturnNumbers } from './agent-store.js';
import type { ClusterKeyring } from './cluster-key.js';
import { writeFileDurably } from './durable-file.js';
import { postSigned } from './signed-request.js';
import type { Address } from './tcp-transport.js';

export const RETURN_PATH = '/agents/return';
/** The queue's file in a coordinator's data directory (`QueryServiceOptions.standbyReturnsFile`). */
export const STANDBY_RETURNS_FILE = 'standby-returns.json';
export const RETURNS_FORMAT = 'elex-standby-returns/1';
/** Experiences one request carries at most, and the most a standby keeps waiting for its primary. */
export const RETURN_PER_POST = 512;
export const RETURN_QUEUE_LIMIT = 4096;
/** Standby epochs a primary remembers the next sequence number of (a standby restarts with a new one). */
const EPOCHS_KEPT = 16;

const epochSchema = z.string().regex(/^[0-9a-f]{1,64}$/);
const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const experienceSchema = z.strictObject({
  feature: z.string().min(1).max(64),
  state: z.tuple([u32, u32]),
  action: actionIndex,
  reward: z.number().finite().min(REWARD_MIN).max(REWARD_MAX),
});
type WireExperience = z.infer<typeof experienceSchema>;

/** The body of `POST /agents/return`: strict and bounded. */
export const returnBody = z
  .strictObject({
    epoch: epochSchema,
    /** The sequence number of the first experience; the rest follow it one by one. */
    first: seqSchema,
    experiences: z.array(experienceSchema).min(1).max(RETURN_PER_POST),
  })
  // The numbers after the batch are saved: past 2^53 − 1 they round, and the file would not load again.
  .refine((b) => b.first + b.experiences.length <= Number.MAX_SAFE_INTEGER, {
    message: 'sequence numbers run past 2^53 - 1',
    path: ['first'],
  });

const fileSchema = z.strictObject({
  format: z.literal(RETURNS_FORMAT),
  epoch: epochSchema,
  next: seqSchema,
  queue: z.array(z.strictObject({ seq: seqSchema, ...experienceSchema.shape })).max(RETURN_QUEUE_LIMIT),
});
export type ReturnBody = z.infer<typeof returnBody>;

/** The primary's answer: the next sequence number it expects of that epoch (everything before is learned). */
const returnReply = z.strictObject({
  next: z.number().int().min(0),
  learned: z.number().int().min(0),
  refused: z.number().int().min(0),
});
export type ReturnReply = z.infer<typeof returnReply>;

export interface ReturnStats {
  /** Standby side: experiences queued, sent and acknowledged, dropped from a full queue; requests that failed. */
  queued: number;
  returned: number;
  dropped: number;
  failed: number;
  /** Primary side: experiences learned, skipped as already learned (a resend), refused (not hosted, bad). */
  learned: number;
  duplicates: number;
  refused: number;
  /** Saves of the queue that failed (retried at the next round). */
  saveFailures: number;
}

interface Queued {
  seq: number;
  feature: string;
  e: Experience;
}

export interface StandbyReturnOptions {
  /** This coordinator's hosted agents by feature: the only ones a return received here may teach. */
  hosted: ReadonlyMap<string, FeatureAgent>;
  /** The primary of this coordinator's standby agents (null: none, a single coordinator). */
  to: Address | null;
  keyring?: ClusterKeyring;
  timeoutMs?: number;
  /** A hosted agent learned (the federation counts it towards its next sync). */
  learned?: (agent: FeatureAgent) => void;
  /** Where the queue is kept across restarts (`load`, `save`); default: not kept. */
  file?: string;
  /**
   * Saves the hosted agents with this return's numbers (`AgentStore`, which reads them through `ReturnNumbers`):
   * called after a received batch was learned and before it is answered; false when it failed.
   */
  persist?: () => boolean;
}

export class StandbyReturn implements ReturnNumbers {
  readonly stats: ReturnStats = {
    queued: 0,
    returned: 0,
    dropped: 0,
    failed: 0,
    learned: 0,
    duplicates: 0,
    refused: 0,
    saveFailures: 0,
  };
  private life = randomBytes(8).toString('hex');
  private queue: Queued[] = [];
  private seq = 0;
  /** The queue changed since the last save. */
  private dirty = false;
  /** Primary side: the next sequence number expected per standby epoch, oldest epoch first. */
  private readonly next = new Map<string, number>();
  numbersRevision = 0;

  constructor(private readonly o: StandbyReturnOptions) {}

  /** Names this standby's sequence numbers: random per life, or the saved one's when the queue was read back. */
  get epoch(): string {
    return this.life;
  }

  get file(): string | undefined {
    return this.o.file;
  }

  /** Reads the saved queue back; no file is a first start. E_DECODE on a file it cannot use. */
  load(): void {
    const path = this.o.file;
    if (path === undefined || !existsSync(path)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw refuse(path, `not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const p = fileSchema.safeParse(raw);
    if (!p.success) throw refuse(path, z.prettifyError(p.error).split('\n')[0]);
    const { epoch, next, queue } = p.data;
    if (queue.some((q, i) => q.seq !== next - queue.length + i))
      throw refuse(path, 'the queue is not the consecutive sequence numbers before next');
    this.life = epoch;
    this.seq = next;
    this.queue = queue.map((q) => ({ seq: q.seq, feature: q.feature, e: experienceOf(q) }));
  }

  /** Writes the queue when it changed since the last save; false when that failed (retried at the next). */
  save(): boolean {
    if (this.o.file === undefined || !this.dirty) return true;
    const text = JSON.stringify({
      format: RETURNS_FORMAT,
      epoch: this.life,
      next: this.seq,
      queue: this.queue.map((q) => ({ seq: q.seq, ...wire(q) })),
    });
    try {
      writeFileDurably(this.o.file, text);
      this.dirty = false;
      return true;
    } catch {
      this.stats.saveFailures++;
      return false;
    }
  }

  /** Experiences waiting for the primary. */
  get pending(): number {
    return this.queue.length;
  }

  /** A standby agent of `feature` learned `e` from a rating: it goes to the primary at the next round. */
  add(feature: string, e: Experience): void {
    if (this.queue.length >= RETURN_QUEUE_LIMIT) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push({ seq: this.seq++, feature, e });
    this.stats.queued++;
    this.dirty = true;
  }

  /**
   * Sends the queue to the primary in order, in bounded requests, and stops at the first it does not take; then
   * saves what is left.
   */
  async round(live: () => boolean = () => true): Promise<void> {
    await this.send(live);
    // Stopped meanwhile: the coordinator's stop saved already; an acknowledged batch still in the file is
    // skipped as a duplicate when the next life sends it again.
    if (live()) this.save();
  }

  private async send(live: () => boolean): Promise<void> {
    const to = this.o.to;
    if (to === null) return;
    // `live`: false once the federation was stopped, so a round in flight at `stop` sends nothing more.
    while (this.queue.length > 0 && live()) {
      // Saved first, every pass (a rating may have been queued during the last request): a sequence number that
      // reaches the primary must never be handed out again by a later life, which would take the new experience
      // for a resend of the old one. Nothing goes out unsaved.
      if (!this.save()) return;
      const batch = this.queue.slice(0, RETURN_PER_POST);
      const body: ReturnBody = { epoch: this.life, first: batch[0].seq, experiences: batch.map(wire) };
      const r = await postSigned(to, RETURN_PATH, body, this.o.keyring, this.o.timeoutMs ?? 3000);
      const reply = r?.status === 200 ? returnReply.safeParse(r.body) : null;
      if (!reply?.success) {
        this.stats.failed++;
        return;
      }
      const before = this.queue.length;
      this.queue = this.queue.filter((q) => q.seq >= reply.data.next);
      this.stats.returned += before - this.queue.length;
      if (this.queue.length === before) return; // the primary took none: no progress this round
      this.dirty = true;
    }
  }

  /**
   * A standby's experiences (validated by `returnBody`, signature checked by the route): each one not learned
   * before (by its sequence number in the standby's epoch) is learned by the hosted agent of its feature; one
   * this coordinator does not host, or that the agent refuses, is counted and skipped.
   */
  receive(b: ReturnBody): ReturnReply {
    const expected = this.next.get(b.epoch) ?? 0;
    let learned = 0;
    let refused = 0;
    b.experiences.forEach((x, i) => {
      if (b.first + i < expected) {
        this.stats.duplicates++;
        return;
      }
      const agent = this.o.hosted.get(x.feature);
      if (agent?.replay(experienceOf(x)) === true) {
        learned++;
        this.o.learned?.(agent);
      } else refused++;
    });
    const next = Math.max(expected, b.first + b.experiences.length);
    this.next.delete(b.epoch); // re-inserted last: the map's order is the epochs' last use
    this.next.set(b.epoch, next);
    if (this.next.size > EPOCHS_KEPT) this.next.delete(this.next.keys().next().value!);
    this.numbersRevision++;
    this.stats.learned += learned;
    this.stats.refused += refused;
    // Saved before the answer: a crash after it keeps both the learning and the numbers that skip its resend.
    // Not saved: no acknowledgement (503, the standby keeps the batch and resends it, a duplicate then, and the
    // save is tried again); before session 25 it answered 200 and a crash of this primary lost the batch.
    if (this.o.persist?.() === false) {
      this.stats.saveFailures++;
      throw new ElexError('E_NOT_SAVED', 'learned, but the agents could not be saved: send the batch again');
    }
    return { next, learned, refused };
  }

  numbers(): Record<string, number> {
    return Object.fromEntries(this.next);
  }

  restoreNumbers(n: Record<string, number>): void {
    this.next.clear();
    for (const [epoch, next] of Object.entries(n)) this.next.set(epoch, next);
    while (this.next.size > EPOCHS_KEPT) this.next.delete(this.next.keys().next().value!);
  }
}

function wire(q: Queued): WireExperience {
  const { state, action, reward } = q.e;
  return { feature: q.feature, state: [stateHi(state), stateLo(state)], action, reward };
}

function experienceOf(x: WireExperience): Experience {
  return { state: joinState(x.state[0], x.state[1]), action: x.action, reward: x.reward };
}

function refuse(path: string, why: string): ElexError {
  return new ElexError(
    'E_DECODE',
    `${path}: ${why}; move it aside to start without the standby's unsent ratings`,
  );
}
