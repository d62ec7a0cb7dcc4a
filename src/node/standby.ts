/**
 * A standby host per category, so that a category's queries are answered while its coordinator is down. The
 * standby of the categories whose primary is coordinator p is the next id after p in the sorted ids (round the
 * list). It keeps standby agents for those features: they act on the swarm's patterns like every agent the
 * process holds, but take no part in the primary's category federation. A part, or a rating, for a primary that
 * does not answer goes to the standby instead, on its own signed path, and is never forwarded again.
 */
import type { Rng } from '../core/index.js';
import { type Experience, FeatureAgent } from '../swarm/agent/index.js';
import type { Catalog } from '../swarm/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { httpJson } from './http-client.js';
import {
  checkFeedbackReply,
  checkPartReply,
  type FeedbackResult,
  FORWARDED_FEEDBACK_PATH,
  hostedAgentId,
  PART_PATH,
  type PartReply,
  standbyAgentId,
  TOO_LATE,
} from './query-replies.js';
import type { FeedbackBody, PartBody } from './query-service.js';
import { postSigned } from './signed-request.js';
import type { Address } from './tcp-transport.js';

/** A part, or a rating, for the standby agents (signed on a keyed cluster, like `/query/part`). */
export const STANDBY_PART_PATH = '/query/standby';
export const STANDBY_FEEDBACK_PATH = '/feedback/standby';
/** Answers of standby agents a coordinator remembers having passed on (their ratings go to the standby). */
export const STANDBY_ANSWERS_KEPT = 4096;
/**
 * How long a primary the failure detector suspects, but that answered a probe over HTTP, is asked again (gossip
 * and HTTP can disagree, e.g. UDP blocked between two hosts); a failed request ends it sooner.
 */
export const PROBED_ALIVE_MS = 30_000;
/** How long a coordinator that did not answer is skipped: its parts go straight to the standby meanwhile. */
export const DOWN_MEMORY_MS = 5000;

const DOWN = 'COORDINATOR_DOWN';

/** The standby host of the categories whose primary is `primary`; null with a single coordinator. */
export function standbyHost(ids: readonly number[], primary: number): number | null {
  const sorted = [...ids].sort((a, b) => a - b);
  const i = sorted.indexOf(primary);
  return sorted.length < 2 || i < 0 ? null : sorted[(i + 1) % sorted.length];
}

/**
 * Coordinators that did not answer lately. Without it every query about a down coordinator's categories would
 * wait for the request timeout again before its standby is asked.
 */
export class DownHosts {
  private readonly until = new Map<number, number>();

  constructor(
    private readonly windowMs: number = DOWN_MEMORY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  markDown(host: number): void {
    this.until.set(host, this.now() + this.windowMs);
  }

  markUp(host: number): void {
    this.until.delete(host);
  }

  isDown(host: number): boolean {
    const t = this.until.get(host);
    if (t === undefined) return false;
    if (this.now() < t) return true;
    this.until.delete(host);
    return false;
  }

  /** The hosts remembered down now, sorted. */
  list(): number[] {
    return [...this.until.keys()].filter((h) => this.isDown(h)).sort((a, b) => a - b);
  }
}

export interface StandbyStats {
  /** Standby agents this coordinator keeps (for the categories of the coordinator before it). */
  agents: number;
  /** Answers they gave, ratings they learned from, and standby requests refused (NOT_STANDBY, UNKNOWN_ANSWER). */
  answers: number;
  feedback: number;
  refused: number;
}

/** The standby agents of the categories this coordinator is the standby host of. */
export class StandbyAgents {
  readonly agents = new Map<string, FeatureAgent>();
  readonly stats: StandbyStats = { agents: 0, answers: 0, feedback: 0, refused: 0 };

  constructor(
    catalog: Catalog,
    categories: ReadonlySet<string>,
    rng: Rng,
    /** A standby agent learned from a rating (`StandbyReturn` sends it to the primary). */
    private readonly rated?: (feature: string, e: Experience) => void,
  ) {
    for (const c of catalog.categories)
      if (categories.has(c.id))
        for (const f of c.features)
          this.agents.set(f, new FeatureAgent(standbyAgentId(f), catalog.get(f)!, rng.fork(`standby:${f}`)));
    this.stats.agents = this.agents.size;
  }

