import { percentile } from '../core/index.js';
import { httpJson } from './http-client.js';
import { KvClient, kvReadReply } from './kv-client.js';
import {
  type Kill,
  KillSchedule,
  LocalProcesses,
  type Member,
  type Reconfiguration,
  Reconfigurer,
} from './processes.js';

export interface LocalClusterOptions {
  nodes: number;
  writes: number;
  /** Writes in flight at once. */
  concurrency: number;
  /** Parent of every node's data directory. */
  dir: string;
  /** The `elex` launcher (bin/elex.js). */
  elexBin: string;
  /** SIGKILLs spread over the writes, each victim restarted before the next (`KillSchedule`). */
  kills: number;
  /** Start one spare beyond `nodes`, add it as a voter halfway and remove another voter at three quarters. */
  reconfigure?: boolean;
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
  /** Each SIGKILL, with the time to the first acknowledgement of a write issued after it. */
  kills: Kill[];
  /** Membership changes made under load (`--reconfigure`). */
  reconfigurations: Reconfiguration[];
  write_latency_ms: { p50: number; p99: number };
  /** Wall time of the write phase (kills and restarts included), and acknowledged writes per second in it. */
  workload_ms: number;
  acked_per_s: number;
  elapsed_ms: number;
  final_status: unknown[];
}

/** A linearizable read through `m`, retried; undefined when no well-formed answer came. */
async function get(m: Member, key: string): Promise<string | null | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = await httpJson(m.http, 'GET', `/kv/${encodeURIComponent(key)}`);
    const p = r !== null && (r.status === 200 || r.status === 404) ? kvReadReply.safeParse(r.body) : null;
    if (p?.success) return p.data.value;
    await new Promise((res) => setTimeout(res, 100));
  }
  return undefined;
}

/**
 * A local cluster of `elex node` processes on 127.0.0.1: waits for a leader, writes through random nodes while
 * members are SIGKILLed and restarted (`KillSchedule`) and, with `reconfigure`, the membership changes
 * (`Reconfigurer`), then reads every acknowledged write back from every member with a linearizable read.
 */
export async function runLocalCluster(o: LocalClusterOptions): Promise<LocalClusterReport> {
  const started = Date.now();
  const say = o.progress ?? (() => {});
  const voters = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const procs = o.reconfigure
    ? await LocalProcesses.start('node', o.nodes + 1, o.elexBin, o.dir, voters)
    : await LocalProcesses.start('node', o.nodes, o.elexBin, o.dir);
  const members = procs.members;
  try {
    const first = await procs.waitForLeader(10_000);
    say(`${o.nodes} nodes up; leader ${first.id} in term ${first.term}`);

    const acked = new Map<string, string>();
    const latencies: number[] = [];
    let issued = 0;
    let unacked = 0;
    const schedule = new KillSchedule(procs, o.writes, o.kills, say, () => issued);
    const reconf = o.reconfigure ? new Reconfigurer(procs, o.writes, say, () => issued) : null;

    // One client session per worker: a write that times out or loses its node is retried on the next node
    // with the same seq, and executes once (KvClient).
    const worker = async (_: unknown, w: number) => {
      const order = members.map((_, k) => members[(w + k) % members.length].http);
      const client = new KvClient({ nodes: order, deadlineMs: 10_000 });
      while (issued < o.writes) {
        const i = issued++;
        await schedule.before(i);
        await reconf?.before(i);
        const key = `k${i}`;
        const value = `v${i}`;
        const t0 = Date.now();
        const ok = await client.put(key, value).then(
          (r) => r.ok,
          () => false, // no answer within the deadline: it may still apply, so it is not counted as acked
        );
        if (ok) {
          acked.set(key, value);
          latencies.push(Date.now() - t0);
          // Recovery counts only writes issued after a kill: earlier ones may have committed before it.
          schedule.acked(t0);
        } else unacked++;
      }
    };
    const workStart = Date.now();
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const workloadMs = Date.now() - workStart;
    await schedule.settle();
    // A change the workload did not reach (the add outlasted the writes) is made now, before the reads.
    await reconf?.settle();
    say(`${acked.size} of ${o.writes} writes acknowledged; reading them back from every node`);

    let lost = 0;
    let checked = 0;
    // Every member of the final configuration holds every acknowledged write (a removed one is not asked).
    for (const m of members.filter((x) => reconf?.serves(x.id) ?? true)) {
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
      kills: schedule.kills,
      reconfigurations: reconf?.changes ?? [],
      write_latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      workload_ms: workloadMs,
      acked_per_s: Math.round((acked.size * 1000) / Math.max(1, workloadMs)),
      elapsed_ms: Date.now() - started,
      final_status: await Promise.all(members.map((m) => procs.status(m))),
    };
  } finally {
    await procs.stopAll();
  }
}
