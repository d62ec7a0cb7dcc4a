import type { Command } from 'commander';
import { median, SeededRng } from '../../core/index.js';
import {
  DEFAULT_RULE,
  type Delta,
  decodeDelta,
  ENVELOPE,
  emptyDelta,
  encodeDelta,
  envelope,
  identityFromRng,
  MapKeyring,
  MergeWorkspace,
  mergeDeltasIntoTable,
  mergeVisitWeightedInto,
  QTable,
  qBounds,
  REWARD_MAX,
  REWARD_MIN,
  ruleByName,
  signBytes,
  verifyBytes,
} from '../../learning/index.js';
import { sharedSlotOrderScratch } from '../../learning/slot-order.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';

/** ELEX-like keys: random 55-bit context hashes, all 5 actions per state. */
function keys(n: number, seed: number): { hi: Uint32Array; lo: Uint32Array; action: Uint8Array } {
  const rng = new SeededRng(seed);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const action = new Uint8Array(n);
  for (let i = 0; i < n; i += 5) {
    const h = rng.u32();
    const l = ((rng.u32() << 9) | (rng.int(6) | (rng.int(3) << 3) | (rng.int(16) << 5))) >>> 0;
    for (let a = 0; a < 5 && i + a < n; a++) {
      hi[i + a] = h;
      lo[i + a] = l;
      action[i + a] = a;
    }
  }
  return { hi, lo, action };
}

function table(n: number, seed: number): QTable {
  const k = keys(n, seed);
  const t = new QTable(n);
  for (let i = 0; i < n; i++) t.write(t.slot(k.hi[i], k.lo[i], k.action[i]), (i % 100) / 100, 1 + (i % 7));
  return t;
}

function delta(n: number, seed: number, fromTable?: QTable): Delta {
  const d = emptyDelta('peer', 'bench-a', n);
  const k = fromTable ? null : keys(n, seed);
  for (let i = 0; i < n; i++) {
    d.hi[i] = fromTable ? fromTable.hi[i] : k!.hi[i];
    d.lo[i] = fromTable ? fromTable.lo[i] : k!.lo[i];
    d.action[i] = fromTable ? fromTable.action[i] : k!.action[i];
    d.q[i] = ((i * 7) % 100) / 100;
    d.visits[i] = 3;
    d.fresh[i] = 1;
  }
  d.interactions = n;
  return d;
}

/** Shuffles a delta's keys (values stay by position) with a seeded Fisher–Yates. */
function shuffleKeys(d: Delta, seed: number): void {
  const order = new SeededRng(seed);
  for (let i = d.count - 1; i > 0; i--) {
    const j = order.int(i + 1);
    for (const col of [d.hi, d.lo, d.action] as const) {
      const x = col[i];
      col[i] = col[j];
      col[j] = x;
    }
  }
}

/** Runs `warmup` untimed repetitions (JIT), then `reps` timed ones; `setup` before each is not timed. */
function timeIt(reps: number, setup: () => void, body: () => void, warmup = 0, cpu?: number[]): number[] {
  for (let i = 0; i < warmup; i++) {
    setup();
    body();
  }
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    setup();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    body();
    out.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu?.push((c.user + c.system) / 1000);
  }
  return out;
}

function rate(n: number, body: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) body(i);
  return Math.round(n / ((performance.now() - t0) / 1000));
}

