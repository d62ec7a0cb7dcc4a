import type { Rng } from '../../core/index.js';
import type { Complexity } from '../../learning/index.js';
import { type Command, type CommandResult, encodeCommand } from '../../swarm/index.js';
import type { SwarmQuery } from '../../swarm/routing/index.js';
import type { Simulator } from '../simulator.js';
import type { Invariants } from './invariants.js';
import { type Msg, sendMsg } from './messages.js';
import type { QueryOutcome } from './options.js';
import { bump } from './tally.js';
import type { SwarmTopology } from './topology.js';
import { rate } from './user.js';

interface ClientQuery {
  q: SwarmQuery;
  complexity: Complexity;
  kind: 'intra' | 'cross';
  at: number;
  done: boolean;
}

/** A command's end: its result, or null and why (TIMEOUT). */
export type CommandDone = (r: CommandResult | null, reason?: string) => void;

interface ClientCommand {
  cmd: Command;
  at: number;
  attempts: number;
  done: boolean;
  kind: 'workload' | 'register' | 'conflict';
  /** Coordinator for the first attempt (retries go to random ones). */
  firstTo?: number;
  onDone?: CommandDone;
}

/**
 * The client: sends each query to a random coordinator and rates every answer back to the agent that gave
 * it; sends each command to a coordinator and retries it on a random one every 1.5 s for 9 s. Keeps the counts
 * the report gives of both.
 */
export class SwarmClient {
  readonly node: number;
  issued = 0;
  answered = 0;
  answersWithIndex = 0;
  readonly failedBy = new Map<string, number>();
  readonly latIntra: number[] = [];
  readonly latCross: number[] = [];
  /** Activations accepted. */
  accepted = 0;
  registered = 0;
  /** Activations refused by the machine, by code. */
  readonly rejectedBy = new Map<string, number>();
  /** Activations that got no result, by reason. */
  readonly cmdFailedBy = new Map<string, number>();
  readonly byOp = new Map<string, number>();
  /** Other commands refused by the machine, by code. */
  readonly refusedByCode = new Map<string, number>();
  private readonly queries = new Map<number, ClientQuery>();
  private readonly commands = new Map<number, ClientCommand>();
  private nextQuery = 1;
  private nextCmd = 1;

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly rng: Rng,
    private readonly deadlineMs: number,
    private readonly invariants: Invariants,
    private readonly onQueryDone?: (outcome: QueryOutcome) => void,
  ) {
    this.node = sim.addNode('client', { deliver: (from, payload) => this.deliver(from, payload as Msg) });
  }

  /** Queries neither answered nor failed yet. */
  get hung(): number {
    return this.queries.size;
  }

  nextQueryId(): number {
    return this.nextQuery++;
  }

  totalFailed(): number {
    return [...this.failedBy.values()].reduce((s, x) => s + x, 0);
  }

  sendQuery(q: SwarmQuery, complexity: Complexity, kind: 'intra' | 'cross'): void {
    const { sim, deadlineMs } = this;
    this.issued++;
    const id = q.id;
    const cq: ClientQuery = { q, complexity, kind, at: sim.now, done: false };
    this.queries.set(id, cq);
    const to = this.rng.int(this.topo.C);
    sendMsg(sim, this.node, to, { k: 'query', q, complexity }, 64 + q.text.length);
    sim.after(deadlineMs, () => {
      if (cq.done) return;
      cq.done = true;
      this.queries.delete(id);
      bump(this.failedBy, 'DEADLINE');
      this.onQueryDone?.({
        query: q,
        kind,
        ok: false,
        reason: 'DEADLINE',
        latencyMs: deadlineMs,
        atMs: cq.at,
        agents: [],
        raftIndex: 0,
      });
    });
  }

  issueCommand(cmd: Command, kind: ClientCommand['kind'], onDone?: CommandDone, firstTo?: number): void {
    const id = this.nextCmd++;
    const cc: ClientCommand = { cmd, at: this.sim.now, attempts: 0, done: false, kind, onDone, firstTo };
    this.commands.set(id, cc);
    this.sendCommand(cc, id);
  }

  /** Counts a command's outcome: activations by result, the other ops by op and result. */
  recordCommand(cmd: Command, r: CommandResult | null, reason?: string): void {
    if (cmd.op === 'register_agent') {
      if (r?.ok) this.registered++;
      return;
    }
    const tag = r === null ? `failed:${reason}` : r.ok ? 'accepted' : `refused:${r.code}`;
    bump(this.byOp, `${cmd.op} ${tag}`);
    if (cmd.op !== 'activate') {
      if (r !== null && !r.ok) bump(this.refusedByCode, r.code);
      return;
    }
    if (r === null) bump(this.cmdFailedBy, reason ?? 'UNKNOWN');
    else if (r.ok) this.accepted++;
    else bump(this.rejectedBy, r.code);
  }

  private sendCommand(cc: ClientCommand, id: number): void {
    const { sim } = this;
    cc.attempts++;
    const to = cc.attempts === 1 && cc.firstTo !== undefined ? cc.firstTo : this.rng.int(this.topo.C);
    sendMsg(sim, this.node, to, { k: 'cmd', id, cmd: cc.cmd }, encodeCommand(cc.cmd).length + 16);
    const attempt = cc.attempts;
    sim.after(1500, () => {
      if (cc.done || cc.attempts !== attempt) return;
      if (sim.now - cc.at >= 9000) {
        cc.done = true;
        cc.onDone?.(null, 'TIMEOUT');
      } else this.sendCommand(cc, id);
    });
  }

  private deliver(_from: number, m: Msg): void {
    if (m.k === 'reply') this.onReply(m);
    else if (m.k === 'cmd-reply') {
      const cc = this.commands.get(m.id);
      if (cc === undefined || cc.done) return;
      if (m.result === null) return; // NO_LEADER here: the retry timer tries another coordinator
      cc.done = true;
      this.commands.delete(m.id);
      cc.onDone?.(m.result);
    }
  }

  private onReply(m: Msg & { k: 'reply' }): void {
    const cq = this.queries.get(m.id);
    if (cq === undefined || cq.done) return;
    cq.done = true;
    this.queries.delete(m.id);
    const lat = this.sim.now - cq.at;
    this.onQueryDone?.({
      query: cq.q,
      kind: cq.kind,
      ok: m.ok,
      reason: m.reason,
      latencyMs: lat,
      atMs: cq.at,
      agents: m.answers.map((a) => a.agent),
      raftIndex: m.raftIndex,
    });
    if (!m.ok) {
      bump(this.failedBy, m.reason ?? 'UNKNOWN');
      return;
    }
    this.answered++;
    (cq.kind === 'intra' ? this.latIntra : this.latCross).push(lat);
    if (m.answers.every((a) => a.raftIndex > 0)) this.answersWithIndex++;
    for (const a of m.answers) {
      if (a.raftIndex < m.raftIndex && cq.kind === 'cross')
        this.invariants.violate(
          'consistency-barrier',
          `query ${m.id}: answer at index ${a.raftIndex} below barrier ${m.raftIndex}`,
        );
      const node = this.topo.featureNode.get(a.agent.slice('agent/'.length));
      if (node === undefined) continue;
      const { rating, resolved } = rate(cq.q.type, cq.complexity, a.action);
      // The feature names which of the agent's answers was rated (it may have answered for a dead peer too).
      const fb = {
        k: 'feedback',
        queryId: m.id,
        feature: a.feature,
        rating,
        resolved,
        latencyMs: lat,
      } as const;
      sendMsg(this.sim, this.node, node, fb, 40);
    }
  }
}
