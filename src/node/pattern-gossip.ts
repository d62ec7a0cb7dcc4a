/**
 * The coordinators' pattern broadcasts on their gossip: the patterns a coordinator's agents find go out on the
 * gossip `pattern` channel (`encodePatterns`, up to 40 a broadcast), and every other coordinator's member
 * hands what it hears to its agents. DESIGN puts pattern broadcasts on gossip; until session 23 the real
 * coordinators POSTed them to each other, one request per coordinator per 64 patterns, and a coordinator that
 * was unreachable for that one request never had them.
 *
 * Why a paced queue: a member's pattern channel is a ring of `patternSlots` (8) broadcasts, and a slot written
 * again before anti-entropy carried it to everyone loses what it held for those who had not pulled it yet.
 * So at most a quarter of the ring goes out in any window of one gossip interval; the rest waits, and beyond
 * `maxQueued` the oldest patterns are dropped (counted). Pacing makes a lap unlikely, not impossible: a member
 * cut off for longer than the ring lasts misses what was overwritten meanwhile.
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
  private readonly intervalMs: number;
  /** When the last `perInterval` broadcasts went out, oldest first (a sliding window, not a budget reset). */
  private readonly sentAt: number[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    private readonly member: GossipMember,
    private readonly o: PatternGossipOptions,
  ) {
    const config: GossipConfig = member.core.config;
    this.perInterval = Math.max(1, Math.floor(config.patternSlots / 4));
    this.maxQueued = o.maxQueued ?? 4096;
    this.intervalMs = config.gossipIntervalMs;
    // Often enough that the queue drains at the full pace whatever the timer's phase.
    this.timer = setInterval(() => this.flush(), this.intervalMs / (2 * this.perInterval));
    this.timer.unref();
    this.unsubscribe = member.subscribe((e) => {
      if (e.kind === 'key' && e.channel === 'pattern' && e.member !== member.name)
        this.heard(e.member, e.value);
    });
  }

  /** Queues `patterns`; what the pace allows goes out at once, the rest as the window slides. */
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

  /**
   * Broadcasts from the queue's head while fewer than `perInterval` went out in the last gossip interval. A
   * window that slides, because a budget reset on a timer let a backlog published just before the reset send
   * twice the pace across it, and the ring was overwritten an interval early.
   */
  private flush(): void {
    const now = performance.now();
    while (this.queue.length > 0) {
      if (this.sentAt.length === this.perInterval) {
        if (now - this.sentAt[0] < this.intervalMs) return;
        this.sentAt.shift();
      }
      const batch = this.queue.splice(0, PATTERNS_PER_BROADCAST);
      let bytes: Uint8Array;
      try {
        bytes = encodePatterns(batch);
      } catch (e) {
        // Our own agents' patterns always encode; if one did not, it must not stop the timer.
        if (!isElexError(e)) throw e;
        this.stats.dropped += batch.length;
        continue;
      }
      this.member.core.broadcastPattern(bytes);
      this.sentAt.push(now);
      this.stats.broadcasts++;
      this.stats.sent += batch.length;
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
