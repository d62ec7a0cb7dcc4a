import { ElexError } from '../core/index.js';
import { LIMITS } from './codec.js';

/**
 * Every tunable of the gossip core, with the defaults the figures in docs/gossip.md were measured with.
 * Times are milliseconds of the injected clock.
 */
export interface GossipConfig {
  /** One anti-entropy round per interval (DESIGN §5: 1 s). */
  gossipIntervalMs: number;
  /** Peers contacted per round (push-pull exchange with each). */
  fanout: number;
  /** Direct heartbeats to the monitors, one per interval. */
  heartbeatIntervalMs: number;
  /** Monitors per member: the next `monitors` live members on the hash ring (Akka: 9). */
  monitors: number;
  /**
   * Members every member also heartbeats and that monitor every live member (the coordinator of a
   * category's pool): they see each failure first-hand even when a whole ring neighbourhood fails together.
   */
  hubs: readonly string[];
  /** Phi-accrual (Akka's normal model): suspect when phi exceeds this. */
  phiThreshold: number;
  /** Floor on the standard deviation of inter-arrival times. */
  minStdDevMs: number;
  /** Pause added to the mean before the distribution starts to bite (GC pauses, one lost heartbeat). */
  acceptablePauseMs: number;
  /** Inter-arrival samples kept per monitored member. */
  sampleWindow: number;
  /** Assumed mean interval before any sample exists (standard deviation = estimate / 4). */
  firstHeartbeatEstimateMs: number;
  /** Lifeguard suspicion timeout: starts at max, shrinks with log(confirmations+1) down to min. */
  suspicionMinMs: number;
  suspicionMaxMs: number;
  /** Independent suspicions (distinct monitors) at which the timeout reaches its minimum. */
  suspicionConfirmations: number;
  /** Dead and left members stay as gossiped tombstones this long, then are forgotten. */
  tombstoneTtlMs: number;
  /** Forgotten (garbage-collected) identities remembered locally to refuse their resurrection. */
  forgottenCapacity: number;
  /**
   * How long a member forgotten while dead (not left) stays a gossip-to-the-dead target (Serf's
   * reconnect_timeout): a partition that outlives the tombstones heals only if someone talks across it.
   */
  reconnectTimeoutMs: number;
  /** Byte budget of every datagram the core emits (payload, before UDP/IP headers). */
  maxDatagramBytes: number;
  /** Largest value accepted by `set` (a value must fit in one datagram with its headers). */
  maxValueBytes: number;
  /**
   * Largest user-message payload (`sendUser`): application data pushed to random live members, one
   * datagram each (memberlist's user messages). Above the MTU, IP fragments it.
   */
  maxUserBytes: number;
  /** Entries changed within this window ride on the SYN digest (the cheap path for fresh news). */
  recentWindowMs: number;
  recentMax: number;
  /** Digest buckets (a Merkle level of one): only buckets whose hashes differ exchange full digests. */
  buckets: number;
  /** Longest request/response chain of one exchange. */
  maxHops: number;
  /** Pattern broadcasts kept per member (the pattern channel is a ring of this many slots). */
  patternSlots: number;
  /**
   * Membership news learned from others is forwarded after at most this long, batched with whatever else
   * arrives meanwhile (0: forward at once, one datagram per received message). Our own news (suspicions we
   * raise, deaths we declare, refutations) always goes out at once.
   */
  rumorDelayMs: number;
}

export const DEFAULT_CONFIG: Readonly<GossipConfig> = Object.freeze({
  gossipIntervalMs: 1000,
  fanout: 3,
  heartbeatIntervalMs: 1000,
  monitors: 9,
  hubs: [],
  phiThreshold: 8,
  minStdDevMs: 100,
  acceptablePauseMs: 3000,
  sampleWindow: 200,
  firstHeartbeatEstimateMs: 1000,
  suspicionMinMs: 2000,
  suspicionMaxMs: 10_000,
  suspicionConfirmations: 3,
  tombstoneTtlMs: 3_600_000,
  forgottenCapacity: 4096,
  reconnectTimeoutMs: 86_400_000,
  maxDatagramBytes: 1200,
  maxValueBytes: 900,
  maxUserBytes: 16_384,
  recentWindowMs: 3000,
  recentMax: 12,
  buckets: 32,
  maxHops: 6,
  patternSlots: 8,
  rumorDelayMs: 100,
});

/** Fills defaults and refuses nonsense with `E_CONFIG`. */
export function makeConfig(partial: Partial<GossipConfig> = {}): GossipConfig {
  const c: GossipConfig = { ...DEFAULT_CONFIG, ...partial };
  const positive: Array<Exclude<keyof GossipConfig, 'hubs'>> = [
    'gossipIntervalMs',
    'fanout',
    'heartbeatIntervalMs',
    'monitors',
    'phiThreshold',
    'minStdDevMs',
    'sampleWindow',
    'firstHeartbeatEstimateMs',
    'suspicionMinMs',
    'suspicionMaxMs',
    'suspicionConfirmations',
    'tombstoneTtlMs',
    'forgottenCapacity',
    'reconnectTimeoutMs',
    'maxDatagramBytes',
    'maxValueBytes',
    'maxUserBytes',
    'recentMax',
    'buckets',
    'maxHops',
    'patternSlots',
  ];
  for (const k of positive) {
    if (!(Number.isFinite(c[k]) && c[k] > 0)) throw new ElexError('E_CONFIG', `gossip ${k} must be > 0`);
  }
  if (!(Number.isFinite(c.rumorDelayMs) && c.rumorDelayMs >= 0))
    throw new ElexError('E_CONFIG', 'gossip rumorDelayMs must be >= 0');
  if (c.acceptablePauseMs < 0) throw new ElexError('E_CONFIG', 'gossip acceptablePauseMs must be >= 0');
  if (c.suspicionMinMs > c.suspicionMaxMs)
    throw new ElexError('E_CONFIG', 'gossip suspicionMinMs must be <= suspicionMaxMs');
  if (c.buckets > 255) throw new ElexError('E_CONFIG', 'gossip buckets must be <= 255');
  if (c.maxDatagramBytes < 256 || c.maxDatagramBytes > 65_000)
    throw new ElexError('E_CONFIG', 'gossip maxDatagramBytes must be in 256..65000');
  if (c.maxUserBytes > 60_000) throw new ElexError('E_CONFIG', 'gossip maxUserBytes must be <= 60000');
  if (c.maxValueBytes > c.maxDatagramBytes - 200)
    throw new ElexError('E_CONFIG', 'gossip maxValueBytes must leave 200 bytes of headers in a datagram');
  // Peers decode with the protocol's limits, not this member's configuration: a larger value is never heard.
  if (c.maxValueBytes > LIMITS.value)
    throw new ElexError(
      'E_CONFIG',
      `gossip maxValueBytes must be <= ${LIMITS.value}, what every decoder accepts`,
    );
  if (c.maxHops > LIMITS.hops)
    throw new ElexError('E_CONFIG', `gossip maxHops must be <= ${LIMITS.hops}, what every decoder accepts`);
  return c;
}