export function runFederationBench(o: { repeat: number }) {
  const r3 = (x: number) => Number(x.toFixed(3));
  // 10k delta (half updates of existing entries, half new keys, in a random order) into a 100k table.
  const base100k = table(100_000, 1);
  const d10k = delta(10_000, 2);
  for (let i = 0; i < 5000; i++) {
    d10k.hi[i] = base100k.hi[i * 3];
    d10k.lo[i] = base100k.lo[i * 3];
    d10k.action[i] = base100k.action[i * 3];
  }
  shuffleKeys(d10k, 12);
  let work = base100k.clone();
  const plain10k = timeIt(
    o.repeat,
    () => {
      work = base100k.clone();
    },
    () => mergeVisitWeightedInto(work, d10k),
  );
  const ws = new MergeWorkspace();
  const bounds = qBounds(REWARD_MIN, REWARD_MAX, 0.95);
  const robust = {
    rule: ruleByName(DEFAULT_RULE),
    params: { beta: 0.3, f: 1, clipRadius: 0.1, bounds },
    weighting: { kind: 'fresh' as const, cap: 10, anchor: 10 },
    tolerance: 0.05,
  };
  const robust10k = timeIt(
    o.repeat,
    () => {
      work = base100k.clone();
    },
    () => mergeDeltasIntoTable(work, [d10k], robust, ws),
  );
  // 1M into 1M: every key of the table, in a random order (the headline), then in the table's own order.
  const base1m = table(1_000_000, 3);
  const d1mShuffled = delta(1_000_000, 0, base1m);
  shuffleKeys(d1mShuffled, 11);
  const shuffledCpu1m: number[] = [];
  const shuffled1m = timeIt(
    o.repeat,
    () => {
      work = base1m.clone();
    },
    () => mergeVisitWeightedInto(work, d1mShuffled),
    2,
    shuffledCpu1m,
  );
  const d1m = delta(1_000_000, 0, base1m);
  const inOrder1m = timeIt(
    o.repeat,
    () => {
      work = base1m.clone();
    },
    () => mergeVisitWeightedInto(work, d1m),
  );
  const bytesPerEntry = base1m.bytesInMemory() / base1m.size;
  // Wire sizes.
  const id = identityFromRng('bench-a', new SeededRng(9));
  const ring = new MapKeyring().add('bench-a', id.publicKey);
  const d10 = delta(10, 4);
  d10.term = 3;
  d10.round = 120;
  // A member in its 3rd life, a year into it at one delta a minute: the header's numbers as they will be.
  d10.epoch = 3;
  d10.seq = 525_600;
  // As `FederatedQTable.send` puts them on the network: addressed to a peer, behind the envelope byte.
  const asSent = (d: ReturnType<typeof delta>) =>
    envelope(ENVELOPE.delta, encodeDelta({ ...d, to: 'bench-b' }, id));
  const bytes10 = encodeDelta(d10, id);
  const sent10 = asSent(d10);
  const full10k = asSent(delta(10_000, 5));
  // Throughput on the 10-interaction delta.
  const encodePerS = rate(5000, () => encodeDelta(d10, id));
  const decodePerS = rate(5000, () => decodeDelta(bytes10, ring));
  const msg = bytes10.subarray(0, bytes10.length - 64);
  const sig = signBytes(id, msg);
  const signPerS = rate(5000, () => signBytes(id, msg));
  const verifyPerS = rate(5000, () => verifyBytes(id.publicKey, msg, sig));
  return {
    merge_delta_10k_into_100k_ms: r3(median(plain10k)),
    merge_delta_10k_into_100k_robust_ms: r3(median(robust10k)),
    merge_1m_into_1m_ms: r3(median(shuffled1m)),
    merge_1m_into_1m_cpu_ms: r3(median(shuffledCpu1m)),
    merge_1m_into_1m_in_order_ms: r3(median(inOrder1m)),
    merge_scratch_bytes: sharedSlotOrderScratch.bytesInMemory(),
    bytes_sync_10_interactions: sent10.length,
    bytes_full_10k: full10k.length,
    bytes_per_entry_in_memory: r3(bytesPerEntry),
    table_1m_bytes: base1m.bytesInMemory(),
    encode_per_s: encodePerS,
    decode_per_s: decodePerS,
    sign_per_s: signPerS,
    verify_per_s: verifyPerS,
    notes: {
      bytes: 'each delta as sent: signed, addressed to a 7-byte member id, behind the 1-byte envelope',
      merge:
        'visit-weighted hot path (ADR-115 formula, the library function mergeVisitWeightedInto; FederatedQTable and the swarm agents merge through the report-set path, under the plain rule too); robust = default rule through the report-set path. 10k into 100k: 5,000 updates of existing entries and 5,000 new keys, in a random order (per-key path: the table fits in cache)',
      merge_1m:
        "merge_1m_into_1m_ms: a 1,000,000-key delta (every key of the table) in a random order into a 1,000,000-entry table, bucketed path (by home slot, probe, by entry, merge), median after 2 untimed warm-up runs (wall clock); cpu_ms: the process's CPU time over the same runs (the machine's cores are shared: wall minus cpu is waiting for a core); in_order: the same keys in the table's entry order; scratch: the reused bucket buffers (not part of the table's bytes)",
      encode_decode: 'one 10-entry delta, including Ed25519 sign / verify',
      repeat: o.repeat,
    },
    targets: {
      merge_delta_10k_into_100k_ms: 2,
      merge_1m_into_1m_ms: 50,
      bytes_sync_10_interactions: 512,
      bytes_full_10k: 100_000,
    },
  };
}

/** `elex bench federation`: merge times, wire sizes, memory per entry and codec / signature throughput. */
export function register(bench: Command): void {
  bench
    .command('federation')
    .description('federated Q-learning: merge times, delta sizes, bytes per entry, codec and signature rates')
    .option('--repeat <n>', 'repetitions of each merge; the median is reported', intOption(1, 200), 21)
    .option('--json', 'print one JSON object on stdout (the default)')
    .action((o: { repeat: number }) => {
      printJson(runFederationBench(o));
    });
}
