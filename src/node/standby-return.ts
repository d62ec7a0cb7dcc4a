/**
 * What a standby's agents learned while their primary was down goes back to the primary. Every rating a
 * standby agent takes is failover learning (a rating reaches the standby only when the primary did not take
 * it), so the standby queues the rated experience (state, action, reward) and, every federation round, sends
 * the queue to the primary, which learns each one as if it had been rated there: the same Q-learning step, from
 * its own value. The primary's next mirror then brings the result back to the standby.
 *
 * Exactly once while both live: experiences carry consecutive sequence numbers in the standby's epoch (random
 * per process), and the primary remembers, per epoch, the next one it expects, so a batch resent after a lost
 * reply is skipped where already learned. A queue over `RETURN_QUEUE_LIMIT` drops its oldest (counted).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { REWARD_MAX, REWARD_MIN } from '../learning/index.js';
import { actionIndex, type Experience, type FeatureAgent, u32 } from '../swarm/agent/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { postSigned } from './signed-request.js';
import type { Address } from './tcp-transport.js';

export const RETURN_PATH = '/agents/return';
/** Experiences one request carries at most, and the most a standby keeps waiting for its primary. */
export const RETURN_PER_POST = 512;
export const RETURN_QUEUE_LIMIT = 4096;
/** Standby epochs a primary remembers the next sequence number of (a standby restarts with a new one). */
const EPOCHS_KEPT = 16;

/** The body of `POST /agents/return`: strict and bounded. */
export const returnBody = z.strictObject({
  epoch: z.string().regex(/^[0-9a-f]{1,64}$/),
  /** The sequence number of the first experience; the rest follow it one by one. */
  first: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  experiences: z
    .array(
      z.strictObject({
        feature: z.string().min(1).max(64),
        state: z.tuple([u32, u32]),
        action: actionIndex,
        reward: z.number().finite().min(REWARD_MIN).max(REWARD_MAX),
      }),
    )
    .min(1)
    .max(RETURN_PER_POST),
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
}

export class StandbyReturn {
  readonly stats: ReturnStats = {
    queued: 0,
    returned: 0,
    dropped: 0,
    failed: 0,
    learned: 0,
    duplicates: 0,
    refused: 0,
  };
  readonly epoch = randomBytes(8).toString('hex');
  private queue: Queued[] = [];
  private seq = 0;
  /** Primary side: the next sequence number expected per standby epoch, oldest epoch first. */
  private readonly next = new Map<string, number>();

  constructor(private readonly o: StandbyReturnOptions) {}

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
  }

  /** Sends the queue to the primary in order, in bounded requests; stops at the first it does not take. */
  async round(): Promise<void> {
    const to = this.o.to;
    while (to !== null && this.queue.length > 0) {
      const batch = this.queue.slice(0, RETURN_PER_POST);
      const body: ReturnBody = {
        epoch: this.epoch,
        first: batch[0].seq,
        experiences: batch.map((q) => ({
          feature: q.feature,
          state: [Number(q.e.state >> 32n), Number(q.e.state & 0xffffffffn)],
          action: q.e.action,
          reward: q.e.reward,
        })),
      };
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
      const e: Experience = {
        state: (BigInt(x.state[0]) << 32n) | BigInt(x.state[1]),
        action: x.action,
        reward: x.reward,
      };
      if (agent?.replay(e) === true) {
        learned++;
        this.o.learned?.(agent);
      } else refused++;
    });
    const next = Math.max(expected, b.first + b.experiences.length);
    this.next.delete(b.epoch); // re-inserted last: the map's order is the epochs' last use
    this.next.set(b.epoch, next);
    if (this.next.size > EPOCHS_KEPT) this.next.delete(this.next.keys().next().value!);
    this.stats.learned += learned;
    this.stats.refused += refused;
    return { next, learned, refused };
  }
}
