import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { defaultCatalog } from '../../node/catalog-file.js';
import { FAULT_KINDS, parseFaultKinds } from '../../sim/index.js';
import { runSwarm, type SwarmReport } from '../../sim/swarm/scenario.js';
import { choiceOption, dirOption, durationFlag, floatOption, intOption } from '../options.js';
import { prepareOutDir, printJson, writeReport } from '../output.js';
import { progress } from '../progress.js';
import { renderHtml } from '../report/html.js';

/** The largest --seed: each run of --runs is reported by its seed, replayed with --seed. */
const MAX_SEED = 2 ** 31 - 1;

interface SwarmCliOptions {
  seed: number;
  duration: number;
  queryRate: number;
  syncInterval: number;
  faults: string;
  byzantine: number;
  runs: number;
  gossip: 'pools' | 'core' | 'lite' | 'adapter';
  json?: boolean;
  quiet?: boolean;
  out?: string;
}

/** `elex simulate swarm` (the default): 14 coordinators on Raft, 593 feature agents, the issue-6 workload. */
export function register(simulate: Command): void {
  simulate
    .command('swarm', { isDefault: true })
    .description(
      'the whole swarm: 14 coordinators on Raft, 593 feature agents with heartbeats and federated learning',
    )
    .option('--seed <n>', 'root seed (the first seed with --runs)', intOption(0, MAX_SEED), 1)
    .addOption(durationFlag('--duration <d>', 'simulated time per run (e.g. 500ms, 60s, 10m, 1h)', '60s'))
    .option('--query-rate <q>', 'client queries per simulated second', floatOption(0, 10_000), 10)
    .addOption(
      durationFlag(
        '--sync-interval <d>',
        "an agent's federation round (ADR-115 sync_interval_ms; it also syncs after 10 interactions)",
        '60s',
        { positive: true },
      ),
    )
    .option('--faults <kinds>', `'none', 'all', or a comma list of ${FAULT_KINDS.join(', ')}`, 'all')
    .option('--byzantine <f>', 'fraction of malicious agents (poisoned deltas)', floatOption(0, 0.49), 0.1)
    .option('--runs <n>', 'run N consecutive seeds and print an aggregate', intOption(1, 100_000), 1)
    .option(
      '--gossip <impl>',
      "'pools' (default: src/gossip, a pool per category plus one of coordinators: health, Q-table deltas, patterns), 'core' (src/gossip, one pool of all 607 members; ~40x slower to simulate) or 'lite' (direct heartbeats + phi at the coordinator, direct deltas and patterns; alias 'adapter')",
      choiceOption(['pools', 'core', 'lite', 'adapter'] as const),
      'pools',
    )
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .option('--out <dir>', 'also write report.json and report.html into DIR (created if missing)', dirOption)
    .action((o: SwarmCliOptions) => {
      // Each run is reported by its seed, to replay with --seed: every one must be a seed --seed takes.
      if (o.seed + o.runs - 1 > MAX_SEED)
        throw new ElexError(
          'E_USAGE',
          `--runs ${o.runs} from --seed ${o.seed} goes past the largest seed, ${MAX_SEED} (at most --runs ${MAX_SEED - o.seed + 1})`,
        );
      const faults = parseFaultKinds(o.faults);
      if (o.out) prepareOutDir(o.out);
      const catalog = defaultCatalog();
      const one = (seed: number, onProgress?: (d: number, t: number) => void) =>
        runSwarm(
          {
            seed,
            durationMs: o.duration,
            queryRate: o.queryRate,
            syncIntervalMs: o.syncInterval,
            faults,
            byzantine: o.byzantine,
            catalog,
            gossip: o.gossip,
          },
          onProgress,
        );
      if (o.runs > 1) {
        const bar = progress('simulate swarm', o.quiet);
        const agg = aggregate(o, (i) => {
          bar.update(i, o.runs, 'runs');
          return one(o.seed + i);
        });
        bar.stop();
        if (o.out) process.stderr.write(`wrote ${writeReport(o.out, agg, campaignHtml(agg)).join(', ')}\n`);
        if (o.json) printJson(agg);
        else
          process.stdout.write(
            `${[
              `swarm: ${agg.runs} runs (seeds ${agg.seeds}), ${o.duration / 1000} s each, faults ${o.faults}`,
              `  invariant violations ${agg.invariant_violations}; hung ${agg.hung} (max per run ${agg.max_hung_per_run})`,
              `  conflict sets ${agg.conflict_sets.issued}: exactly one won ${agg.conflict_sets.exactly_one_won}, none committed ${agg.conflict_sets.none_committed}`,
              `  queries ${agg.queries.issued} issued, ${agg.queries.answered} answered, ${agg.queries.failed} failed`,
              `  speedup min ${agg.perf.min_sim_speedup}x, total wall ${agg.perf.wall_ms} ms`,
            ].join('\n')}\n`,
          );
        return;
      }
      const bar = progress('simulate swarm', o.quiet);
      const report = one(o.seed, (done, total) =>
        bar.update(Math.round(done / 1000), Math.round(total / 1000), 's simulated'),
      );
      bar.stop();
      if (o.out) {
        const paths = writeReport(o.out, report, swarmHtml(report));
        process.stderr.write(`wrote ${paths.join(', ')}\n`);
      }
      if (o.json) printJson(report);
      else process.stdout.write(summaryText(report, Boolean(o.out)));
    });
}

