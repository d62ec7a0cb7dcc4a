import { SeededRng, summarize } from '../../core/index.js';
import { type Message, MsgType, messageSize, RawNode, type Ready, Role } from '../../raft/index.js';

export interface RaftBenchOptions {
  nodes: number;
  entries: number;
  entryBytes: number;
  /** Proposals per batch (one proposeBatch call). */
  batch: number;
}

export interface RaftBenchResult {
  entries_per_s: number;
  p50_commit_ms: number;
  p99_commit_ms: number;
  wire_bytes_per_entry: number;
}

/**
 * The core alone: N RawNodes in one process, messages handed over in memory with zero latency, no disk
 * (a Ready is "persisted" the moment it is produced). The leader proposes batches while earlier ones are
 * still replicating (pipelining); one loop iteration delivers every queued message once.
 */
export function benchRaft(o: RaftBenchOptions): RaftBenchResult {
  const voters = [...Array(o.nodes).keys()];
  const nodes = voters.map(
    (id) => new RawNode({ id, voters, rng: new SeededRng(id + 1), maxInflight: 64, maxEntriesPerMsg: 4096 }),
  );
  let queue: Message[] = [];
  const appliedAt = new Float64Array(o.nodes);
  let appBytes = 0;
  let appEntries = 0;
  const handle = (n: RawNode, i: number) => {
    while (n.hasReady()) {
      const rd: Ready = n.ready();
      for (const m of rd.messages) {
        if (m.type === MsgType.App && m.entries.length > 0) {
          appBytes += messageSize(m);
          appEntries += m.entries.length;
        }
        queue.push(m);
      }
      if (rd.committedEntries.length > 0)
        appliedAt[i] = rd.committedEntries[rd.committedEntries.length - 1].index;
      n.advance(rd);
      const r = n.raft;
      if (r.log.applied - (r.snapshot?.meta.index ?? 0) >= 10_000) n.compact(r.log.applied, EMPTY, 1000);
    }
  };
  const pump = () => {
    const q = queue;
    queue = [];
    for (const m of q) nodes[m.to].step(m);
    for (let i = 0; i < nodes.length; i++) handle(nodes[i], i);
  };
  nodes[0].campaign();
  for (let i = 0; i < 50 && nodes[0].raft.role !== Role.Leader; i++) {
    handle(nodes[0], 0);
    pump();
  }
  for (let i = 0; i < 10; i++) pump();
  const leader = nodes[0];
  const payloads = Array.from({ length: 1024 }, (_, i) => new Uint8Array(o.entryBytes).fill(i & 0xff));
  const batchData: Uint8Array[] = new Array(o.batch);
  const pendingBatches: Array<{ last: number; at: number }> = [];
  const latencies: number[] = [];
  let proposed = 0;
  let k = 0;
  const startIndex = leader.raft.log.lastIndex();
  const target = startIndex + o.entries;
  const t0 = performance.now();
  while (appliedAt[0] < target) {
    if (proposed < o.entries && pendingBatches.length < 8) {
      const n = Math.min(o.batch, o.entries - proposed);
      for (let i = 0; i < n; i++) batchData[i] = payloads[k++ & 1023];
      leader.proposeBatch(n === o.batch ? batchData : batchData.slice(0, n));
      proposed += n;
      pendingBatches.push({ last: leader.raft.log.lastIndex(), at: performance.now() });
    }
    handle(leader, 0);
    pump();
    const now = performance.now();
    while (pendingBatches.length > 0 && pendingBatches[0].last <= leader.raft.log.committed) {
      latencies.push(now - pendingBatches.shift()!.at);
    }
  }
  const wall = (performance.now() - t0) / 1000;
  const s = summarize(latencies, 3);
  return {
    entries_per_s: Math.round(o.entries / wall),
    p50_commit_ms: s.p50,
    p99_commit_ms: s.p99,
    wire_bytes_per_entry: appEntries > 0 ? Math.round((appBytes / appEntries) * 10) / 10 : 0,
  };
}

const EMPTY = new Uint8Array(0);
