/**
 * The hosted feature agents' learning on disk, so a coordinator restart resumes it instead of starting every
 * agent empty. One JSON file in the coordinator's data directory, replaced atomically (`writeFileDurably`):
 * a crash leaves the previous save or the new one. Saved every `intervalMs` when anything changed, and when
 * the coordinator stops. What the store cannot read stops the start-up with E_DECODE instead of being
 * overwritten by empty agents.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ElexError, isElexError } from '../core/index.js';
import { type AgentSnapshot, agentSnapshotSchema, type FeatureAgent } from '../swarm/agent/index.js';
import { writeFileDurably } from './durable-file.js';

export const AGENTS_FILE = 'agents.json';
/** The standby agents' file (`QueryService`'s `standbyAgentsFile`), beside the hosted agents'. */
export const STANDBY_AGENTS_FILE = 'standby-agents.json';
export const AGENTS_FORMAT = 'elex-agents/1';

const fileSchema = z.strictObject({
  format: z.literal(AGENTS_FORMAT),
  agents: z.array(agentSnapshotSchema).max(100_000),
  /** The standby returns' next sequence number per standby epoch (`ReturnNumbers`), saved with what they taught. */
  returns: z
    .record(z.string().regex(/^[0-9a-f]{1,64}$/), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
    .refine((r) => Object.keys(r).length <= 64, 'more than 64 epochs')
    .optional(),
});

/**
 * The primary side of `StandbyReturn`: the next sequence number it expects of each standby epoch. Kept in the
 * same file as the agents those experiences taught, written in one atomic replacement, so after a crash the two
 * agree: a resend is skipped exactly when its learning survived.
 */
export interface ReturnNumbers {
  /** Changes whenever the numbers do (a save is due). */
  readonly numbersRevision: number;
  numbers(): Record<string, number>;
  restoreNumbers(n: Record<string, number>): void;
}

export interface AgentStoreStats {
  /** Agents restored at start-up, and snapshots kept for agents another coordinator hosts now. */
  restored: number;
  carried: number;
  saves: number;
  saveFailures: number;
  /** The last failed save's reason (a full disk, a permission), null after a good one. */
  lastSaveError: string | null;
  /** The file's size as last loaded or saved. */
  bytes: number;
}

export class AgentStore {
  readonly stats: AgentStoreStats = {
    restored: 0,
    carried: 0,
    saves: 0,
    saveFailures: 0,
    lastSaveError: null,
    bytes: 0,
  };
  /** Snapshots of agents not hosted here (the category moved to another coordinator): written back as read. */
  private carried: AgentSnapshot[] = [];
  private savedRevision = -1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    private readonly agents: ReadonlyMap<string, FeatureAgent>,
    private readonly intervalMs: number,
    private readonly returns?: ReturnNumbers,
  ) {}

  /** Restores every hosted agent the file has; no file is a first start. E_DECODE on a file it cannot use. */
  load(): void {
    if (!existsSync(this.path)) return;
    let raw: unknown;
    try {
      const text = readFileSync(this.path, 'utf8');
      this.stats.bytes = Buffer.byteLength(text);
      raw = JSON.parse(text);
    } catch (e) {
      this.refuse(`not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const p = fileSchema.safeParse(raw);
    if (!p.success) this.refuse(`not an agents file: ${z.prettifyError(p.error).split('\n')[0]}`);
    const seen = new Set<string>();
    for (const s of p.data.agents) {
      if (seen.has(s.feature)) this.refuse(`the agent of ${s.feature} appears twice`);
      seen.add(s.feature);
      const agent = this.agents.get(s.feature);
      if (agent === undefined) {
        this.carried.push(s);
        continue;
      }
      try {
        agent.restore(s);
      } catch (e) {
        this.refuse(isElexError(e) ? e.message : String(e));
      }
      this.stats.restored++;
    }
    this.stats.carried = this.carried.length;
    if (p.data.returns !== undefined) this.returns?.restoreNumbers(p.data.returns);
    this.savedRevision = this.revision();
  }

  private refuse(why: string): never {
    throw new ElexError(
      'E_DECODE',
      `${this.path}: ${why}; move it aside to start the hosted agents without their learning`,
    );
  }

  /** Writes the file when anything changed since the last save; false when nothing needed writing. */
  save(): boolean {
    const revision = this.revision();
    if (revision === this.savedRevision) return false;
    const agents = [...[...this.agents.values()].map((a) => a.snapshot()), ...this.carried];
    const text = JSON.stringify({ format: AGENTS_FORMAT, agents, returns: this.returns?.numbers() });
    try {
      writeFileDurably(this.path, text);
    } catch (e) {
      this.stats.saveFailures++;
      this.stats.lastSaveError = e instanceof Error ? e.message : String(e);
      return false;
    }
    this.savedRevision = revision;
    this.stats.saves++;
    this.stats.lastSaveError = null;
    this.stats.bytes = Buffer.byteLength(text);
    return true;
  }

  /** Saves every `intervalMs` (0: only at `stop`); the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== null || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.save(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and saves what changed since the last save. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.save();
  }

  private revision(): number {
    let r = this.returns?.numbersRevision ?? 0;
    for (const a of this.agents.values()) r += a.revision;
    return r;
  }
}
