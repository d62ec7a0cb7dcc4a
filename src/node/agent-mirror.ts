/**
 * The primary's hosted agents mirrored to their categories' standby host, so a failover answers with what the
 * primary had learned, not with an agent that learned only from patterns. Replication between coordinators of
 * one cluster (signed with the cluster key when there is one), not federation: the standby writes the
 * primary's entries as they are, where a peer delta's robust merge would keep a lone reporter out. Each
 * federation round sends the entries changed since the standby last acknowledged (per agent: the table version
 * and generation of that mirror, read back through `QTable.sinceNow`), so a mirror that failed is resent whole.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { REWARD_MAX, REWARD_MIN } from '../learning/index.js';
import { actionIndex, type FeatureAgent, u32 } from '../swarm/agent/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { postSigned } from './signed-request.js';
import type { Address } from './tcp-transport.js';

export const MIRROR_PATH = '/agents/mirror';
/** Agents, and entries in all, one mirror request carries at most (more requests when more changed). */
export const MIRROR_AGENTS_PER_POST = 64;
export const MIRROR_ENTRIES_PER_POST = 4096;

/** [hi, lo, action, q, visits]: an agent's answers are one-step episodes, so q is a reward. */
export type MirrorEntry = [number, number, number, number, number];
const entry = z.tuple([u32, u32, actionIndex, z.number().finite().min(REWARD_MIN).max(REWARD_MAX), u32]);

/** The body of `POST /agents/mirror`: strict, bounded, every feature known, no agent or entry twice. */
export function mirrorSchema(known: (feature: string) => boolean) {
  return z
    .strictObject({
      agents: z
        .array(
          z.strictObject({
            feature: z.string().min(1).max(64).refine(known, 'unknown feature'),
            entries: z.array(entry).min(1).max(MIRROR_ENTRIES_PER_POST),
          }),
        )
        // Empty: an epoch probe (`round` with nothing to send), answered with the standby's epoch.
        .min(0)
        .max(MIRROR_AGENTS_PER_POST),
    })
    .superRefine((b, ctx) => {
      const features = new Set<string>();
      let n = 0;
      b.agents.forEach((a, i) => {
        if (features.has(a.feature)) ctx.addIssue({ code: 'custom', path: ['agents', i], message: 'twice' });
        features.add(a.feature);
        n += a.entries.length;
        const keys = new Set(a.entries.map(([hi, lo, action]) => `${hi}:${lo}:${action}`));
        if (keys.size !== a.entries.length)
          ctx.addIssue({ code: 'custom', path: ['agents', i, 'entries'], message: 'an entry twice' });
      });
      if (n > MIRROR_ENTRIES_PER_POST)
        ctx.addIssue({
          code: 'custom',
          path: ['agents'],
          message: `above ${MIRROR_ENTRIES_PER_POST} entries`,
        });
    });
}
export type MirrorBody = z.infer<ReturnType<typeof mirrorSchema>>;

/** The standby's answer, validated by the primary like any reply off the network. */
const mirrorReply = z.strictObject({
  epoch: z.string().min(1).max(64),
  applied: z.number().int().min(0),
  refused: z
    .array(z.strictObject({ feature: z.string().max(64), reason: z.string().max(64) }))
    .max(MIRROR_AGENTS_PER_POST),
});
export type MirrorReply = z.infer<typeof mirrorReply>;

export interface MirrorStats {
  /** Mirror requests the standby took (200), those it did not (resent at the next round), entries they held. */
  sent: number;
  failed: number;
  entries: number;
  /** Times the standby answered with a new epoch (it restarted): everything is sent again. */
  resets: number;
  /** Agents received in mirrors, entries written into standby agents, agents refused (NOT_STANDBY). */
  received: number;
  applied: number;
  refused: number;
}

export interface AgentMirrorOptions {
  /** This coordinator's hosted agents by feature, mirrored to `to`. */
  hosted: ReadonlyMap<string, FeatureAgent>;
  /** This coordinator's standby agents by feature: the only ones a mirror received here may write. */
  standby: ReadonlyMap<string, FeatureAgent>;
  /** Features of the catalogue (a mirror naming another is malformed). */
  known: (feature: string) => boolean;
  /** The standby host of this coordinator's categories (null: none, a single coordinator). */
  to: Address | null;
  keyring?: ClusterKeyring;
  timeoutMs?: number;
  /** Bounds of one request (defaults `MIRROR_AGENTS_PER_POST`, `MIRROR_ENTRIES_PER_POST`). */
  agentsPerPost?: number;
  entriesPerPost?: number;
}

/** Where a mirror of an agent has been acknowledged up to: its table's clock then, in that generation. */
interface Marker {
  version: number;
  generation: number;
}

export class AgentMirror {
  readonly stats: MirrorStats = {
    sent: 0,
    failed: 0,
    entries: 0,
    resets: 0,
    received: 0,
    applied: 0,
    refused: 0,
  };
  readonly schema: ReturnType<typeof mirrorSchema>;
  /** Names this receiver's life: a standby that restarted may have lost mirrors it had not saved. */
  readonly epoch = randomBytes(8).toString('hex');
  private readonly acked = new Map<FeatureAgent, Marker>();
  private standbyEpoch: string | null = null;
  /** Whether the standby took a request in the last round (then an idle round need not probe its epoch). */
  private answered = false;

