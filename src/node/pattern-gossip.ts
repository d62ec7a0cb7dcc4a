/**
 * The coordinators' pattern broadcasts on their gossip: the patterns a coordinator's agents find go out on the
 * gossip `pattern` channel (`encodePatterns`, up to 40 a broadcast), and every other coordinator's member
 * hands what it hears to its agents. DESIGN puts pattern broadcasts on gossip; until session 23 the real
 * coordinators POSTed them to each other, one request per coordinator per 64 patterns, and a coordinator that
 * was unreachable for that one request never had them.
 *
 * Why a paced queue: a member's pattern channel is a ring of `patternSlots` (8) broadcasts, and a slot written
 * again before anti-entropy carried it to everyone loses what it held for those who had not pulled it yet.
 * So at most a quarter of the ring goes out per gossip interval; the rest waits, and beyond `maxQueued` the
 * oldest patterns are dropped (counted).
 */
import { isElexError } from '../core/index.js';
import type { GossipConfig } from '../gossip/index.js';
import {
  decodePatterns,
  encodePatterns,
  PATTERNS_PER_BROADCAST,
  type Pattern,
} from '../swarm/agent/index.js';
import type { GossipMember } from './gossip-member.js';

/** Where a coordinator's federation sends the patterns its agents found (`AgentFederationOptions.patterns`). */
export interface PatternChannel {
  publish(patterns: readonly Pattern[]): void;
  /** `receive` is handed every pattern another coordinator broadcast (one call per broadcast). */
  listen(receive: (patterns: readonly Pattern[]) => void): void;
}

export interface PatternGossipStats {
  /** Patterns taken to send, broadcasts made and the patterns they carried, patterns dropped unsent. */
  queued: number;
  broadcasts: number;
  sent: number;
  dropped: number;
  /** Broadcasts heard from other coordinators, the patterns in them, and broadcasts refused. */
  heard: number;
  received: number;
  /** Refused: bytes that do not decode, or a member that is not one of the coordinators. */
  refused: number;
}

export interface PatternGossipOptions {
  /** Whether a member name is another coordinator's (broadcasts of anyone else are refused). */
  isPeer(name: string): boolean;
  /** Patterns waiting beyond this many are dropped, oldest first (default 4096). */
  maxQueued?: number;
}

export class PatternGossip implements PatternChannel {
  readonly stats: PatternGossipStats = {
    queued: 0,
    broadcasts: 0,
    sent: 0,
    dropped: 0,
    heard: 0,
    received: 0,
    refused: 0,
  };
  private queue: Pattern[] = [];
  private receiver: ((patterns: readonly Pattern[]) => void) | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly perInterval: number;
  private readonly maxQueued: number;
  /** Broadcasts left in this gossip interval; the timer restores them. */
  private budget: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly member: GossipMember,
    private readonly o: PatternGossipOptions,
  ) {
    const config: GossipConfig = member.core.config;
    this.perInterval = Math.max(1, Math.floor(config.patternSlots / 4));
    this.budget = this.perInterval;
    this.maxQueued = o.maxQueued ?? 4096;
    this.timer = setInterval(() => this.tick(), config.gossipIntervalMs);
    this.timer.unref();
    this.unsubscribe = member.subscribe((e) => {
      if (e.kind === 'key' && e.channel === 'pattern' && e.member !== member.name)
        this.heard(e.member, e.value);
    });
  }

  /** Queues `patterns`; what this interval's budget allows goes out at once, the rest at the next ticks. */
  publish(patterns: readonly Pattern[]): void {
    if (patterns.length === 0) return;
    this.queue.push(...patterns);
    this.stats.queued += patterns.length;
    const over = this.queue.length - this.maxQueued;
    if (over > 0) {
      this.queue.splice(0, over);
      this.stats.dropped += over;
    }
    this.flush();
  }

  listen(receive: (patterns: readonly Pattern[]) => void): void {
    this.receiver = receive;
  }

  get pending(): number {
    return this.queue.length;
  }

  private tick(): void {
    this.budget = this.perInterval;
    this.flush();
  }

  private flush(): void {
    while (this.queue.length > 0 && this.budget > 0) {
      const batch = this.queue.splice(0, PATTERNS_PER_BROADCAST);
      this.member.core.broadcastPattern(encodePatterns(batch));
      this.stats.broadcasts++;
      this.stats.sent += batch.length;
      this.budget--;
    }
  }

  private heard(from: string, bytes: Uint8Array): void {
    if (!this.o.isPeer(from)) {
      this.stats.refused++;
      return;
    }
    let patterns: Pattern[];
    try {
      // The writing member is the origin: no agent is named by a coordinator's address, so every agent here
      // (the standby copies of the finder included: their mirrored states take no pattern) may apply them.
      patterns = decodePatterns(bytes, from);
    } catch (e) {
      if (!isElexError(e)) throw e;
      this.stats.refused++;
      return;
    }
    this.stats.heard++;
    this.stats.received += patterns.length;
    this.receiver?.(patterns);
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }
}