function aggregate(o: SwarmCliOptions, run: (i: number) => SwarmReport) {
  const perRun: Array<Record<string, unknown>> = [];
  let violations = 0;
  let hung = 0;
  let maxHung = 0;
  let issued = 0;
  let answered = 0;
  let failed = 0;
  let sets = 0;
  let one = 0;
  let none = 0;
  let wall = 0;
  let minSpeed = Number.POSITIVE_INFINITY;
  const samples: Array<{ seed: number; invariant: string; detail: string }> = [];
  for (let i = 0; i < o.runs; i++) {
    const r = run(i);
    // The total, not the kept list's length: a run keeps its first 50 violations only.
    violations += r.invariant_violations_total;
    for (const v of r.invariant_violations.slice(0, 3))
      if (samples.length < 20) samples.push({ seed: r.seed, invariant: v.invariant, detail: v.detail });
    hung += r.queries.hung;
    maxHung = Math.max(maxHung, r.queries.hung);
    issued += r.queries.issued;
    answered += r.queries.answered;
    failed += Object.values(r.queries.failed_by_reason).reduce((s, x) => s + x, 0);
    sets += r.activations.conflict_sets.issued;
    one += r.activations.conflict_sets.exactly_one_won;
    none += r.activations.conflict_sets.none_committed;
    wall += r.perf.wall_ms;
    minSpeed = Math.min(minSpeed, r.perf.sim_speedup);
    perRun.push({
      seed: r.seed,
      invariant_violations: r.invariant_violations_total,
      hung: r.queries.hung,
      issued: r.queries.issued,
      answered: r.queries.answered,
      conflict_sets: r.activations.conflict_sets,
      faults_injected: Object.values(r.faults_injected).reduce((s, x) => s + x, 0),
      trace_hash: r.trace_hash,
    });
  }
  return {
    scenario: 'swarm',
    runs: o.runs,
    seeds: `${o.seed}..${o.seed + o.runs - 1}`,
    duration_ms: o.duration,
    faults: o.faults,
    invariant_violations: violations,
    violation_samples: samples,
    hung,
    max_hung_per_run: maxHung,
    queries: { issued, answered, failed },
    conflict_sets: { issued: sets, exactly_one_won: one, none_committed: none },
    per_run: perRun,
    perf: { wall_ms: wall, min_sim_speedup: minSpeed },
  };
}

type Campaign = ReturnType<typeof aggregate>;

function campaignHtml(c: Campaign): string {
  const col = (k: string) => c.per_run.map((r) => [Number(r.seed), Number(r[k])] as [number, number]);
  return renderHtml({
    title: `elex simulate swarm, ${c.runs} runs (seeds ${c.seeds})`,
    summary: [
      ['simulated per run', `${c.duration_ms / 1000} s`],
      ['faults', c.faults],
      ['invariant violations', c.invariant_violations],
      [
        'queries issued / answered / failed',
        `${c.queries.issued} / ${c.queries.answered} / ${c.queries.failed}`,
      ],
      ['hung (max per run)', `${c.hung} (${c.max_hung_per_run})`],
      [
        'conflict sets (exactly one won / none committed)',
        `${c.conflict_sets.issued} (${c.conflict_sets.exactly_one_won} / ${c.conflict_sets.none_committed})`,
      ],
      ['wall / slowest speed-up', `${c.perf.wall_ms} ms / ${c.perf.min_sim_speedup}x`],
    ],
    charts: [
      {
        title: 'Queries per run',
        xLabel: 'seed',
        yLabel: 'queries',
        series: [
          { name: 'issued', points: col('issued') },
          { name: 'answered', points: col('answered') },
        ],
      },
      {
        title: 'Invariant violations and hung queries per run',
        xLabel: 'seed',
        yLabel: 'count',
        kind: 'step',
        series: [
          { name: 'violations', points: col('invariant_violations') },
          { name: 'hung', points: col('hung') },
        ],
      },
    ],
    tables: [
      {
        title: 'Runs',
        header: ['seed', 'violations', 'hung', 'issued', 'answered', 'faults injected', 'trace hash'],
        rows: c.per_run.map((r) =>
          ['seed', 'invariant_violations', 'hung', 'issued', 'answered', 'faults_injected', 'trace_hash'].map(
            (k) => String(r[k]),
          ),
        ),
      },
    ],
    report: c,
  });
}

