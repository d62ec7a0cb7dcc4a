import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ElexError, percentile } from '../core/index.js';
import { formatAddress, formatCluster } from './address.js';
import type { Address } from './tcp-transport.js';

export interface LocalClusterOptions {
  nodes: number;
  writes: number;
  /** Writes in flight at once. */
  concurrency: number;
  /** Parent of every node's data directory. */
  dir: string;
  /** The `elex` launcher (bin/elex.js). */
  elexBin: string;
  /** Kill the leader with SIGKILL after a third of the writes and restart it after two thirds. */
  killLeader: boolean;
  progress?: (line: string) => void;
}

export interface LocalClusterReport {
  nodes: number;
  writes: number;
  acked: number;
  /** Writes that timed out or found no leader: they may or may not have applied; not counted as lost. */
  unacked: number;
  /** Acknowledged writes a node's linearizable read did not return (must be 0). */
  lost_acked_writes: number;
  /** Reads of an acknowledged key checked, over all nodes. */
  reads_checked: number;
  killed: { node: number; term: number; at_write: number } | null;
  /** From the SIGKILL to the first acknowledgement of a write issued after it. */
  recovery_ms: number | null;
  write_latency_ms: { p50: number; p99: number };
  elapsed_ms: number;
  final_status: unknown[];
}

interface Member {
  id: number;
  raft: Address;
  http: Address;
  proc: ChildProcess | null;
}

/** Ports the OS says are free now (a tiny race before the nodes bind them; fine for a local run). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function startNode(o: LocalClusterOptions, m: Member, cluster: string): Promise<ChildProcess> {
  // The young-generation flag up front makes the launcher run the node in this child, not in a grandchild:
  // a SIGKILL must reach the process that holds the Raft state.
  const args = ['--max-semi-space-size=64', o.elexBin, 'node', '--id', String(m.id), '--cluster', cluster];
  args.push('--http', formatAddress(m.http), '--data-dir', join(o.dir, `n${m.id}`));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new ElexError('E_CLUSTER', `node ${m.id} did not start within 30 s: ${err.trim()}`));
    }, 30_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new ElexError(
          'E_CLUSTER',
          `node ${m.id} exited (${signal ?? code}) before it was ready: ${err.trim()}`,
        ),
      );
    });
  });
}

interface Status {
  id: number;
  role: string;
  term: number;
  leader: number;
}

async function status(m: Member): Promise<Status | null> {
  try {
    const r = await fetch(`http://${formatAddress(m.http)}/status`, { signal: AbortSignal.timeout(1000) });
    return (await r.json()) as Status;
  } catch {
    return null;
  }
}

async function waitForLeader(members: Member[], timeoutMs: number): Promise<Status> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const all = await Promise.all(members.filter((m) => m.proc !== null).map(status));
    const leader = all.find((s) => s?.role === 'leader');
    if (leader) return leader;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ElexError('E_CLUSTER', `no leader within ${timeoutMs} ms`);
}

/**
 * One write through a node's HTTP API: true once acknowledged (applied on that node). A 503 (no leader known,
 * nothing proposed) is retried for up to 5 s, as a client would; a timeout or a dropped connection is not,
 * since the write may have applied.
 */