  /** Counts a standby part's outcome. */
  answered(r: PartReply): void {
    if ('answers' in r) this.stats.answers += r.answers.length;
    else this.stats.refused++;
  }

  /** A rating of an answer a standby agent gave; refused when this is not the feature's standby. */
  feedback(f: FeedbackBody): FeedbackResult {
    const agent = this.agents.get(f.feature);
    const e = agent?.rate(f.queryId, f.rating, f.resolved ?? false, f.latency_ms ?? 0, f.feature) ?? null;
    if (e !== null) {
      this.stats.feedback++;
      this.rated?.(f.feature, e);
    } else this.stats.refused++;
    return e !== null
      ? { accepted: true }
      : { accepted: false, reason: agent === undefined ? 'NOT_STANDBY' : 'UNKNOWN_ANSWER' };
  }
}

export interface FailoverStats {
  /**
   * Parts asked of a standby because their primary did not answer; of them, without asking it: remembered down,
   * or suspected by the failure detector (with ratings sent on without asking it, for the same reason).
   */
  parts: number;
  remembered: number;
  suspected: number;
  /** Requests to a primary or a standby that got no answer (refused connection or timeout). */
  unanswered: number;
  /** Probes of a suspected coordinator that it answered over HTTP (it is asked again for `PROBED_ALIVE_MS`). */
  probed: number;
  /** Parts that failed at once because their standby, too, did not answer lately (not counted above). */
  standbyDown: number;
  /** Ratings a standby's agent took. */
  feedback: number;
}

export interface FailoverOptions {
  self: number;
  /** Every coordinator's HTTP address by id (this one's included). */
  http: ReadonlyMap<number, Address>;
  keyring?: ClusterKeyring;
  timeoutMs: number;
  /** The clock of the memory of coordinators that did not answer (default `Date.now`). */
  now?: () => number;
  /**
   * The failure detector's verdict on a coordinator (gossip's phi-accrual: suspect, dead or left). One it
   * suspects is not asked, so no query waits out the timeout on it; default: none suspected.
   */
  suspected?: (coordinator: number) => boolean;
  /** This coordinator's own answers: its standby agents' to a part, and its hosted and standby agents' ratings. */
  standbyPart(p: PartBody): Promise<PartReply>;
  hostedFeedback(f: FeedbackBody): FeedbackResult;
  standbyFeedback(f: FeedbackBody): FeedbackResult;
}

/** Asks the primary of a part or a rating, and its standby when the primary does not answer. */
export class Failover {
  readonly stats: FailoverStats = {
    parts: 0,
    remembered: 0,
    suspected: 0,
    unanswered: 0,
    probed: 0,
    standbyDown: 0,
    feedback: 0,
  };
  /** Coordinators that did not answer in the last `DOWN_MEMORY_MS`. */
  readonly down: DownHosts;
  /** Each coordinator's standby host, fixed with the coordinator list (not sorted again per request). */
  private readonly standbyOf: ReadonlyMap<number, number | null>;
  /**
   * `queryId:feature` of the answers standby agents gave through this coordinator, oldest first (bounded); kept
   * after the standby took a rating, so a retry goes to it again and is refused at once, no one else asked.
   */
  private readonly standbyAnswers = new Set<string>();
  /** Suspected coordinators that answered a probe over HTTP, until when; and those with a probe under way. */
  private readonly probedAlive = new Map<number, number>();
  private readonly probing = new Set<number>();
  /** When a probe of, or a request to, each coordinator last failed (probes are spaced after one). */
  private readonly failedAt = new Map<number, number>();
  private readonly now: () => number;

  constructor(private readonly o: FailoverOptions) {
    const ids = [...o.http.keys()];
    this.standbyOf = new Map(ids.map((id) => [id, standbyHost(ids, id)]));
    this.down = new DownHosts(DOWN_MEMORY_MS, o.now);
    this.now = o.now ?? Date.now;
  }

