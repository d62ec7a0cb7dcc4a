import type { Command } from 'commander';
import { FAULT_KINDS, parseFaultKinds } from '../../sim/index.js';
import { runBasic } from '../../sim/scenarios/basic.js';
import { dirOption, durationFlag, intOption } from '../options.js';
import { prepareOutDir, printJson, writeReport } from '../output.js';
import { progress } from '../progress.js';
import { renderHtml } from '../report/html.js';

/**
 * `elex simulate basic`: nodes exchanging messages under a seeded fault schedule, with full accounting.
 * The default scenario until the swarm scenario exists.
 */
export function register(simulate: Command): void {
  simulate
    .command('basic')
    .description(
      "nodes exchanging messages under a seeded random fault schedule (the simulator's own scenario)",
    )
    .option('--seed <n>', 'root seed', intOption(0, 2 ** 31 - 1), 1)
    .option('--nodes <n>', 'simulated nodes', intOption(2, 10_000), 607)
    .addOption(durationFlag('--duration <d>', 'simulated time (e.g. 500ms, 60s, 10m, 1h)', '60s'))
    .option('--faults <kinds>', `'none', 'all', or a comma list of ${FAULT_KINDS.join(', ')}`, 'all')
    .addOption(
      durationFlag('--send-interval <d>', "mean interval between one node's sends", '1s', { positive: true }),
    )
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .option('--out <dir>', 'also write report.json and report.html into DIR (created if missing)', dirOption)
    .action(
      (o: {
        seed: number;
        nodes: number;
        duration: number;
        faults: string;
        sendInterval: number;
        json?: boolean;
        quiet?: boolean;
        out?: string;
      }) => {
        const faults = parseFaultKinds(o.faults);
        if (o.out) prepareOutDir(o.out);
        const bar = progress('simulate basic', o.quiet);
        const report = runBasic(
          {
            seed: o.seed,
            nodes: o.nodes,
            durationMs: o.duration,
            faults,
            sendIntervalMs: o.sendInterval,
          },
          (done, total) => bar.update(Math.round(done / 1000), Math.round(total / 1000), 's simulated'),
        );
        bar.stop();
        if (o.out) {
          const html = basicHtml(report);
          const paths = writeReport(o.out, report, html);
          process.stderr.write(`wrote ${paths.join(', ')}\n`);
        }
        if (o.json) printJson(report);
        else {
          const n = report.network;
          const faults = Object.entries(report.faults_injected)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          process.stdout.write(
            `${[
              `basic scenario: ${report.nodes} nodes, ${report.duration_ms / 1000} s simulated, seed ${report.seed}`,
              `  messages ${n.messages} sent, ${n.delivered} delivered, ${n.duplicated} duplicated; dropped: loss ${n.dropped.loss}, partition ${n.dropped.partition}, down ${n.dropped.down}`,
              `  faults: ${faults || 'none'}`,
              `  trace ${report.trace_hash}; ${report.events} events in ${report.perf.wall_ms} ms (${report.perf.sim_speedup}x real time)`,
              o.out ? '' : '  (--json for the full report, --out DIR for report.json and report.html)',
            ]
              .filter(Boolean)
              .join('\n')}\n`,
          );
        }
      },
    );
}

function basicHtml(r: ReturnType<typeof runBasic>): string {
  const tl = r.timeline;
  const pts = (ys: number[]) => ys.map((y, i) => [tl.t_s[i], y] as const);
  return renderHtml({
    title: `elex simulate basic, seed ${r.seed}`,
    summary: [
      ['nodes', r.nodes],
      ['simulated', `${r.duration_ms / 1000} s`],
      ['messages sent / delivered', `${r.network.messages} / ${r.network.delivered}`],
      [
        'dropped (loss / partition / down)',
        `${r.network.dropped.loss} / ${r.network.dropped.partition} / ${r.network.dropped.down}`,
      ],
      [
        'faults injected',
        Object.entries(r.faults_injected)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none',
      ],
      ['trace hash', r.trace_hash],
    ],
    charts: [
      {
        title: 'Messages delivered per simulated second',
        xLabel: 'time (s)',
        yLabel: 'messages/s',
        series: [{ name: 'delivered', points: pts(tl.delivered_per_s) }],
      },
      {
        title: 'Nodes up and active partitions',
        xLabel: 'time (s)',
        yLabel: 'count',
        kind: 'step',
        series: [
          { name: 'nodes up', points: pts(tl.nodes_up) },
          { name: 'partitions', points: pts(tl.partitions) },
        ],
      },
    ],
    report: r,
  });
}
