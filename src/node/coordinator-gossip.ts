/**
 * The coordinators' gossip: each coordinator runs a gossip member (the core `elex simulate gossip` measures)
 * on UDP at its own HTTP address, host and port (UDP ports are not TCP ports), seeded with the others'. A
 * member's name is then the HTTP address every coordinator already knows it by, so the phi-accrual failure
 * detector's verdicts map to coordinator ids with no extra exchange. The failover asks it which primaries not
 * to wait for.
 */
import { createHash } from 'node:crypto';
import { ElexError, isElexError } from '../core/index.js';
import { Channel, type GossipConfig, type Liveness } from '../gossip/index.js';
import { formatAddress, formatCluster } from './address.js';
import type { ClusterKeyring } from './cluster-key.js';
import { GossipMember } from './gossip-member.js';
import { PatternGossip } from './pattern-gossip.js';
import type { Address } from './tcp-transport.js';

export interface CoordinatorGossipOptions {
  self: number;
  /** Every coordinator's HTTP address by id (this one's included): its gossip member listens there, on UDP. */
  http: ReadonlyMap<number, Address>;
  /** Seals every datagram (the cluster key's gossip context); others' datagrams that do not open are dropped. */
  keyring?: ClusterKeyring;
  /** Overrides of the gossip defaults (1 s rounds, fanout 3, phi threshold 8); tests make them faster. */
  config?: Partial<GossipConfig>;
  tickMs?: number;
}

/** Statuses in which a coordinator is not asked: phi crossed the threshold, it was declared dead, or it left. */
const NOT_ASKED: ReadonlySet<Liveness> = new Set(['suspect', 'dead', 'left']);

/** The state key under which each coordinator gossips a digest of its coordinator list. */
const LIST_KEY = 'coordinators';

/** A digest of a coordinator list (ids and addresses, in id order): equal lists, equal digests. */
function listDigest(http: ReadonlyMap<number, Address>): Uint8Array {
  return createHash('sha256')
    .update(formatCluster(new Map([...http].sort(([a], [b]) => a - b))))
    .digest()
    .subarray(0, 16);
}

export class CoordinatorGossip {
  /** Each other coordinator's id by its member name. */
  private readonly idOf = new Map<string, number>();
  private readonly status = new Map<number, Liveness>();
  private readonly digest: Uint8Array;
  /** Members whose coordinator list differs from this one's (by name), as their gossiped digests say. */
  private readonly differs = new Set<string>();
  /** The agents' pattern broadcasts, on this member's pattern channel (`QueryServiceOptions.patterns`). */
  readonly patterns: PatternGossip;

  private constructor(
    readonly member: GossipMember,
    http: ReadonlyMap<number, Address>,
  ) {
    for (const [id, at] of http) if (formatAddress(at) !== member.name) this.idOf.set(formatAddress(at), id);
    this.digest = listDigest(http);
    this.patterns = new PatternGossip(member, { isPeer: (name) => this.idOf.has(name) });
    member.subscribe((e) => {
      if (e.kind === 'member') {
        const id = this.idOf.get(e.name);
        if (id !== undefined) this.status.set(id, e.status);
        // One that left or died gossips no more: its last digest says nothing now (it was named for ever).
        if (e.status === 'left' || e.status === 'dead') this.differs.delete(e.name);
      } else if (
        e.kind === 'key' &&
        e.channel === 'state' &&
        e.key === LIST_KEY &&
        e.member !== member.name
      ) {
        if (Buffer.from(e.value).equals(this.digest)) this.differs.delete(e.member);
        else this.differs.add(e.member);
      }
    });
    // Coordinators must agree on the list: category k lives on the k-th id, and the standby is the next one.
    member.core.set(Channel.state, LIST_KEY, this.digest);
  }

  /**
   * Coordinators whose list differs from this one's (their parts and ratings would be refused or go astray),
   * and members gossiping here that this list does not name at all; both empty when the cluster agrees.
   */
  mismatch(): { coordinators: number[]; unknown: string[] } {
    const coordinators: number[] = [];
    const unknown: string[] = [];
    for (const name of this.differs) {
      const id = this.idOf.get(name);
      if (id === undefined) unknown.push(name);
      else coordinators.push(id);
    }
    for (const m of this.member.members())
      if (
        m.name !== this.member.name &&
        (m.status === 'alive' || m.status === 'suspect') &&
        !this.idOf.has(m.name) &&
        !unknown.includes(m.name)
      )
        unknown.push(m.name);
    return { coordinators: coordinators.sort((a, b) => a - b), unknown: unknown.sort() };
  }

  static async start(o: CoordinatorGossipOptions): Promise<CoordinatorGossip> {
    const at = o.http.get(o.self);
    if (at === undefined)
      throw new ElexError('E_USAGE', `coordinator ${o.self} has no HTTP address to gossip at`);
    const seeds = [...o.http].filter(([id]) => id !== o.self).map(([, a]) => formatAddress(a));
    let member: GossipMember;
    try {
      member = await GossipMember.start({
        listen: at,
        // The name the others know it by, as written (a host name stays one: binding would resolve it).
        advertise: formatAddress(at),
        seeds,
        auth: o.keyring,
        config: o.config,
        tickMs: o.tickMs,
      });
    } catch (e) {
      if (!isElexError(e)) throw e;
      throw new ElexError(
        e.code,
        `${e.message} (the coordinators' gossip listens on UDP at this coordinator's --http-peers address; --no-gossip runs without it)`,
      );
    }
    return new CoordinatorGossip(member, o.http);
  }

  /** Whether the failure detector suspects `coordinator` (suspect, dead or left); false when unheard of yet. */
  suspected(coordinator: number): boolean {
    const s = this.status.get(coordinator);
    return s !== undefined && NOT_ASKED.has(s);
  }

  /** Each other coordinator's liveness as this member sees it ('unknown' before it was heard of). */
  view(): Record<number, Liveness> {
    const out: Record<number, Liveness> = {};
    for (const id of [...this.idOf.values()].sort((a, b) => a - b))
      out[id] = this.status.get(id) ?? 'unknown';
    return out;
  }

  /** Announces the departure (the others stop asking this coordinator at once) and stops. */
  leave(): Promise<void> {
    this.patterns.stop();
    return this.member.leave();
  }

  /** Stops without a word, as a crash would. */
  stop(): Promise<void> {
    this.patterns.stop();
    return this.member.stop();
  }
}