  /**
   * A part for `primary`, another coordinator: its answer; its standby's when it does not answer (not when it
   * answers with an error: that is its answer). `standby` says the standby's agents answered.
   */
  async part(primary: number, p: PartBody): Promise<{ reply: PartReply; standby: boolean }> {
    const ask = async (): Promise<PartReply | null> => {
      const r = await this.post(primary, PART_PATH, { ...p, budget_ms: this.o.timeoutMs });
      const reply = r === null ? null : checkPartReply(r.status, r.body, p);
      // TOO_LATE: the primary could not answer within our timeout and keeps no answer; as if it had not answered.
      if (reply === null || ('reason' in reply && reply.reason === TOO_LATE)) return null;
      // The primary's answer now: a rating of this query id is no longer the standby's (ids are reused).
      for (const f of p.features) this.standbyAnswers.delete(`${p.queryId}:${f}`);
      return reply;
    };
    // Skipped (remembered down, or suspected): not asked, the standby answers at once.
    const skipped = this.skipped(primary);
    if (skipped === null) {
      const reply = await ask();
      if (reply !== null) return { reply, standby: false };
    }
    const standby = this.standbyOf.get(primary) ?? null;
    if (standby === null) return { reply: { reason: DOWN }, standby: false };
    // A standby that did not answer lately either: the query fails now instead of after another timeout. (Not
    // one gossip merely suspects: a host whose UDP is blocked suspects everyone, and its standby still answers.)
    if (standby !== this.o.self && this.down.isDown(standby)) {
      // Unless the primary was skipped on suspicion alone: it has not failed a request, and may well answer
      // (before session 25 the query failed without asking it).
      if (this.suspicionOnly(primary, skipped)) {
        const reply = await ask();
        if (reply !== null) return { reply, standby: false };
      }
      this.stats.standbyDown++;
      return { reply: { reason: DOWN }, standby: false };
    }
    this.stats.parts++;
    let reply: PartReply;
    if (standby === this.o.self) reply = await this.o.standbyPart(p);
    else {
      const r = await this.post(standby, STANDBY_PART_PATH, { ...p, budget_ms: this.o.timeoutMs });
      reply = r === null ? { reason: DOWN } : checkPartReply(r.status, r.body, p);
    }
    if ('answers' in reply) this.noteStandby(p);
    return { reply, standby: true };
  }

  /** Remembers that standby agents answered `p`'s features, so their ratings skip the primary. */
  private noteStandby(p: PartBody): void {
    for (const f of p.features) {
      const key = `${p.queryId}:${f}`;
      this.standbyAnswers.delete(key); // re-added last: the oldest go first
      this.standbyAnswers.add(key);
      if (this.standbyAnswers.size > STANDBY_ANSWERS_KEPT)
        this.standbyAnswers.delete(this.standbyAnswers.values().next().value!);
    }
  }

  /**
   * A rating for an agent of `primary`'s categories: to the primary's agent; to the standby's when the primary
   * does not answer (or is skipped) or has no such answer pending (the standby gave it). The standby is asked
   * only when the primary did not take the rating, and an agent takes a rating of an answer once: applied at
   * most once.
   */
  async feedback(primary: number, f: FeedbackBody): Promise<FeedbackResult> {
    const key = `${f.queryId}:${f.feature}`;
    // A standby agent's answer (the rating names it, or, unnamed, it went through here): a late answer the
    // primary gave to the same query must not take its rating.
    if (f.agent === standbyAgentId(f.feature) || (f.agent === undefined && this.standbyAnswers.has(key))) {
      return (await this.standbyFeedback(primary, f)) ?? { accepted: false, reason: DOWN };
    }
    const ask = async () => {
      if (primary === this.o.self) return this.o.hostedFeedback(f);
      const r = await this.post(primary, FORWARDED_FEEDBACK_PATH, f);
      return r === null ? null : checkFeedbackReply(r.status, r.body);
    };
    // null: the primary did not answer, or was not asked (as its parts: no timeout waited per rating). Asked all
    // the same when skipped on suspicion alone with its standby remembered down, as a part is (session 25).
    const why = primary === this.o.self ? null : this.skipped(primary);
    const standby = this.standbyOf.get(primary) ?? null;
    const standbyDown = standby !== null && standby !== this.o.self && this.down.isDown(standby);
    const skipped = why !== null && !(standbyDown && this.suspicionOnly(primary, why));
    const first = skipped ? null : await ask();
    // Named the primary's agent: its answer, whatever it says; the standby never had it.
    if (f.agent === hostedAgentId(f.feature))
      return (skipped ? await ask() : first) ?? { accepted: false, reason: DOWN };
    if (first !== null && first.reason !== 'UNKNOWN_ANSWER') return first;
    const second = await this.standbyFeedback(primary, f);
    if (second?.accepted) return second;
    // Neither took it: the primary's refusal when it answered; when it did not (or was skipped), it may hold the
    // answer. A skipped primary that answers HTTP is asked again once a probe finds it (`answersHttp`).
    return first ?? { accepted: false, reason: DOWN };
  }