  constructor(private readonly o: AgentMirrorOptions) {
    this.schema = mirrorSchema(o.known);
  }

  /**
   * Sends the hosted agents' entries changed since their last acknowledged mirror to the standby, in bounded
   * requests, one after the other; stops at the first the standby does not take (the rest wait for the next
   * round). An agent's marker moves only once every request carrying its entries was answered 200. With nothing
   * to send, the standby's epoch is probed (every other idle round), and a new one sends everything at once.
   * `live` turns false when the federation stops: no request is sent after that.
   */
  async round(live: () => boolean = () => true): Promise<void> {
    const to = this.o.to;
    if (to === null) return;
    const perPost = this.o.entriesPerPost ?? MIRROR_ENTRIES_PER_POST;
    const agentsPerPost = this.o.agentsPerPost ?? MIRROR_AGENTS_PER_POST;
    const changed: Array<{ agent: FeatureAgent; cut: Marker; entries: MirrorEntry[] }> = [];
    for (const agent of this.o.hosted.values()) {
      const t = agent.table;
      const m = this.acked.get(agent);
      const since = m === undefined ? 0 : t.sinceNow(m.version, m.generation);
      if (t.clock <= since) continue;
      const entries: MirrorEntry[] = [];
      for (let e = 0; e < t.size; e++)
        if (t.version[e] > since)
          // Within the reward range already (one-step episodes); clamped so one value cannot block every mirror.
          entries.push([
            t.hi[e],
            t.lo[e],
            t.action[e],
            Math.max(REWARD_MIN, Math.min(REWARD_MAX, t.q[e])),
            t.visits[e],
          ]);
      if (entries.length > 0)
        changed.push({ agent, cut: { version: t.clock, generation: t.generation }, entries });
    }
    // Requests of at most `agentsPerPost` agents and `perPost` entries; a large agent spans several.
    const posts: Array<Array<{ feature: string; entries: MirrorEntry[] }>> = [];
    const lastPost = new Map<FeatureAgent, number>();
    let cur: Array<{ feature: string; entries: MirrorEntry[] }> = [];
    let room = perPost;
    for (const c of changed)
      for (let i = 0; i < c.entries.length; ) {
        if (cur.length === agentsPerPost || room === 0) {
          posts.push(cur);
          cur = [];
          room = perPost;
        }
        const part = c.entries.slice(i, i + room);
        cur.push({ feature: c.agent.feature.id, entries: part });
        room -= part.length;
        i += part.length;
        lastPost.set(c.agent, posts.length);
      }
    if (cur.length > 0) posts.push(cur);
    const resets = this.stats.resets;
    if (posts.length === 0) {
      // Nothing changed here, so no reply would name a restarted standby's new epoch and it would never get the
      // tables again while this primary stays idle (before session 25). An empty request probes the epoch,
      // skipped when the standby answered last round (a restart is then seen within two rounds).
      const heard = this.answered;
      this.answered = false;
      // (Tables all empty: nothing a restarted standby could lack.)
      if (heard || !live() || [...this.o.hosted.values()].every((a) => a.table.size === 0)) return;
      this.answered = await this.post(to, []);
      if (this.stats.resets !== resets && live()) await this.round(live); // acked is cleared: all of it now
      return;
    }
    let done = 0;
    for (const agents of posts) {
      if (!live() || !(await this.post(to, agents))) break;
      done++;
    }
    this.answered = done > 0;
    // A standby that restarted meanwhile may have lost older entries of these agents too: all go next round.
    if (this.stats.resets !== resets) return;
    for (const c of changed) if (lastPost.get(c.agent)! < done) this.acked.set(c.agent, c.cut);
  }

  /** One request; true when the standby took it. A new epoch: the standby restarted, so all is sent again. */
  private async post(to: Address, agents: MirrorBody['agents']): Promise<boolean> {
    const r = await postSigned(to, MIRROR_PATH, { agents }, this.o.keyring, this.o.timeoutMs ?? 3000);
    const reply = r?.status === 200 ? mirrorReply.safeParse(r.body) : null;
    if (!reply?.success) {
      this.stats.failed++;
      return false;
    }
    if (this.standbyEpoch !== null && this.standbyEpoch !== reply.data.epoch) {
      this.acked.clear();
      this.stats.resets++;
    }
    this.standbyEpoch = reply.data.epoch;
    this.stats.sent++;
    this.stats.entries += agents.reduce((n, a) => n + a.entries.length, 0);
    return true;
  }

  /**
   * A primary's mirror (validated by `schema`, signature checked by the route): written into the standby
   * agents of those features; an agent this coordinator is not the standby of is refused (NOT_STANDBY). 409
   * when nothing was taken.
   */
  receive(body: MirrorBody): [number, MirrorReply] {
    const refused: MirrorReply['refused'] = [];
    let applied = 0;
    for (const a of body.agents) {
      this.stats.received++;
      const agent = this.o.standby.get(a.feature);
      if (agent === undefined) {
        refused.push({ feature: a.feature, reason: 'NOT_STANDBY' });
        this.stats.refused++;
        continue;
      }
      agent.mirror(a.entries);
      applied += a.entries.length;
    }
    this.stats.applied += applied;
    // An epoch probe (no agents) is taken: its answer is the epoch.
    const taken = body.agents.length === 0 || refused.length < body.agents.length;
    return [taken ? 200 : 409, { epoch: this.epoch, applied, refused }];
  }
}