function summaryText(r: SwarmReport, wrote: boolean): string {
  const q = r.queries;
  const fails = Object.entries(q.failed_by_reason)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const rej = Object.entries(r.activations.rejected_by_reason)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const cs = r.activations.conflict_sets;
  return `${[
    `swarm: ${r.options.coordinators} coordinators (Raft, quorum ${r.raft.quorum}) + ${r.options.agents} agents, ${r.duration_ms / 1000} s simulated, seed ${r.seed}`,
    `  invariant violations: ${r.invariant_violations_total}${r.invariant_violations.length ? ` (${r.invariant_violations[0].invariant}: ${r.invariant_violations[0].detail})` : ''}`,
    `  queries ${q.issued} issued, ${q.answered} answered, hung ${q.hung}; failed: ${fails || 'none'}`,
    `  latency ms intra p50 ${q.latency_ms.intra.p50} p99 ${q.latency_ms.intra.p99}; cross p50 ${q.latency_ms.cross.p50} p99 ${q.latency_ms.cross.p99}`,
    `  activations accepted ${r.activations.accepted}, rejected: ${rej || 'none'}; conflict sets ${cs.issued}, exactly one won ${cs.exactly_one_won}`,
    `  raft term ${r.raft.final_term}, ${r.raft.leader_changes} leader changes, commit p50 ${r.raft.commit_latency_ms.p50} ms p99 ${r.raft.commit_latency_ms.p99} ms`,
    `  agent crashes detected ${r.gossip.failure_detection.agent_crashes_detected} (p50 ${r.gossip.failure_detection.detection_ms.p50} ms, ${r.options.gossip === 'lite' ? 'sampled per second' : "from the coordinators' gossip events"}); policy quality ${r.learning.initial_quality} → ${r.learning.final_quality} (${r.learning.byzantine_agents} byzantine agents)`,
    `  ${r.events} events in ${r.perf.wall_ms} ms (${r.perf.sim_speedup}x real time)`,
    wrote ? '' : '  (--json for the full report, --out DIR for report.json and report.html)',
  ]
    .filter(Boolean)
    .join('\n')}\n`;
}

function swarmHtml(r: SwarmReport): string {
  const tl = r.timeline;
  const pts = (ys: readonly number[]) => ys.map((y, i) => [tl.t_s[i], y] as [number, number]);
  return renderHtml({
    title: `elex simulate swarm, seed ${r.seed}`,
    summary: [
      ['coordinators / agents', `${r.options.coordinators} / ${r.options.agents}`],
      ['simulated', `${r.duration_ms / 1000} s`],
      ['invariant violations', r.invariant_violations_total],
      ['queries issued / answered / hung', `${r.queries.issued} / ${r.queries.answered} / ${r.queries.hung}`],
      ['activations accepted', r.activations.accepted],
      [
        'conflict sets (exactly one won)',
        `${r.activations.conflict_sets.issued} (${r.activations.conflict_sets.exactly_one_won})`,
      ],
      ['final term / leader changes', `${r.raft.final_term} / ${r.raft.leader_changes}`],
      ['policy quality', `${r.learning.initial_quality} → ${r.learning.final_quality}`],
      ['trace hash', r.trace_hash],
      ['speed-up', `${r.perf.sim_speedup}x`],
    ],
    charts: [
      {
        title: 'Raft leader (coordinator index, −1 = none) and term',
        xLabel: 'time (s)',
        yLabel: 'value',
        kind: 'step',
        series: [
          { name: 'leader', points: pts(tl.leader) },
          { name: 'term', points: pts(tl.term) },
        ],
      },
      {
        title: 'Commit index (entries committed)',
        xLabel: 'time (s)',
        yLabel: 'index',
        series: [{ name: 'commit index', points: pts(tl.commit_index) }],
      },
      {
        title: 'Membership: agents up vs agents their coordinator sees alive (phi < 8)',
        xLabel: 'time (s)',
        yLabel: 'agents',
        kind: 'step',
        series: [
          { name: 'up', points: pts(tl.agents_up) },
          { name: 'seen alive', points: pts(tl.agents_seen_alive) },
        ],
      },
      {
        title: 'Queries answered and failed per second',
        xLabel: 'time (s)',
        yLabel: 'queries/s',
        series: [
          { name: 'answered', points: pts(tl.queries_answered) },
          { name: 'failed', points: pts(tl.queries_failed) },
        ],
      },
      {
        title: `Commit latency, worst per second (ms; overall p50 ${r.raft.commit_latency_ms.p50}, p99 ${r.raft.commit_latency_ms.p99})`,
        xLabel: 'time (s)',
        yLabel: 'ms',
        series: [{ name: 'commit (propose → applied)', points: pts(tl.commit_latency_max_ms) }],
      },
      {
        title: `Query latency, worst per second (ms; intra p50 ${r.queries.latency_ms.intra.p50} p99 ${r.queries.latency_ms.intra.p99}, cross p50 ${r.queries.latency_ms.cross.p50} p99 ${r.queries.latency_ms.cross.p99})`,
        xLabel: 'time (s)',
        yLabel: 'ms',
        series: [{ name: 'query', points: pts(tl.query_latency_max_ms) }],
      },
      {
        title:
          'Policy quality: share of (query type, complexity) states whose greedy action is the ideal one',
        xLabel: 'time (s)',
        yLabel: 'quality',
        series: [
          {
            name: 'honest agents',
            points: r.learning.policy_quality.map(([t, q]) => [t, q] as [number, number]),
          },
        ],
      },
    ],
    report: r,
  });
}