  /** A rating for the standby agent of `primary`'s categories; null when the standby did not answer. */
  private async standbyFeedback(primary: number, f: FeedbackBody): Promise<FeedbackResult | null> {
    const standby = this.standbyOf.get(primary) ?? null;
    let r: FeedbackResult | null = null;
    if (standby === this.o.self) r = this.o.standbyFeedback(f);
    else if (standby !== null) {
      const res = await this.post(standby, STANDBY_FEEDBACK_PATH, f);
      r = res === null ? null : checkFeedbackReply(res.status, res.body);
    }
    if (r?.accepted) this.stats.feedback++;
    return r;
  }

  /**
   * Why `host` is not asked (null: it is), counted: the failure detector suspects it, or (without a verdict) it did
   * not answer within the last `DOWN_MEMORY_MS`.
   */
  private skipped(host: number): 'suspected' | 'remembered' | null {
    if (this.o.suspected?.(host) === true && !this.answersHttp(host)) {
      this.stats.suspected++;
      return 'suspected';
    }
    if (this.down.isDown(host)) {
      this.stats.remembered++;
      return 'remembered';
    }
    return null;
  }

  /** Skipped because the detector suspects `host`, which has not itself failed a request lately. */
  private suspicionOnly(host: number, why: 'suspected' | 'remembered' | null): boolean {
    return why === 'suspected' && !this.down.isDown(host);
  }

  /**
   * Whether a suspected coordinator answered a probe over HTTP lately. If not, and none is under way, one is sent
   * in the background (no query waits for it): the failure detector and HTTP can disagree.
   */
  private answersHttp(host: number): boolean {
    const now = this.now();
    const until = this.probedAlive.get(host);
    const alive = until !== undefined && now < until;
    // Renewed before it lapses (half way), so a false suspicion does not come back every `PROBED_ALIVE_MS`; after
    // a failure, not probed again for `DOWN_MEMORY_MS` (a host refusing connections would get one per query).
    const due = !alive || until - now < PROBED_ALIVE_MS / 2;
    const failed = this.failedAt.get(host);
    if (due && !this.probing.has(host) && (failed === undefined || now - failed >= DOWN_MEMORY_MS)) {
      this.probing.add(host);
      const started = now;
      void httpJson(this.o.http.get(host)!, 'GET', '/status', undefined, this.o.timeoutMs).then((r) => {
        this.probing.delete(host);
        if (r?.status !== 200) {
          this.failedAt.set(host, this.now());
          return;
        }
        // A request that failed meanwhile knows better than a probe sent before it.
        if ((this.failedAt.get(host) ?? -Infinity) > started) return;
        this.stats.probed++;
        this.probedAlive.set(host, this.now() + PROBED_ALIVE_MS);
      });
    }
    return alive;
  }

  /** A signed POST to `host`; null when it did not answer, which is remembered for `DOWN_MEMORY_MS`. */
  private async post(host: number, path: string, body: unknown) {
    const r = await postSigned(this.o.http.get(host)!, path, body, this.o.keyring, this.o.timeoutMs);
    if (r === null) {
      this.stats.unanswered++;
      this.down.markDown(host);
      this.probedAlive.delete(host);
      this.failedAt.set(host, this.now());
    } else this.down.markUp(host);
    return r;
  }
}
