import { ElexError } from '../../src/core/index.js';
import { ConfChangeType, encodeKv, KvOp, ROLE_NAMES } from '../../src/raft/index.js';
import { RaftCluster } from '../../src/sim/raft/cluster.js';

/**
 * The scripted-scenario interpreter (etcd's datadriven style): a file is a sequence of blocks
 *
 *     command args...
 *     ----
 *     expected output
 *
 * separated by blank lines. Each command drives a simulated cluster; its output is compared verbatim.
 * Run with REWRITE=1 to regenerate the expected outputs (then review the diff).
 */
export interface Block {
  cmd: string;
  expected: string;
}

export function parseScript(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const cmd = line;
    i++;
    if (lines[i]?.trim() !== '----') throw new Error(`expected ---- after '${cmd}' (line ${i})`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i].trim() !== '') out.push(lines[i++]);
    blocks.push({ cmd, expected: out.join('\n') });
  }
  return blocks;
}

export function formatScript(blocks: Array<{ cmd: string; expected: string }>, header: string): string {
  return `${header}${blocks.map((b) => `${b.cmd}\n----\n${b.expected}\n`).join('\n')}`;
}

const ms = (s: string): number => {
  const m = /^(\d+)(ms|s)$/.exec(s);
  if (!m) throw new Error(`bad duration ${s}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
};

const parseNode = (s: string): number => {
  if (!/^n\d+$/.test(s)) throw new Error(`bad node ${s}`);
  return Number(s.slice(1));
};

export class ScriptRunner {
  cluster: RaftCluster | null = null;
  private seq = 0;
  private baseElections = 0;

  /** `nK`, or `leader` for the current leader (the output then names it). */
  private resolved = '';
  private nodeId(s: string): number {
    if (s !== 'leader') return parseNode(s);
    const l = this.c.leader();
    if (l === null) throw new Error('no leader to resolve');
    this.resolved = ` (leader was n${l.id})`;
    return l.id;
  }

  private get c(): RaftCluster {
    if (this.cluster === null) throw new Error('no cluster: start with `cluster nodes=N`');
    return this.cluster;
  }

  run(cmd: string): string {
    this.resolved = '';
    const out = this.exec(cmd);
    return this.resolved ? `${out}${this.resolved}` : out;
  }

  private exec(cmd: string): string {
    const [verb, ...args] = cmd.split(/\s+/);
    const kv = new Map(args.filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]));
    const pos = args.filter((a) => !a.includes('='));
    switch (verb) {
      case 'cluster': {
        const n = Number(kv.get('nodes') ?? 3);
        const pv = kv.get('prevote') !== 'false';
        this.cluster = new RaftCluster({
          seed: Number(kv.get('seed') ?? 1),
          nodes: n,
          raft: { preVote: pv, checkQuorum: pv },
          snapshotEvery: Number(kv.get('snapshot-every') ?? 10_000),
          snapshotKeep: Number(kv.get('snapshot-keep') ?? 5),
        });
        const ok = this.c.sim.runUntilTrue(() => this.c.stableLeader() !== null, 5000);
        return ok ? this.leaderLine() : 'no leader';
      }
      case 'run':
        this.c.sim.runFor(ms(pos[0]));
        return 'ok';
      case 'status':
        return this.c.nodes
          .map((n) => {
            const r = n.raft;
            if (r === null) return `n${n.id} down`;
            return `n${n.id} ${ROLE_NAMES[r.role]} term=${r.term} lead=${r.lead < 0 ? '-' : `n${r.lead}`} commit=${r.log.committed} applied=${r.log.applied} voters=[${r.conf.voters.join(',')}] learners=[${r.conf.learners.join(',')}]`;
          })
          .join('\n');
      case 'leader':
        return this.leaderLine();
      case 'wait-leader': {
        const ok = this.c.sim.runUntilTrue(() => this.c.stableLeader() !== null, ms(pos[0] ?? '3s'));
        return ok ? this.leaderLine() : 'no leader';
      }
      case 'elections':
        return `elections=${this.c.metrics.get('raft.elections') - this.baseElections}`;
      case 'reset-counters':
        this.baseElections = this.c.metrics.get('raft.elections');
        return 'ok';
      case 'put':
      case 'cas':
      case 'delete':
        return this.write(verb, pos, kv);
      case 'get':
        return this.read(pos[0], kv.get('via'), ms(kv.get('timeout') ?? '1s'));
      case 'crash':
        this.c.sim.crash(this.nodeId(pos[0]));
        return 'ok';
      case 'restart':
        this.c.sim.restart(this.nodeId(pos[0]));
        return 'ok';
      case 'crash-leader': {
        const l = this.c.leader();
        if (l === null) return 'no leader';
        this.c.sim.crash(l.id);
        return `crashed n${l.id}`;
      }
      case 'crash-all':
        for (const n of this.c.nodes) this.c.sim.crash(n.id);
        return 'ok';
      case 'restart-all':
        for (const n of this.c.nodes) this.c.sim.restart(n.id);
        return 'ok';
      case 'isolate': {
        const v = this.nodeId(pos[0]);
        const others = this.c.nodes.map((n) => n.id).filter((i) => i !== v);
        this.c.sim.partition({ kind: 'symmetric', sides: [[v], others] });
        return 'ok';
      }
      case 'heal':
        this.c.sim.heal();
        return 'ok';
      case 'stall':
        this.c.sim.disk(this.nodeId(pos[0])).stall(ms(pos[1]));
        return 'ok';
      case 'transfer': {
        const l = this.c.leader();
        if (l === null) return 'no leader';
        const to = this.nodeId(pos[0]);
        l.rn!.transferLeadership(to);
        l.guard(() => {});
        this.c.sim.runUntilTrue(() => this.c.stableLeader()?.id === to, 1000);
        return this.leaderLine();
      }
      case 'add-learner':
      case 'add-voter':
      case 'remove':
        return this.confChange(verb, this.nodeId(pos[0]));
      case 'snapshots':
        return this.c.nodes
          .map((n) => `n${n.id} taken=${n.snapshotsTaken} snap-index=${n.raft?.snapshot?.meta.index ?? 0}`)
          .join('\n')
          .concat(`\ninstalled=${this.c.metrics.get('raft.snapshots_installed')}`);
      case 'check': {
        const v = this.c.checker.violations;
        return v.length === 0 ? 'violations: 0' : v.map((x) => `${x.invariant}: ${x.detail}`).join('\n');
      }
      default:
        throw new Error(`unknown command ${verb}`);
    }
  }

  private leaderLine(): string {
    const l = this.c.stableLeader();
    return l === null ? 'no leader' : `leader n${l.id} term=${l.raft!.term}`;
  }

  private target(via: string | undefined): number {
    if (via !== undefined) return parseNode(via);
    return this.c.leader()?.id ?? 0;
  }

  private write(verb: string, pos: string[], kv: Map<string, string>): string {
    const t = this.target(kv.get('via'));
    // Each scripted write is sent once, so it needs no session: client 0, with seq only naming its answer.
    const seq = ++this.seq;
    const key = pos[0];
    const cmd =
      verb === 'put'
        ? encodeKv({ op: KvOp.Put, client: 0, seq, key, value: pos[1] })
        : verb === 'delete'
          ? encodeKv({ op: KvOp.Delete, client: 0, seq, key })
          : encodeKv({
              op: KvOp.Cas,
              client: 0,
              seq,
              key,
              expected: pos[1] === '-' ? null : pos[1],
              value: pos[2],
            });
    let out: string | null = null;
    const node = this.c.nodes[t];
    if (!node.up) return `n${t} is down`;
    node.clientWrite(cmd, (r) => {
      out = r === null ? 'dropped' : `${r.ok ? 'ok' : 'failed'} prev=${r.value ?? '-'}`;
    });
    this.c.sim.runUntilTrue(() => out !== null, ms(kv.get('timeout') ?? '1s'));
    return out ?? 'timeout';
  }

  private read(key: string, via: string | undefined, timeout: number): string {
    const t = this.target(via);
    const node = this.c.nodes[t];
    if (!node.up) return `n${t} is down`;
    let out: string | null = null;
    node.clientRead(
      key,
      (v) => {
        out = `${key}=${v ?? '-'}`;
      },
      () => {
        out = 'dropped';
      },
    );
    this.c.sim.runUntilTrue(() => out !== null, timeout);
    return out ?? 'timeout';
  }

  private confChange(verb: string, node: number): string {
    const l = this.c.stableLeader();
    if (l === null) return 'no leader';
    const type =
      verb === 'add-voter'
        ? ConfChangeType.AddVoter
        : verb === 'add-learner'
          ? ConfChangeType.AddLearner
          : ConfChangeType.Remove;
    try {
      l.rn!.proposeConfChange({ type, node });
      l.guard(() => {});
    } catch (e) {
      if (e instanceof ElexError) return `error ${e.code}: ${e.message}`;
      throw e;
    }
    const target = l.raft!.log.lastIndex();
    this.c.sim.runUntilTrue(
      () => this.c.nodes.every((n) => !n.up || (n.raft?.log.applied ?? 0) >= target),
      2000,
    );
    this.c.sim.runFor(10);
    const r = l.raft!;
    return `applied at ${target}: voters=[${r.conf.voters.join(',')}] learners=[${r.conf.learners.join(',')}]`;
  }
}