async function put(m: Member, key: string, value: string): Promise<boolean> {
  const until = Date.now() + 5000;
  try {
    for (;;) {
      const r = await fetch(`http://${formatAddress(m.http)}/kv/${encodeURIComponent(key)}`, {
        method: 'PUT',
        body: value,
        signal: AbortSignal.timeout(6000),
      });
      await r.text();
      if (r.status !== 503 || Date.now() > until) return r.status === 200;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } catch {
    return false;
  }
}

async function get(m: Member, key: string): Promise<string | null | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const r = await fetch(`http://${formatAddress(m.http)}/kv/${encodeURIComponent(key)}`, {
        signal: AbortSignal.timeout(6000),
      });
      const body = (await r.json()) as { value?: string | null };
      if (r.status === 200 || r.status === 404) return body.value ?? null;
    } catch {
      // retried below
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/**
 * A local cluster of `elex node` processes on 127.0.0.1: waits for a leader, writes through random nodes,
 * SIGKILLs the leader a third of the way in and restarts it from its data directory two thirds in, then
 * reads every acknowledged write back from every node with a linearizable read.
 */
export async function runLocalCluster(o: LocalClusterOptions): Promise<LocalClusterReport> {
  const started = Date.now();
  const say = o.progress ?? (() => {});
  mkdirSync(o.dir, { recursive: true });
  const ports = await freePorts(2 * o.nodes);
  const members: Member[] = Array.from({ length: o.nodes }, (_, i) => ({
    id: i + 1,
    raft: { host: '127.0.0.1', port: ports[2 * i] },
    http: { host: '127.0.0.1', port: ports[2 * i + 1] },
    proc: null,
  }));
  const cluster = formatCluster(new Map(members.map((m) => [m.id, m.raft])));
  try {
    await Promise.all(
      members.map(async (m) => {
        m.proc = await startNode(o, m, cluster);
      }),
    );
    const first = await waitForLeader(members, 10_000);
    say(`${o.nodes} nodes up; leader ${first.id} in term ${first.term}`);

    const acked = new Map<string, string>();
    const latencies: number[] = [];
    let issued = 0;
    let unacked = 0;
    let killed: LocalClusterReport['killed'] = null;
    let killedAt = 0;
    let recoveryMs: number | null = null;
    let restarting: Promise<void> | null = null;
    const live = () => members.filter((m) => m.proc !== null);

    const worker = async () => {
      while (issued < o.writes) {
        const i = issued++;
        if (o.killLeader && killed === null && i === Math.floor(o.writes / 3)) {
          const leader = await waitForLeader(members, 10_000);
          const victim = members.find((m) => m.id === leader.id)!;
          victim.proc!.kill('SIGKILL');
          victim.proc = null;
          killed = { node: victim.id, term: leader.term, at_write: i };
          killedAt = Date.now();
          say(`SIGKILL to leader ${victim.id} (term ${leader.term}) at write ${i}`);
        }
        if (killed !== null && restarting === null && i === Math.floor((2 * o.writes) / 3)) {
          const victim = members.find((m) => m.id === killed!.node)!;
          restarting = startNode(o, victim, cluster).then((p) => {
            victim.proc = p;
            say(`node ${victim.id} restarted from its data directory`);
          });
        }
        const key = `k${i}`;
        const value = `v${i}`;
        const nodes = live();
        const t0 = Date.now();
        if (await put(nodes[i % nodes.length], key, value)) {
          acked.set(key, value);
          latencies.push(Date.now() - t0);
          // Recovery counts only writes issued after the kill: earlier ones may have committed before it.
          if (killed !== null && recoveryMs === null && t0 > killedAt) recoveryMs = Date.now() - killedAt;
        } else unacked++;
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    if (restarting !== null) await restarting;
    say(`${acked.size} of ${o.writes} writes acknowledged; reading them back from every node`);

    let lost = 0;
    let checked = 0;
    for (const m of members) {
      const keys = [...acked.keys()];
      for (let i = 0; i < keys.length; i += 16) {
        const batch = keys.slice(i, i + 16);
        const values = await Promise.all(batch.map((k) => get(m, k)));
        batch.forEach((k, j) => {
          checked++;
          if (values[j] !== acked.get(k)) lost++;
        });
      }
    }
    latencies.sort((a, b) => a - b);
    return {
      nodes: o.nodes,
      writes: o.writes,
      acked: acked.size,
      unacked,
      lost_acked_writes: lost,
      reads_checked: checked,
      killed,
      recovery_ms: recoveryMs,
      write_latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      elapsed_ms: Date.now() - started,
      final_status: await Promise.all(members.map(status)),
    };
  } finally {
    await Promise.all(
      members.map(
        (m) =>
          new Promise<void>((resolve) => {
            const p = m.proc;
            if (p === null || p.exitCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
          }),
      ),
    );
  }
}
