import type { Command } from 'commander';
import { benchSim } from '../../sim/index.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';

/** `elex bench sim`: raw simulator throughput (event queue + network model) on a 600-node ping-pong. */
export function register(bench: Command): void {
  bench
    .command('sim')
    .description('simulator events per second on a message ping-pong among simulated nodes')
    .option('--nodes <n>', 'simulated nodes', intOption(2, 100_000), 600)
    .option('--events <n>', 'events to process per repetition', intOption(1000, 1_000_000_000), 3_000_000)
    .option('--in-flight <n>', 'messages bouncing per node', intOption(1, 64), 1)
    .option('--repeat <n>', 'repetitions; the median is reported', intOption(1, 50), 3)
    .option('--json', 'print one JSON object on stdout (the default)')
    .action((o: { nodes: number; events: number; inFlight: number; repeat: number; json?: boolean }) => {
      printJson(runSimBench(o));
    });
}

export function runSimBench(o: { nodes: number; events: number; inFlight: number; repeat: number }) {
  const runs = [];
  for (let i = 0; i < o.repeat; i++) {
    runs.push(benchSim({ nodes: o.nodes, events: o.events, inFlight: o.inFlight, seed: i + 1 }));
  }
  const rates = runs.map((r) => r.events_per_s).sort((a, b) => a - b);
  return {
    events_per_s: rates[Math.floor(rates.length / 2)],
    nodes: o.nodes,
    in_flight_per_node: o.inFlight,
    events_per_run: runs[0].events,
    runs: rates,
    target_events_per_s: 2_000_000,
  };
}
