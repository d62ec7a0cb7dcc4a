import { ElexError, percentile } from '../../core/index.js';
import type { GossipConfig, GossipEvent } from '../../gossip/index.js';
import { GossipCluster } from './cluster.js';

export interface CommonOptions {
  members: number;
  seed: number;
  config?: Partial<GossipConfig>;
  onProgress?: (done: number, total: number) => void;
}

/** Boots every member (joining through the seeds) and runs until the cluster has converged. */
export function formCluster(o: CommonOptions & { loss?: number }): {
  cluster: GossipCluster;
  formedMs: number;
} {
  const cluster = new GossipCluster({
    members: o.members,
    seed: o.seed,
    config: o.config,
    loss: o.loss ?? 0,
  });
  cluster.bootAll();
  const t = cluster.runUntil(() => cluster.converged(), 180_000, 250);
  if (t === null) throw new ElexError('E_SIM', `cluster of ${o.members} did not converge within 180 s`);
  return { cluster, formedMs: t };
}

/**
 * Global invariant checks fed by every member's events:
 * - a resurrection is a member that has seen X dead or left at (gen, inc) later seeing X alive or suspect at
 *   (gen, <= inc): a dead incarnation came back in its view (tombstones forgotten by GC included, since the
 *   record here outlives them). Members on the other side of a partition that never saw the death are not
 *   resurrecting anything, and neither is an observer restarted since it saw the death (a new generation, a
 *   process that remembers nothing): what a member has seen is kept per observer generation;
 * - a false death is a distinct (X, gen, inc) seen dead while X was running that generation.
 */
export class LivenessChecker {
  resurrections = 0;
  falseDeaths = 0;
  deaths = 0;
  suspicions = 0;
  /** Events that showed a member at a lower (gen, inc) than the same observer life showed before (invariant 3). */
  regressions = 0;
  private readonly terminalAt = new Map<string, { gen: number; inc: number }>();
  private readonly lastSeen = new Map<string, { gen: number; inc: number }>();
  private readonly seenDead = new Set<string>();
  private readonly seenSuspect = new Set<string>();

  constructor(private readonly cluster: GossipCluster) {}

  onEvent(observer: number, e: GossipEvent): void {
    if (e.kind !== 'member') return;
    const key = `${e.name}/${e.gen}/${e.inc}`;
    const seenBy = `${observer}/${this.cluster.nodes[observer]?.generation ?? 0}|${e.name}`;
    const last = this.lastSeen.get(seenBy);
    if (last && (e.gen < last.gen || (e.gen === last.gen && e.inc < last.inc))) this.regressions++;
    else this.lastSeen.set(seenBy, { gen: e.gen, inc: e.inc });
    if (e.status === 'dead' || e.status === 'left') {
      const t = this.terminalAt.get(seenBy);
      if (!t || e.gen > t.gen || (e.gen === t.gen && e.inc > t.inc))
        this.terminalAt.set(seenBy, { gen: e.gen, inc: e.inc });
      if (e.status === 'dead' && !this.seenDead.has(key)) {
        this.seenDead.add(key);
        this.deaths++;
        const i = this.cluster.indexOf(e.name);
        const n = this.cluster.nodes[i];
        if (n && this.cluster.isRunning(i) && n.generation === e.gen) this.falseDeaths++;
      }
    } else if (e.status === 'alive' || e.status === 'suspect') {
      if (e.status === 'suspect' && !this.seenSuspect.has(key)) {
        this.seenSuspect.add(key);
        this.suspicions++;
      }
      const t = this.terminalAt.get(seenBy);
      if (t && (e.gen < t.gen || (e.gen === t.gen && e.inc <= t.inc))) this.resurrections++;
    }
  }
}

export function rounds(ms: number, intervalMs: number): number {
  return Math.max(1, Math.ceil(ms / intervalMs));
}

/** Order statistics of trials, `null` where the rank falls on a trial that never reached the end event. */
export interface TrialSummary {
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * Nearest-rank p50 / p99 / max over every trial: the `measured` ones and `notReached` that hit the time limit
 * first. Those rank above every measured value (their time is unknown but longer), so a percentile that falls
 * on them, and the max if there is one, is `null` instead of being taken over the completed trials alone.
 */
export function summaryOfTrials(measured: readonly number[], notReached: number): TrialSummary {
  const s = [...measured].sort((a, b) => a - b);
  for (let i = 0; i < notReached; i++) s.push(Number.POSITIVE_INFINITY);
  const at = (x: number): number | null => (Number.isFinite(x) ? Number(x.toFixed(1)) : null);
  if (s.length === 0) return { p50: 0, p99: 0, max: 0 };
  return { p50: at(percentile(s, 50)), p99: at(percentile(s, 99)), max: at(s[s.length - 1]) };
}

/** Traffic since `from` (a previous accounting summary), per member and second. */
export function traffic(
  cluster: GossipCluster,
  from: { messages: number; bytes: number },
  members: number,
  durationMs: number,
): { bytes_per_member_per_s: number; messages_per_member_per_s: number } {
  const a = cluster.sim.accounting.summary();
  const s = durationMs / 1000;
  return {
    bytes_per_member_per_s: Number(((a.bytes - from.bytes) / members / s).toFixed(1)),
    messages_per_member_per_s: Number(((a.messages - from.messages) / members / s).toFixed(2)),
  };
}

/** Bytes and messages per second and member, by message kind, since `from`. */
export function trafficByKind(
  cluster: GossipCluster,
  from: Record<string, { messages: number; bytes: number }>,
  members: number,
  durationMs: number,
): Record<string, { bytes_per_member_per_s: number; messages_per_member_per_s: number }> {
  const now = cluster.sim.accounting.summary().by_type;
  const out: Record<string, { bytes_per_member_per_s: number; messages_per_member_per_s: number }> = {};
  const s = durationMs / 1000;
  for (const k of Object.keys(now)) {
    const b = now[k].bytes - (from[k]?.bytes ?? 0);
    const m = now[k].messages - (from[k]?.messages ?? 0);
    out[k] = {
      bytes_per_member_per_s: Number((b / members / s).toFixed(1)),
      messages_per_member_per_s: Number((m / members / s).toFixed(2)),
    };
  }
  return out;
}

/** DESIGN §5's Monte Carlo theory for N = 593, fanout 3, in rounds (mean / p99). */
export const THEORY = {
  push: { loss_0: { mean: 7.6, p99: 9 }, loss_10: { mean: 8.2, p99: 10 } },
  push_pull: { loss_0: { mean: 5.0, p99: 5 }, loss_10: { mean: 5.7, p99: 6 } },
} as const;
